import COpenBLAS

/// Matrix products on OpenBLAS. Transposed views are passed to gemm as transposes, not copied.
extension Tensor {
    /// How gemm can read this 2-d view: (needsTranspose, leadingDim), or nil if it must be copied.
    func gemmLayout() -> (Bool, Int)? {
        guard dim == 2 else { return nil }
        let (r, c) = (shape[0], shape[1])
        if strides[1] == 1 && (strides[0] >= max(1, c) || r == 1) { return (false, max(strides[0], max(1, c))) }
        if strides[0] == 1 && (strides[1] >= max(1, r) || c == 1) { return (true, max(strides[1], max(1, r))) }
        return nil
    }

    /// C = A B for 2-d views (no autograd).
    public static func mmKernel(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try require(a.dim == 2 && b.dim == 2, "mm expects 2-d tensors, got \(shapeString(a.shape)) and \(shapeString(b.shape))")
        try require(a.shape[1] == b.shape[0], "size mismatch, \(shapeString(a.shape)) times \(shapeString(b.shape))")
        let dt = DType.promote(a.dtype, b.dtype)
        var a = try a.to(dt), b = try b.to(dt)
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        let out = try Tensor(shape: [m, n], dtype: dt, zeroed: true)
        if m == 0 || n == 0 || k == 0 { return out }
        if a.gemmLayout() == nil { a = try a.contiguous() }
        if b.gemmLayout() == nil { b = try b.contiguous() }
        let (ta, lda) = a.gemmLayout()!, (tb, ldb) = b.gemmLayout()!
        let tA = ta ? CblasTrans : CblasNoTrans, tB = tb ? CblasTrans : CblasNoTrans
        switch dt {
        case .float32:
            cblas_sgemm(CblasRowMajor, tA, tB, Int32(m), Int32(n), Int32(k), 1,
                        a.base(Float.self), Int32(lda), b.base(Float.self), Int32(ldb), 0,
                        out.base(Float.self), Int32(n))
        case .float64:
            cblas_dgemm(CblasRowMajor, tA, tB, Int32(m), Int32(n), Int32(k), 1,
                        a.base(Double.self), Int32(lda), b.base(Double.self), Int32(ldb), 0,
                        out.base(Double.self), Int32(n))
        }
        return out
    }

    public func mm(_ other: Tensor) throws -> Tensor {
        let a = self, b = other
        let out = try Tensor.mmKernel(a, b)
        return out.recorded("mm", [a, b]) { g in
            [a.requiresGrad ? try Tensor.mmKernel(g, b.transpose(0, 1)) : nil,
             b.requiresGrad ? try Tensor.mmKernel(a.transpose(0, 1), g) : nil]
        }
    }
}

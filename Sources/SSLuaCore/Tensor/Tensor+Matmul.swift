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
        // gemm writes every element of the output, also with an empty inner dimension
        let out = try Tensor(shape: [a.shape[0], b.shape[1]], dtype: dt, zeroed: false)
        try gemm(a.to(dt), b.to(dt), into: out, offset: 0)
        return out
    }

    /// Writes A B (2-d views of `c`'s dtype) into the row-major block of contiguous `c`
    /// starting at element `offset`. Transposed views go to BLAS as transposes, not copies.
    /// An empty inner dimension (k = 0) writes zeros: the block is never left as it was.
    static func gemm(_ a: Tensor, _ b: Tensor, into c: Tensor, offset: Int) throws {
        var a = a, b = b
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        if m == 0 || n == 0 { return }
        if k == 0 {
            switch c.dtype {
            case .float32: (c.base(Float.self) + offset).update(repeating: 0, count: m * n)
            case .float64: (c.base(Double.self) + offset).update(repeating: 0, count: m * n)
            }
            return
        }
        if a.gemmLayout() == nil { a = try a.contiguous() }
        if b.gemmLayout() == nil { b = try b.contiguous() }
        guard let (ta, lda) = a.gemmLayout(), let (tb, ldb) = b.gemmLayout() else {
            throw SSLuaError("internal: no gemm layout for \(shapeString(a.shape)) times \(shapeString(b.shape))")
        }
        try require([m, n, k, lda, ldb].allSatisfy { $0 < Int(Int32.max) }, "matrices too large for BLAS (32-bit sizes)")
        let tA = ta ? CblasTrans : CblasNoTrans, tB = tb ? CblasTrans : CblasNoTrans
        switch c.dtype {
        case .float32:
            cblas_sgemm(CblasRowMajor, tA, tB, Int32(m), Int32(n), Int32(k), 1,
                        a.base(Float.self), Int32(lda), b.base(Float.self), Int32(ldb), 0,
                        c.base(Float.self) + offset, Int32(n))
        case .float64:
            cblas_dgemm(CblasRowMajor, tA, tB, Int32(m), Int32(n), Int32(k), 1,
                        a.base(Double.self), Int32(lda), b.base(Double.self), Int32(ldb), 0,
                        c.base(Double.self) + offset, Int32(n))
        }
    }

    public func mm(_ other: Tensor) throws -> Tensor {
        try Tensor.recordedProduct("mm", self, other, transposing: (0, 1), Tensor.mmKernel)
    }

    /// `kernel(a, b)` in the graph as a product: dA = kernel(g, B^T), dB = kernel(A^T, g),
    /// the transposes over the dimensions `transposing` (the last two).
    static func recordedProduct(_ name: String, _ a: Tensor, _ b: Tensor, transposing d: (Int, Int),
                                _ kernel: @escaping (Tensor, Tensor) throws -> Tensor) throws -> Tensor {
        let out = try kernel(a, b)
        return out.recorded(name, [a, b]) { g in
            [a.requiresGrad ? try kernel(g, b.transpose(d.0, d.1)) : nil,
             b.requiresGrad ? try kernel(a.transpose(d.0, d.1), g) : nil]
        }
    }
}

/// Batched and generalised products: `bmm`, `matmul` (torch.matmul's rules), `outer`, `dot`.
extension Tensor {
    /// C[i] = A[i] B[i] for 3-d views (no autograd); each batch is one gemm on strided views.
    public static func bmmKernel(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try require(a.dim == 3 && b.dim == 3, "bmm expects 3-d tensors, got \(shapeString(a.shape)) and \(shapeString(b.shape))")
        try require(a.shape[0] == b.shape[0], "batch sizes differ, \(shapeString(a.shape)) and \(shapeString(b.shape))")
        try require(a.shape[2] == b.shape[1], "size mismatch, \(shapeString(a.shape)) times \(shapeString(b.shape))")
        let dt = DType.promote(a.dtype, b.dtype)
        let a = try a.to(dt), b = try b.to(dt)
        let out = try Tensor(shape: [a.shape[0], a.shape[1], b.shape[2]], dtype: dt, zeroed: false)
        for i in 0..<a.shape[0] {
            let ai = a.view(shape: [a.shape[1], a.shape[2]], strides: [a.strides[1], a.strides[2]], offset: a.offset + i * a.strides[0])
            let bi = b.view(shape: [b.shape[1], b.shape[2]], strides: [b.strides[1], b.strides[2]], offset: b.offset + i * b.strides[0])
            try gemm(ai, bi, into: out, offset: i * a.shape[1] * b.shape[2])
        }
        return out
    }

    public func bmm(_ other: Tensor) throws -> Tensor {
        try Tensor.recordedProduct("bmm", self, other, transposing: (1, 2), Tensor.bmmKernel)
    }

    /// torch.matmul: 1-d x 1-d is a dot product, a 1-d operand is a row (left) or a column
    /// (right) that is removed from the result, and leading batch dimensions broadcast.
    public func matmul(_ other: Tensor) throws -> Tensor {
        let a = self, b = other
        try require(a.dim >= 1 && b.dim >= 1, "both arguments need at least 1 dimension, got \(shapeString(a.shape)) and \(shapeString(b.shape))")
        if a.dim == 1 && b.dim == 1 { return try a.dot(b) }
        if a.dim <= 2 && b.dim <= 2 {
            let a2 = a.dim == 1 ? try a.unsqueeze(0) : a
            let b2 = b.dim == 1 ? try b.unsqueeze(1) : b
            try require(a2.shape[1] == b2.shape[0], "size mismatch, \(shapeString(a.shape)) times \(shapeString(b.shape))")
            var r = try a2.mm(b2)
            if b.dim == 1 { r = try r.squeeze(1) }
            if a.dim == 1 { r = try r.squeeze(0) }
            return r
        }
        let a2 = a.dim == 1 ? try a.unsqueeze(0) : a
        let b2 = b.dim == 1 ? try b.unsqueeze(1) : b
        let (n, k) = (a2.shape[a2.dim - 2], a2.shape[a2.dim - 1])
        let (k2, m) = (b2.shape[b2.dim - 2], b2.shape[b2.dim - 1])
        try require(k == k2, "size mismatch, \(shapeString(a.shape)) times \(shapeString(b.shape))")
        var r: Tensor
        if b2.dim == 2 {
            // (..., n, k) x (k, m): fold the batch into the rows, one gemm
            let batch = Array(a2.shape.dropLast(2))
            // (an explicit row count, not -1: with k = 0 the -1 could not be inferred)
            r = try a2.reshape([try checkedProduct(checkedCount(batch), n), k]).mm(b2).reshape(batch + [n, m])
        } else {
            let batch = try broadcastShapes(Array(a2.shape.dropLast(2)), Array(b2.shape.dropLast(2)))
            let bsz = try checkedCount(batch)
            let ae = try a2.expand(batch + [n, k]).reshape([bsz, n, k])
            let be = try b2.expand(batch + [k, m]).reshape([bsz, k, m])
            r = try ae.bmm(be).reshape(batch + [n, m])
        }
        if b.dim == 1 { r = try r.squeeze(r.dim - 1) }
        if a.dim == 1 { r = try r.squeeze(r.dim - (b.dim == 1 ? 1 : 2)) }
        return r
    }

    /// Outer product of two vectors.
    public func outer(_ other: Tensor) throws -> Tensor {
        try require(dim == 1 && other.dim == 1, "outer expects 1-d tensors, got \(shapeString(shape)) and \(shapeString(other.shape))")
        return try unsqueeze(1).mul(other.unsqueeze(0))
    }

    /// Inner product of two vectors of the same length, as a 0-d tensor.
    public func dot(_ other: Tensor) throws -> Tensor {
        try require(dim == 1 && other.dim == 1, "dot expects 1-d tensors, got \(shapeString(shape)) and \(shapeString(other.shape))")
        try require(shape[0] == other.shape[0], "inconsistent tensor size, \(shapeString(shape)) and \(shapeString(other.shape))")
        return try mul(other).sum()
    }
}

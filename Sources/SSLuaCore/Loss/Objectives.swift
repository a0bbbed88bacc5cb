/// Pieces shared by the non-contrastive objectives (VICReg, Barlow Twins, BYOL, MoCo): float64
/// working copies of the batches, buffers allocated as tensors (so an impossible size is an
/// error, never a trap), and the gradient handed back in the input's dtype.
enum Objectives {
    /// A contiguous float64 copy of a detached tensor (a new buffer: the kernels write to it).
    static func work(_ t: Tensor) throws -> Tensor {
        let out = try Tensor(shape: t.shape, dtype: .float64, zeroed: false)
        try out.copyIn(t.detach())
        return out
    }

    /// A zeroed float64 buffer.
    static func buffer(_ shape: [Int]) throws -> Tensor {
        try Tensor(shape: shape, dtype: .float64, zeroed: true)
    }

    /// The scalar loss in the promoted dtype of the inputs.
    static func scalar(_ v: Double, _ inputs: [Tensor]) throws -> Tensor {
        let dt = inputs.dropFirst().reduce(inputs[0].dtype) { DType.promote($0, $1.dtype) }
        return try Tensor.scalar(v, dtype: dt)
    }

    /// c (d x d) = alpha a^T b for row-major n x d a and b.
    static func atb(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int, _ d: Int,
                    _ alpha: Double, into c: UnsafeMutablePointer<Double>) {
        BLAS.gemm(true, false, d, d, n, alpha, a, d, b, d, 0, c, d)
    }

    /// Centres the columns of x (n x d) in place; returns nothing (means are not needed).
    static func centerColumns(_ x: UnsafeMutablePointer<Double>, _ n: Int, _ d: Int) {
        for j in 0..<d {
            var s = 0.0
            for i in 0..<n { s += x[i * d + j] }
            let m = s / Double(n)
            for i in 0..<n { x[i * d + j] -= m }
        }
    }

    /// The gradient buffer `g` scaled by `s`, in `like`'s dtype, or nil when `like` needs none.
    static func grad(_ g: Tensor, _ s: Double, like: Tensor) throws -> Tensor? {
        guard like.requiresGrad else { return nil }
        let p = g.base(Double.self)
        let out = try Tensor(shape: like.shape, dtype: .float64, zeroed: false)
        let o = out.base(Double.self)
        for i in 0..<g.numel { o[i] = p[i] * s }
        return try out.to(like.dtype)
    }
}

/// Pieces shared by the fused contrastive kernels (InfoNCE, its terms, the upper bound, the
/// nearest negatives): the 2N pool `[a; b]`, row normalisation as `F.normalize` (x / max(||x||,
/// 1e-12)) and its backward.
enum Contrastive {
    static let eps = 1e-12

    /// Checks a pair of N x d batches; returns (N, d).
    static func checkPair(_ a: Tensor, _ b: Tensor, _ names: (String, String) = ("z1", "z2"),
                          minN: Int = 2) throws -> (Int, Int) {
        try require(a.dim == 2, "\(names.0) must be a 2-d batch N x d, got size \(shapeString(a.shape))")
        try require(b.dim == 2, "\(names.1) must be a 2-d batch N x d, got size \(shapeString(b.shape))")
        try require(a.shape == b.shape,
                    "\(names.0) and \(names.1) must have the same size, got \(shapeString(a.shape)) and \(shapeString(b.shape))")
        try require(a.shape[0] >= minN, "needs a batch of N >= \(minN) pairs, got N = \(a.shape[0])")
        try require(a.shape[1] >= 1, "features have dimension 0")
        try requireLapackSize(2 * a.shape[0], a.shape[1])
        return (a.shape[0], a.shape[1])
    }

    /// A new contiguous (2N) x d tensor `[a; b]` in `dt`.
    static func pool(_ a: Tensor, _ b: Tensor, _ dt: DType) throws -> Tensor {
        let n = a.shape[0]
        let out = try Tensor(shape: [2 * n] + Array(a.shape.dropFirst()), dtype: dt, zeroed: false)
        try out.narrow(0, 0, n).copyIn(a.detach())
        try out.narrow(0, n, n).copyIn(b.detach())
        return out
    }

    /// The pool `[a; b]` in `dt` with its rows L2-normalised, and the norms before clamping
    /// (the normalisation's backward needs them).
    static func normalizedPool(_ a: Tensor, _ b: Tensor, _ dt: DType) throws -> (f: Tensor, norms: Tensor) {
        let f = try pool(a, b, dt)
        let rows = f.shape[0], d = f.shape[1]
        let norms = try Tensor(shape: [rows], dtype: dt, zeroed: false)
        switch dt {
        case .float32: normalizeRows(f.base(Float.self), rows, d, norms.base(Float.self))
        case .float64: normalizeRows(f.base(Double.self), rows, d, norms.base(Double.self))
        }
        return (f, norms)
    }

    /// Normalises the rows of p (rows x d) in place; writes the norms (before clamping).
    static func normalizeRows<T: TensorScalar>(_ p: UnsafeMutablePointer<T>, _ rows: Int, _ d: Int,
                                               _ norms: UnsafeMutablePointer<T>) {
        Parallel.forRange(rows, grain: max(1, 8192 / max(d, 1))) { lo, hi in
            for r in lo..<hi {
                let row = p + r * d
                var s: T = 0
                for k in 0..<d { s += row[k] * row[k] }
                let nr = s.squareRoot()
                norms[r] = nr
                let inv = 1 / Swift.max(nr, T(eps))
                for k in 0..<d { row[k] *= inv }
            }
        }
    }

    /// Turns df (gradient w.r.t. the normalised rows f) into the gradient w.r.t. the raw rows,
    /// in place: (df - f (f.df)) / ||z||, or df / eps for rows with ||z|| < eps.
    static func normalizeBackward<T: TensorScalar>(_ df: UnsafeMutablePointer<T>, _ f: UnsafePointer<T>,
                                                   _ norms: UnsafePointer<T>, _ rows: Int, _ d: Int) {
        Parallel.forRange(rows, grain: max(1, 8192 / max(d, 1))) { lo, hi in
            for r in lo..<hi {
                let g = df + r * d, x = f + r * d
                let nr = norms[r]
                if nr < T(eps) {
                    let inv = 1 / T(eps)
                    for k in 0..<d { g[k] *= inv }
                    continue
                }
                var dot: T = 0
                for k in 0..<d { dot += x[k] * g[k] }
                let inv = 1 / nr
                for k in 0..<d { g[k] = (g[k] - x[k] * dot) * inv }
            }
        }
    }

    /// Splits a (2N) x ... gradient into the gradients of the two halves, in their dtypes.
    static func split(_ g: Tensor, _ a: Tensor, _ b: Tensor) throws -> [Tensor?] {
        let n = a.shape[0]
        let ga = try g.narrow(0, 0, n).contiguous().to(a.dtype)
        let gb = try g.narrow(0, n, n).contiguous().to(b.dtype)
        return [a.requiresGrad ? ga : nil, b.requiresGrad ? gb : nil]
    }
}

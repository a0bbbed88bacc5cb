import RealModule

/// Lie-group models of augmentations (paper Sec. 4, App. B): x' = expm(eps G) x.
public enum Lie {
    /// The SO(2) rotation [[cos t, -sin t], [sin t, cos t]].
    public static func so2(_ theta: Double, dtype: DType = .float32) throws -> Tensor {
        try Tensor.from([Double.cos(theta), -Double.sin(theta), Double.sin(theta), Double.cos(theta)],
                        shape: [2, 2], dtype: dtype)
    }

    /// A random d x d generator. Entries of the factors are N(0, 1/d).
    /// - `skew`: G = A - A^T (a generator of rotations: expm(tG) is orthogonal).
    /// - `rank = r`: G = U V^T with U, V d x r (skew: A = U V^T with r/2 columns, r even), so
    ///   the generator moves points only within an r-dimensional subspace.
    public static func randomGenerator(_ d: Int, rank: Int? = nil, skew: Bool = false, rng: RNG,
                                       dtype: DType = .float32) throws -> Tensor {
        try require(d >= 1 && d <= 4096, "dimension must be in 1...4096, got \(d)")
        let r = rank ?? d
        try require(r >= 0 && r <= d, "rank must be in 0...\(d), got \(r)")
        if skew { try require(r % 2 == 0 || rank == nil, "a skew-symmetric generator has even rank, got rank = \(r)") }
        let sd = 1 / Double(d).squareRoot()
        var g = try [Double](failableRepeating: 0, count: d * d)
        if rank == nil {
            for i in 0..<(d * d) { g[i] = rng.normal() * sd }
        } else {
            let k = skew ? r / 2 : r
            var u = try [Double](failableRepeating: 0, count: d * k, "a generator factor")
            var v = try [Double](failableRepeating: 0, count: d * k, "a generator factor")
            for i in 0..<(d * k) { u[i] = rng.normal() * sd }
            for i in 0..<(d * k) { v[i] = rng.normal() * sd }
            if k > 0 {
                u.withUnsafeBufferPointer { up in v.withUnsafeBufferPointer { vp in g.withUnsafeMutableBufferPointer { gp in
                    BLAS.gemm(false, true, d, d, k, 1.0, up.baseAddress!, k, vp.baseAddress!, k, 0.0, gp.baseAddress!, d)
                } } }
            }
        }
        if skew {
            var a = try [Double](failableRepeating: 0, count: d * d, "a skew generator")
            for i in 0..<d { for j in 0..<d { a[i * d + j] = g[i * d + j] - g[j * d + i] } }
            g = a
        }
        return try Tensor.from(g, shape: [d, d], dtype: dtype)
    }

    /// expm(eps_k G) x for each eps_k: x of size [d] gives [K, d]; rows of x ([n, d]) give [K, n, d].
    public static func orbit(_ x: Tensor, _ g: Tensor, _ eps: [Double]) throws -> Tensor {
        try require(g.dim == 2 && g.shape[0] == g.shape[1], "G must be a square d x d generator, got size \(shapeString(g.shape))")
        let d = g.shape[0]
        try require((x.dim == 1 || x.dim == 2) && x.shape.last == d,
                    "x must be a vector of size \(d) or n x \(d) rows, got size \(shapeString(x.shape))")
        let rows = x.dim == 1 ? 1 : x.shape[0]
        let gv = try Linalg.squareMatrix(g, "G")
        // d and the count of eps come from the caller: every scratch array is failable
        let gp = try Memory.array(gv.base(Double.self), count: d * d, "the generator")
        var ge = try [Double](failableRepeating: 0, count: d * d, "eps G")
        let xv = try x.toDoubles()
        var out = try [Double](failableRepeating: 0, count: eps.count * rows * d, "the orbit")
        for (k, e) in eps.enumerated() {
            try require(e.isFinite, "eps must be finite, got \(e)")
            for i in 0..<(d * d) { ge[i] = gp[i] * e }
            let m = try Linalg.expmDouble(ge, d)
            // out_row = M x_row
            for r in 0..<rows { for i in 0..<d {
                var s = 0.0
                for j in 0..<d { s += m[i * d + j] * xv[r * d + j] }
                out[(k * rows + r) * d + i] = s
            } }
            try Parallel.checkInterrupt()
        }
        let shape = x.dim == 1 ? [eps.count, d] : [eps.count, rows, d]
        return try Tensor.from(out, shape: shape, dtype: DType.promote(x.dtype, g.dtype))
    }

    /// How far the columns of G are from Ker(W^T), W d_enc x d_proj, G d_enc x k:
    ///   ||W^T G||_F / (||W||_F ||G||_F)  in [0, 1];
    /// 0 exactly when every column of G lies in Ker(W^T) (Props. 4.1, 4.3), and by
    /// Cauchy-Schwarz at most 1. Scale-free in both W and G.
    public static func kernelAlignment(_ w: Tensor, _ g: Tensor) throws -> Double {
        try require(w.dim == 2, "W must be d_enc x d_proj, got size \(shapeString(w.shape))")
        try require(g.dim == 2 || g.dim == 1, "G must be a d_enc x k matrix (or a vector), got size \(shapeString(g.shape))")
        try require(g.shape[0] == w.shape[0],
                    "G has \(g.shape[0]) rows but W is \(shapeString(w.shape)): both must have d_enc rows")
        let wd = try Linalg.matrix(w, "W")
        let gd = try Linalg.matrix(g.dim == 1 ? g.reshape([g.shape[0], 1]) : g, "G")
        let e = w.shape[0], p = w.shape[1], k = gd.shape[1]
        let wg = try Tensor(shape: [p, k], dtype: .float64, zeroed: false)
        BLAS.gemm(true, false, p, k, e, 1.0, wd.base(Double.self), p, gd.base(Double.self), k, 0.0, wg.base(Double.self), k)
        func fro(_ t: Tensor) -> Double {
            let q = t.base(Double.self); var s = 0.0
            for i in 0..<t.numel { s += q[i] * q[i] }
            return s.squareRoot()
        }
        let nw = fro(wd), ng = fro(gd)
        try require(nw > 0, "W is zero: its kernel is everything and the alignment is undefined")
        try require(ng > 0, "G is zero")
        return fro(wg) / (nw * ng)
    }
}

import CLapacke

/// Least squares, pseudo-inverse and determinant (`sslua.linalg.lstsq`, `pinv`, `det`).
extension Linalg {
    /// Minimum-norm solution of min ||A X - B|| (dgelsd; singular values below
    /// eps * max(m, n) * sigma_1 are treated as zero, as NumPy's default `rcond`).
    /// B may be a vector of length m; returns X (n or n x nrhs) and the effective rank.
    public static func lstsq(_ a: Tensor, _ b: Tensor) throws -> (Tensor, Int) {
        let x = try matrix(a, "A")
        let m = a.shape[0], n = a.shape[1]
        try require(b.dim == 1 || b.dim == 2, "B must be a vector or a matrix, got size \(shapeString(b.shape))")
        try require(b.shape[0] == m, "A is \(shapeString(a.shape)) but B has \(b.shape[0]) rows")
        let nrhs = b.dim == 2 ? b.shape[1] : 1
        try require(nrhs > 0, "B has no columns")
        let bm = try matrix(b.dim == 2 ? b : b.reshape([m, 1]), "B")
        let rows = Swift.max(m, n)
        let bb = try Tensor(shape: [rows, nrhs], dtype: .float64, zeroed: true)
        try bb.narrow(0, 0, m).copyIn(bm)
        var s = try [Double](failableRepeating: 0, count: Swift.min(m, n))
        var rank: lapack_int = 0
        let rcond = Double.ulpOfOne * Double(rows)
        try check(LAPACKE_dgelsd(LAPACK_ROW_MAJOR, lapack_int(m), lapack_int(n), lapack_int(nrhs),
                                 x.base(Double.self), lapack_int(n), bb.base(Double.self), lapack_int(nrhs),
                                 &s, rcond, &rank), "dgelsd")
        var sol = try bb.narrow(0, 0, n).contiguous()
        if b.dim == 1 { sol = try sol.reshape([n]) }
        let dt = DType.promote(a.dtype, b.dtype)
        return (dt == .float64 ? sol : try sol.to(dt), Int(rank))
    }

    /// Moore-Penrose pseudo-inverse from the SVD, cutting singular values below
    /// `rtol * sigma_1` (default max(m, n) * eps of the input's dtype, as PyTorch).
    public static func pinv(_ a: Tensor, rtol: Double? = nil) throws -> Tensor {
        let m = a.shape.count == 2 ? a.shape[0] : 0, n = a.shape.count == 2 ? a.shape[1] : 0
        let eps = a.dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
        let tol = rtol ?? eps * Double(Swift.max(m, n))
        let (u, s, vt) = try svd(a.to(.float64))
        let k = s.numel
        let sp = s.base(Double.self), q = u.base(Double.self)   // u is our own fresh m x k buffer
        let cut = tol * (k > 0 ? sp[0] : 0)
        // pinv = V diag(1/s) U^T: scale U's columns in place, then Vt^T (U diag)^T
        for i in 0..<m { for j in 0..<k { q[i * k + j] = sp[j] > cut ? q[i * k + j] / sp[j] : 0 } }
        let out = try Tensor(shape: [n, m], dtype: .float64, zeroed: true)
        BLAS.gemm(true, true, n, m, k, 1.0, vt.base(Double.self), n, q, k, 0.0, out.base(Double.self), m)
        return try result(out, like: a)
    }

    /// Determinant by LU (0 for an exactly singular matrix), as a 0-d tensor.
    public static func det(_ a: Tensor) throws -> Tensor {
        let x = try squareMatrix(a)
        let n = a.shape[0]
        var piv = try [lapack_int](failableRepeating: 0, count: n)
        let info = LAPACKE_dgetrf(LAPACK_ROW_MAJOR, lapack_int(n), lapack_int(n), x.base(Double.self),
                                  lapack_int(n), &piv)
        if info < 0 { try check(info, "dgetrf") }
        var d = 1.0
        if info == 0 {
            let p = x.base(Double.self)
            for i in 0..<n {
                d *= p[i * n + i]
                if piv[i] != lapack_int(i + 1) { d = -d }
            }
        } else { d = 0 }
        return try Tensor.scalar(d, dtype: a.dtype)
    }
}

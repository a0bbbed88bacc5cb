import CLapacke

/// Singular value decomposition (`sslua.linalg.svd`, `svdvals`).
///
/// A row-major m x n buffer is, to LAPACK, the column-major n x m matrix A^T. Decomposing A^T
/// in place hands back U and V^T of A already in row-major order (roles swapped), so no
/// transposing copies are made.
extension Linalg {
    /// A = U diag(S) Vt; thin (U m x k, Vt k x n, k = min(m, n)) unless `full`.
    public static func svd(_ a: Tensor, full: Bool = false) throws -> (Tensor, Tensor, Tensor) {
        let x = try matrix(a)
        let m = a.shape[0], n = a.shape[1], k = Swift.min(m, n)
        let s = try Tensor(shape: [k], dtype: .float64, zeroed: false)
        let u = try Tensor(shape: full ? [m, m] : [m, k], dtype: .float64, zeroed: false)
        let vt = try Tensor(shape: full ? [n, n] : [k, n], dtype: .float64, zeroed: false)
        // col-major B = A^T (n x m): B = Ub S VbT  =>  A = VbT^T S Ub^T: Vt_A = Ub^T, U_A = VbT^T
        let info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, char(full ? "A" : "S"), lapack_int(n), lapack_int(m),
                                  x.base(Double.self), lapack_int(n), s.base(Double.self),
                                  vt.base(Double.self), lapack_int(n),
                                  u.base(Double.self), lapack_int(full ? m : k))
        try check(info, "dgesdd")
        return (try result(u, like: a), try result(s, like: a), try result(vt, like: a))
    }

    /// Singular values in descending order.
    ///
    /// float64 inputs use `dgesdd` without vectors. float32 inputs use the Gram route: the
    /// eigenvalues of A^T A (or A A^T, the smaller) formed and solved in float64. Its absolute
    /// error, about sqrt(eps64) sigma_1 = 1e-8 sigma_1 at worst, is below the float32 rounding of
    /// sigma_1 itself, and it is several times faster than an SVD of the tall matrix.
    public static func svdvals(_ a: Tensor) throws -> Tensor {
        if a.dtype == .float32 { return try svdvalsGram(a) }
        let x = try matrix(a)
        let m = a.shape[0], n = a.shape[1], k = Swift.min(m, n)
        let s = try Tensor(shape: [k], dtype: .float64, zeroed: false)
        var du = 0.0, dv = 0.0
        let info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, char("N"), lapack_int(n), lapack_int(m),
                                  x.base(Double.self), lapack_int(n), s.base(Double.self),
                                  &du, 1, &dv, 1)
        try check(info, "dgesdd")
        return s
    }

    static func svdvalsGram(_ a: Tensor) throws -> Tensor {
        let x = try matrix(a)
        let m = a.shape[0], n = a.shape[1], k = Swift.min(m, n)
        let g = try Tensor(shape: [k, k], dtype: .float64, zeroed: true)
        if m >= n {
            BLAS.gramUpper(x.base(Double.self), rows: m, cols: n, into: g.base(Double.self))
        } else {
            BLAS.gramUpperRows(x.base(Double.self), rows: m, cols: n, into: g.base(Double.self))
        }
        let w = try Tensor(shape: [k], dtype: .float64, zeroed: false)
        // row-major upper == col-major lower
        let info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, char("N"), char("L"), lapack_int(k),
                                  g.base(Double.self), lapack_int(k), w.base(Double.self))
        try check(info, "dsyevd")
        let out = try Tensor(shape: [k], dtype: a.dtype, zeroed: false)
        let wp = w.base(Double.self), op = out.base(Float.self)
        for i in 0..<k { op[i] = Float(Swift.max(0, wp[k - 1 - i]).squareRoot()) }
        return out
    }
}

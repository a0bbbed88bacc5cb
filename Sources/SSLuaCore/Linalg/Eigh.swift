import CLapacke

/// Symmetric eigendecomposition (`sslua.linalg.eigh`), reading the lower triangle as PyTorch.
extension Linalg {
    /// Eigenvalues ascending and the matching eigenvectors as columns: A = V diag(w) V^T.
    public static func eigh(_ a: Tensor) throws -> (Tensor, Tensor) {
        let x = try squareMatrix(a)
        let n = a.shape[0]
        let w = try Tensor(shape: [n], dtype: .float64, zeroed: false)
        // The row-major buffer is A^T to LAPACK; A's lower triangle is A^T's upper one.
        let info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, char("V"), char("U"), lapack_int(n),
                                  x.base(Double.self), lapack_int(n), w.base(Double.self))
        try check(info, "dsyevd")
        // Column-major eigenvectors read row-major are V^T: transpose back.
        let v = try x.transpose(0, 1).contiguous()
        return (try result(w, like: a), try result(v, like: a))
    }
}

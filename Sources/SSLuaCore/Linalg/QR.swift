import CLapacke

/// Reduced QR factorisation (`sslua.linalg.qr`): A = Q R, Q m x k orthonormal, R k x n upper.
extension Linalg {
    public static func qr(_ a: Tensor) throws -> (Tensor, Tensor) {
        let x = try matrix(a)
        let m = a.shape[0], n = a.shape[1], k = Swift.min(m, n)
        var tau = try [Double](failableRepeating: 0, count: k)
        try check(LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, lapack_int(m), lapack_int(n), x.base(Double.self),
                                 lapack_int(n), &tau), "dgeqrf")
        let r = try Tensor(shape: [k, n], dtype: .float64, zeroed: true)
        let xp = x.base(Double.self), rp = r.base(Double.self)
        for i in 0..<k { for j in i..<n { rp[i * n + j] = xp[i * n + j] } }
        try check(LAPACKE_dorgqr(LAPACK_ROW_MAJOR, lapack_int(m), lapack_int(k), lapack_int(k),
                                 xp, lapack_int(n), tau), "dorgqr")
        let q = try x.narrow(1, 0, k).contiguous()
        return (try result(q, like: a), try result(r, like: a))
    }
}

/// Fraction of variance unexplained (paper Eq. 10): how much of the displacements
/// delta h_i (rows of D) lies outside the column space of the projector W:
///   FVU = sum_i min_t ||delta h_i - W t||^2 / sum_i ||delta h_i||^2.
/// The least squares is solved through W's SVD in float64, dropping singular values below
/// eps * max(d_enc, d_proj) * sigma_1 as `numpy.linalg.lstsq` does, so a collapsed W counts
/// only its true column space.
public enum FVU {
    public static func fvu(_ dm: Tensor, _ w: Tensor) throws -> Double {
        try require(dm.dim == 2, "D must be N x d_enc (one delta h per row), got size \(shapeString(dm.shape))")
        try require(w.dim == 2, "W must be d_enc x d_proj, got size \(shapeString(w.shape))")
        try require(w.shape[0] == dm.shape[1],
                    "W must be d_enc x d_proj with d_enc = \(dm.shape[1]) (the columns of D), got \(shapeString(w.shape))")
        let d = try Linalg.matrix(dm, "D")
        let n = dm.shape[0], e = dm.shape[1]
        let (u, s, _) = try Linalg.svd(w.to(.float64))
        let sv = try s.toDoubles()
        let cut = Double.ulpOfOne * Double(Swift.max(w.shape[0], w.shape[1])) * (sv.first ?? 0)
        let r = sv.filter { $0 > cut }.count
        let dp = d.base(Double.self)
        var total = 0.0
        for i in 0..<(n * e) { total += dp[i] * dp[i] }
        try require(total > 0, "all rows of D are zero: the fraction of variance is undefined")
        if r == 0 { return 1 }
        // U_r (e x r): leading columns of U
        let ur = try u.narrow(1, 0, r).contiguous()
        let up = ur.base(Double.self)
        let c = try Tensor(shape: [n, r], dtype: .float64, zeroed: false)
        BLAS.gemm(false, false, n, r, e, 1.0, dp, e, up, r, 0.0, c.base(Double.self), r)
        // residual = D - C U_r^T
        BLAS.gemm(false, true, n, e, r, -1.0, c.base(Double.self), r, up, r, 1.0, dp, e)
        var res = 0.0
        for i in 0..<(n * e) { res += dp[i] * dp[i] }
        return res / total
    }
}

/// VICReg (Bardes, Ponce, LeCun 2022), as `facebookresearch/vicreg` `main_vicreg.py`:
///
///     repr = mse(x, y)                                  mean over N x D
///     x, y centred over the batch; std = sqrt(var_unbiased + 1e-4)
///     std_loss = mean(relu(1 - std_x)) / 2 + mean(relu(1 - std_y)) / 2
///     cov = x^T x / (N - 1); cov_loss = sum offdiag(cov_x)^2 / D + sum offdiag(cov_y)^2 / D
///     loss = sim repr + var std_loss + cov cov_loss
///
/// Fused: forward in float64, analytic backward (relu'(0) = 0 as PyTorch). Needs N >= 2.
public enum VICReg {
    public static func loss(_ z1: Tensor, _ z2: Tensor, sim: Double = 25, variance: Double = 25,
                            covariance: Double = 1) throws -> Tensor {
        let (n, d) = try Contrastive.checkPair(z1, z2)
        for (name, v) in [("sim", sim), ("var", variance), ("cov", covariance)] {
            try require(v.isFinite, "\(name) must be a finite number, got \(v)")
        }
        let x = try Objectives.work(z1), y = try Objectives.work(z2)
        let xp = x.base(Double.self), yp = y.base(Double.self)
        let nd = Double(n * d), dd = Double(d), n1 = Double(n - 1)
        // invariance
        let gx = try Objectives.buffer([n, d]), gy = try Objectives.buffer([n, d])
        let gxp = gx.base(Double.self), gyp = gy.base(Double.self)
        var repr = 0.0
        for i in 0..<(n * d) {
            let e = xp[i] - yp[i]
            repr += e * e
            gxp[i] = sim * 2 * e / nd
            gyp[i] = -sim * 2 * e / nd
        }
        repr /= nd
        var total = sim * repr
        let cov = try Objectives.buffer([d, d])
        let cp = cov.base(Double.self)
        for (z, g) in [(xp, gxp), (yp, gyp)] {
            Objectives.centerColumns(z, n, d)
            // variance: hinge on the standard deviation, relu(1 - s_j) / (2 D)
            for j in 0..<d {
                var v = 0.0
                for i in 0..<n { v += z[i * d + j] * z[i * d + j] }
                let s = (v / n1 + 1e-4).squareRoot()
                if 1 - s > 0 {
                    total += variance * (1 - s) / (2 * dd)
                    // d/dz_ij = -var/(2D) * z_ij / (s (N - 1)); the centring term vanishes
                    let c = -variance / (2 * dd) / (s * n1)
                    for i in 0..<n { g[i * d + j] += c * z[i * d + j] }
                }
            }
            // covariance: sum_{j != k} C_jk^2 / D, C = z^T z / (N - 1)
            Objectives.atb(z, z, n, d, 1 / n1, into: cp)
            var off = 0.0
            for j in 0..<d { for k in 0..<d where j != k { off += cp[j * d + k] * cp[j * d + k] } }
            total += covariance * off / dd
            for j in 0..<d { cp[j * d + j] = 0 }
            // dL/dz = 4 cov / (D (N - 1)) z offdiag(C); its columns already sum to 0
            BLAS.gemm(false, false, n, d, d, 4 * covariance / (dd * n1), UnsafePointer(z), d,
                      UnsafePointer(cp), d, 1, g, d)
        }
        let out = try Objectives.scalar(total, [z1, z2])
        return out.recorded("vicreg", [z1, z2]) { go in
            let s = go.value(at: 0)
            return [try Objectives.grad(gx, s, like: z1), try Objectives.grad(gy, s, like: z2)]
        }
    }
}

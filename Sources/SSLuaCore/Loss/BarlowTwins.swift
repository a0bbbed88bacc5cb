/// Barlow Twins (Zbontar et al. 2021), as `facebookresearch/barlowtwins` `main.py`:
///
///     c = bn(z1)^T bn(z2) / N      bn = BatchNorm1d(D, affine=False), training mode:
///                                  batch mean, biased variance, eps 1e-5
///     loss = sum_i (1 - c_ii)^2 + lambda sum_{i != j} c_ij^2
///
/// Fused: forward in float64, analytic backward through the cross-correlation and the
/// normalisation. Needs N >= 2 (BatchNorm1d refuses one value per channel).
public enum BarlowTwins {
    public static let eps = 1e-5

    public static func loss(_ z1: Tensor, _ z2: Tensor, lambda: Double = 0.0051) throws -> Tensor {
        let (n, d) = try Contrastive.checkPair(z1, z2)
        try require(lambda.isFinite, "lambda must be a finite number, got \(lambda)")
        let a = try Objectives.work(z1), b = try Objectives.work(z2)
        let ap = a.base(Double.self), bp = b.base(Double.self)
        let invStdA = try standardize(ap, n, d), invStdB = try standardize(bp, n, d)
        let c = try Objectives.buffer([d, d])
        let cp = c.base(Double.self)
        Objectives.atb(ap, bp, n, d, 1 / Double(n), into: cp)
        var total = 0.0
        // G = dL/dc, in place of c
        for i in 0..<d {
            for j in 0..<d {
                let v = cp[i * d + j]
                if i == j { total += (1 - v) * (1 - v); cp[i * d + j] = -2 * (1 - v) }
                else { total += lambda * v * v; cp[i * d + j] = 2 * lambda * v }
            }
        }
        let out = try Objectives.scalar(total, [z1, z2])
        return out.recorded("barlow_twins", [z1, z2]) { go in
            let ap = a.base(Double.self), bp = b.base(Double.self), gp = c.base(Double.self)
            let ga = try Objectives.buffer([n, d]), gb = try Objectives.buffer([n, d])
            // dL/da = b G^T / N, dL/db = a G / N
            BLAS.gemm(false, true, n, d, d, 1 / Double(n), bp, d, gp, d, 0, ga.base(Double.self), d)
            BLAS.gemm(false, false, n, d, d, 1 / Double(n), ap, d, gp, d, 0, gb.base(Double.self), d)
            normBackward(ga.base(Double.self), ap, invStdA, n, d)
            normBackward(gb.base(Double.self), bp, invStdB, n, d)
            let s = go.value(at: 0)
            return [try Objectives.grad(ga, s, like: z1), try Objectives.grad(gb, s, like: z2)]
        }
    }

    /// x <- (x - mean) / sqrt(var_biased + eps) per column; returns 1 / sqrt(var + eps).
    static func standardize(_ x: UnsafeMutablePointer<Double>, _ n: Int, _ d: Int) throws -> [Double] {
        Objectives.centerColumns(x, n, d)
        var inv = [Double]()
        inv.reserveCapacity(d)
        for j in 0..<d {
            var v = 0.0
            for i in 0..<n { v += x[i * d + j] * x[i * d + j] }
            let r = 1 / (v / Double(n) + eps).squareRoot()
            inv.append(r)
            for i in 0..<n { x[i * d + j] *= r }
        }
        return inv
    }

    /// BatchNorm's backward in place: g <- inv_std (g - mean(g) - xhat mean(g xhat)) per column.
    static func normBackward(_ g: UnsafeMutablePointer<Double>, _ xhat: UnsafePointer<Double>,
                             _ invStd: [Double], _ n: Int, _ d: Int) {
        let nn = Double(n)
        for j in 0..<d {
            var s = 0.0, sx = 0.0
            for i in 0..<n { s += g[i * d + j]; sx += g[i * d + j] * xhat[i * d + j] }
            let m = s / nn, mx = sx / nn
            for i in 0..<n { g[i * d + j] = invStd[j] * (g[i * d + j] - m - xhat[i * d + j] * mx) }
        }
    }
}

/// BYOL's regression loss (Grill et al. 2020; also SimSiam's negative cosine up to 2 - 2x):
///
///     loss = mean_i (2 - 2 cos(p_i, z_i)),   p, z normalised as F.normalize (eps 1e-12)
///
/// `z` is the target: a constant (stop-gradient), so no gradient ever reaches it, as the
/// reference's `target_proj.detach()`. Fused: forward in float64, analytic backward to `p`.
public enum BYOL {
    public static func loss(_ p: Tensor, _ z: Tensor) throws -> Tensor {
        let (n, d) = try Contrastive.checkPair(p, z, ("p", "z"), minN: 1)
        let f = try Objectives.work(p), t = try Objectives.work(z)
        let norms = try Objectives.buffer([n]), tnorms = try Objectives.buffer([n])
        let fp = f.base(Double.self), tp = t.base(Double.self)
        Contrastive.normalizeRows(fp, n, d, norms.base(Double.self))
        Contrastive.normalizeRows(tp, n, d, tnorms.base(Double.self))
        var total = 0.0
        for i in 0..<n {
            var dot = 0.0
            for k in 0..<d { dot += fp[i * d + k] * tp[i * d + k] }
            total += 2 - 2 * dot
        }
        let out = try Objectives.scalar(total / Double(n), [p, z])
        return out.recorded("byol", [p]) { go in
            let fp = f.base(Double.self), tp = t.base(Double.self)
            let g = try Objectives.buffer([n, d])
            let gp = g.base(Double.self)
            for i in 0..<(n * d) { gp[i] = -2 * tp[i] / Double(n) }
            Contrastive.normalizeBackward(gp, fp, norms.base(Double.self), n, d)
            return [try Objectives.grad(g, go.value(at: 0), like: p)]
        }
    }
}

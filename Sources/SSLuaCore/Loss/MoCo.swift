import RealModule

/// MoCo v2's InfoNCE against a queue of negatives (He et al. 2020, Chen et al. 2020), as
/// `facebookresearch/moco` `builder.py`:
///
///     q, k normalised as F.normalize; queue K x D holds earlier keys (used as given: the
///     reference enqueues normalised keys and never renormalises them)
///     logits_i = [q_i . k_i, q_i . queue_1, ..., q_i . queue_K] / temperature
///     loss = mean_i cross_entropy(logits_i, 0)
///
/// `k` (the momentum encoder's keys) and `queue` are constants: the gradient reaches `q` only.
public enum MoCo {
    public static func loss(_ q: Tensor, _ k: Tensor, queue: Tensor, temperature: Double = 0.2) throws -> Tensor {
        let (n, d) = try Contrastive.checkPair(q, k, ("q", "k"), minN: 1)
        try require(queue.dim == 2 && queue.shape[1] == d,
                    "queue must be K x \(d) (one key per row), got size \(shapeString(queue.shape))")
        let kq = queue.shape[0]
        try require(kq >= 1, "queue is empty")
        try require(temperature.isFinite && temperature > 0, "temperature must be a positive number, got \(temperature)")
        try requireLapackSize(n, kq + 1)
        let f = try Objectives.work(q), t = try Objectives.work(k), qu = try Objectives.work(queue)
        let norms = try Objectives.buffer([n]), tnorms = try Objectives.buffer([n])
        let fp = f.base(Double.self), tp = t.base(Double.self)
        Contrastive.normalizeRows(fp, n, d, norms.base(Double.self))
        Contrastive.normalizeRows(tp, n, d, tnorms.base(Double.self))
        // negatives' logits, then each row turned into softmax probabilities
        let neg = try Objectives.buffer([n, kq])
        let np = neg.base(Double.self)
        BLAS.gemm(false, true, n, kq, d, 1 / temperature, UnsafePointer(fp), d, qu.base(Double.self), d, 0, np, kq)
        let pos = try Objectives.buffer([n])
        let pp = pos.base(Double.self)
        var total = 0.0
        for i in 0..<n {
            var dot = 0.0
            for c in 0..<d { dot += fp[i * d + c] * tp[i * d + c] }
            let l0 = dot / temperature
            let row = np + i * kq
            var m = l0
            for j in 0..<kq { m = Swift.max(m, row[j]) }
            var s = Double.exp(l0 - m)
            for j in 0..<kq { row[j] = Double.exp(row[j] - m); s += row[j] }
            total += -l0 + m + Double.log(s)
            pp[i] = Double.exp(l0 - m) / s
            for j in 0..<kq { row[j] /= s }
        }
        let out = try Objectives.scalar(total / Double(n), [q, k, queue])
        return out.recorded("moco", [q]) { go in
            let fp = f.base(Double.self), tp = t.base(Double.self), pp = pos.base(Double.self)
            let g = try Objectives.buffer([n, d])
            let gp = g.base(Double.self)
            // d/dq_hat_i = ((p0_i - 1) k_i + sum_j p_ij queue_j) / (N T)
            BLAS.gemm(false, false, n, d, kq, 1, neg.base(Double.self), kq, qu.base(Double.self), d, 0, gp, d)
            let c = 1 / (Double(n) * temperature)
            for i in 0..<n {
                for e in 0..<d { gp[i * d + e] = c * (gp[i * d + e] + (pp[i] - 1) * tp[i * d + e]) }
            }
            Contrastive.normalizeBackward(gp, fp, norms.base(Double.self), n, d)
            return [try Objectives.grad(g, go.value(at: 0), like: q)]
        }
    }
}

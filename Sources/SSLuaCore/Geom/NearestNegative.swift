/// The nearest negatives h~*_i of Prop. 3.1 and the measurements of Fig. 5 and Fig. 6.
public enum NearestNegative {
    /// 0-based indices into the pool [h1; h2] (never i or N+i) and the N x d_enc rows h~*_i.
    /// Similarity is taken in projector space W^T h (cosine); `w == nil` uses h itself.
    public static func find(_ h1: Tensor, _ h2: Tensor, _ w: Tensor?) throws -> ([Int], Tensor) {
        let pool = try UpperBound.pool(h1, h2, w)
        var rows = try UpperBound.nearestRows(pool)
        let dt = DType.promote(h1.dtype, h2.dtype)
        if rows.dtype != dt { rows = try rows.to(dt) }
        return (pool.nearest, rows)
    }

    /// Per row, || a_i/||a_i|| - b_i/||b_i|| || (Fig. 5), as an N-vector in the inputs' dtype.
    public static func normalizedDistance(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let out = try distances(a, b)
        return try Tensor.from(out, shape: [out.count], dtype: DType.promote(a.dtype, b.dtype))
    }

    /// The distances of `normalizedDistance` in float64.
    static func distances(_ a: Tensor, _ b: Tensor) throws -> [Double] {
        let (n, d) = try Contrastive.checkPair(a, b, ("a", "b"), minN: 1)
        let x = try a.to(.float64).contiguous(), y = try b.to(.float64).contiguous()
        let xp = x.base(Double.self), yp = y.base(Double.self)
        var out = try [Double](failableRepeating: 0, count: n)
        for i in 0..<n {
            var na = 0.0, nb = 0.0
            for k in 0..<d { na += xp[i * d + k] * xp[i * d + k]; nb += yp[i * d + k] * yp[i * d + k] }
            let ia = 1 / Swift.max(na.squareRoot(), Contrastive.eps), ib = 1 / Swift.max(nb.squareRoot(), Contrastive.eps)
            var s = 0.0
            for k in 0..<d { let t = xp[i * d + k] * ia - yp[i * d + k] * ib; s += t * t }
            out[i] = s.squareRoot()
        }
        return out
    }

    /// Fraction of i with labels_pool[idx_i] == labels_i (Fig. 6), idx 0-based.
    public static func labelAgreement(_ idx: [Int], _ pool: [Int], _ labels: [Int]) throws -> Double {
        try require(idx.count == labels.count, "\(idx.count) indices but \(labels.count) labels")
        try require(!idx.isEmpty, "no indices")
        var hits = 0
        for (i, j) in idx.enumerated() {
            try require(j >= 0 && j < pool.count, "index \(j + 1) at position \(i + 1) is out of range 1..\(pool.count) of labels_pool")
            if pool[j] == labels[i] { hits += 1 }
        }
        return Double(hits) / Double(idx.count)
    }
}

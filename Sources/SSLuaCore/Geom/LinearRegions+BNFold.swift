extension LinearRegions {
    /// BatchNorm1d in eval mode as the per-feature affine map it is:
    /// y = weight (x - mean) / sqrt(var + eps) + bias = scale x + shift, with
    /// scale = weight / sqrt(var + eps), shift = bias - mean scale. A missing weight is 1,
    /// a missing bias 0 (affine = false).
    public static func batchNorm(mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?,
                                 eps: Double) throws -> Op {
        let m = try mean.toDoubles(), v = try variance.toDoubles()
        let w = try weight?.toDoubles() ?? [Double](failableRepeating: 1, count: m.count, "the weights")
        let b = try bias?.toDoubles() ?? [Double](failableRepeating: 0, count: m.count, "the biases")
        try require(v.count == m.count && w.count == m.count && b.count == m.count, "BatchNorm1d statistics of different sizes")
        var scale = try [Double](failableRepeating: 0, count: m.count), shift = scale
        for k in 0..<m.count {
            scale[k] = w[k] / (v[k] + eps).squareRoot()
            shift[k] = b[k] - m[k] * scale[k]
        }
        return .affine(scale: scale, shift: shift)
    }
}

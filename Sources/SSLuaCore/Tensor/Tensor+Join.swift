/// Joining tensors: `cat` along an existing dimension and `stack` along a new one.
extension Tensor {
    /// Concatenation along `dim` (0-based); sizes must agree elsewhere. dtypes promote.
    public static func cat(_ list: [Tensor], dim: Int) throws -> Tensor {
        guard let first = list.first else { throw SSLuaError("expected a non-empty list of tensors") }
        try require(first.dim > 0, "zero-dimensional tensor (at position 1) cannot be concatenated")
        let d = try first.axis(dim)
        var total = 0
        var dt = first.dtype
        for (k, t) in list.enumerated() {
            try require(t.dim == first.dim,
                        "tensors must have the same number of dimensions: got \(first.dim) and \(t.dim) (at position \(k + 1))")
            for j in 0..<t.dim where j != d {
                try require(t.shape[j] == first.shape[j],
                            "sizes must match except in dimension \(d + 1): expected \(first.shape[j]) but got \(t.shape[j]) in dimension \(j + 1) (at position \(k + 1))")
            }
            total = try checkedSum(total, t.shape[d], "concatenated size")
            dt = DType.promote(dt, t.dtype)
        }
        var shape = first.shape
        shape[d] = total
        let out = try Tensor(shape: shape, dtype: dt, zeroed: false)
        var starts: [Int] = []
        var at = 0
        for t in list {
            starts.append(at)
            try GradMode.withoutGrad { try out.narrow(d, at, t.shape[d]).copyIn(t) }
            at += t.shape[d]
        }
        return out.recorded("cat", list) { g in
            try zip(list, starts).map { t, s in t.requiresGrad ? try g.narrow(d, s, t.shape[d]).to(t.dtype) : nil }
        }
    }

    /// Stacks same-shape tensors along a new dimension `dim` (0...dim of the inputs).
    public static func stack(_ list: [Tensor], dim: Int) throws -> Tensor {
        guard let first = list.first else { throw SSLuaError("expected a non-empty list of tensors") }
        let d = dim < 0 ? dim + first.dim + 1 : dim
        try require(d >= 0 && d <= first.dim, "dimension \(dim + 1) out of range for stacking \(first.dim)-d tensors")
        for (k, t) in list.enumerated() {
            try require(t.shape == first.shape,
                        "stack expects each tensor to be equal size, but got \(shapeString(first.shape)) at position 1 and \(shapeString(t.shape)) at position \(k + 1)")
        }
        return try cat(list.map { try $0.unsqueeze(d) }, dim: d)
    }
}

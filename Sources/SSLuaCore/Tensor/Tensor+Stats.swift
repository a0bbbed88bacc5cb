/// Spread statistics: `var`, `std` and vector norms, over one dimension or all elements.
///
/// `var`/`std` divide by `n - correction` (PyTorch: correction 1, the unbiased estimate, by
/// default). They are composed of differentiable ops, so their gradients come from the graph.
extension Tensor {
    /// Variance over dimension `dim` (0-based), or over all elements when `dim` is nil.
    public func variance(dim: Int? = nil, keepdim: Bool = false, correction: Double = 1) throws -> Tensor {
        guard let dim = dim else {
            let flat = try reshape([-1])
            let v = try flat.variance(dim: 0, keepdim: false, correction: correction)
            return keepdim ? try v.reshape([Int](repeating: 1, count: self.dim)) : v
        }
        let d = try axis(dim)
        if self.dim == 0 { return try reshape([1]).variance(dim: 0, correction: correction) }
        let n = Double(shape[d])
        let centred = try sub(mean(dim: d, keepdim: true))
        let ss = try centred.mul(centred).sum(dim: d, keepdim: keepdim)
        // n - correction <= 0 gives inf/nan, as PyTorch (with its warning).
        return try ss.div(scalar: Swift.max(n - correction, 0))
    }

    public func std(dim: Int? = nil, keepdim: Bool = false, correction: Double = 1) throws -> Tensor {
        try variance(dim: dim, keepdim: keepdim, correction: correction).sqrt()
    }

    /// The p-norm over `dim` (all elements when nil). p = 2 has its own backward so that the
    /// gradient at a zero vector is 0 (PyTorch's convention), not NaN.
    /// p = 0 counts the nonzero entries (gradient 0), p = -inf is the smallest |x|, as PyTorch.
    public func norm(p: Double = 2, dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        try require(p > 0 || p == 0 || p == -.infinity, "norm: p must be positive, 0 or -inf, got \(p)")
        guard let dim = dim else {
            let v = try reshape([-1]).norm(p: p, dim: 0, keepdim: false)
            return keepdim ? try v.reshape([Int](repeating: 1, count: self.dim)) : v
        }
        let d = try axis(dim)
        if self.dim == 0 { return p == 0 ? try GradMode.withoutGrad { try binary(.ne, Tensor.scalar(0, dtype: dtype)) } : try unary(.abs) }
        if p == .infinity || p == -.infinity {
            return try unary(.abs).extremum(max: p > 0, dim: d, keepdim: keepdim).0
        }
        if p == 0 {
            return try GradMode.withoutGrad { try binary(.ne, Tensor.scalar(0, dtype: dtype)).sum(dim: d, keepdim: keepdim) }
        }
        if p == 1 { return try unary(.abs).sum(dim: d, keepdim: keepdim) }
        if p != 2 {
            return try unary(.abs).pow(Tensor.scalar(p, dtype: dtype)).sum(dim: d, keepdim: keepdim)
                .pow(Tensor.scalar(1 / p, dtype: dtype))
        }
        let x = self
        let out = try unaryKernel(.square).reduceKernel(.sum, dim: d, keepdim: keepdim).unaryKernel(.sqrt)
        return out.recordedUsingOutput("norm", [x]) { g, out in
            let gk = keepdim ? g : try g.unsqueeze(d)
            let nk = keepdim ? out : try out.unsqueeze(d)
            // g / norm, with 0 where the norm is 0
            let scale = try Tensor.binaryKernel(.div, gk, nk)
            let safe = try scale.mapKernel({ $0.isFinite ? $0 : 0 }, { $0.isFinite ? $0 : 0 })
            return [try x.mul(safe)]
        }
    }

    /// The p-norm over several dimensions at once (PyTorch's `norm(p, dim=(a, b))`; p = 2 over
    /// the two dimensions of a matrix is its Frobenius norm): the reduced dimensions are moved
    /// last and merged, so the gradient comes from the views' graph.
    public func norm(p: Double = 2, dims: [Int], keepdim: Bool = false) throws -> Tensor {
        let ax = try dims.map { try axis($0) }
        try require(!ax.isEmpty, "norm: empty list of dimensions")
        try require(Set(ax).count == ax.count, "norm: dimension \((ax.first { a in ax.filter { $0 == a }.count > 1 } ?? 0) + 1) repeated")
        if ax.count == 1 { return try norm(p: p, dim: ax[0], keepdim: keepdim) }
        let rest = (0..<self.dim).filter { !ax.contains($0) }
        let merged = try permute(rest + ax).reshape(rest.map { shape[$0] } + [try checkedCount(ax.map { shape[$0] })])
        let v = try merged.norm(p: p, dim: rest.count, keepdim: false)
        guard keepdim else { return v }
        var s = shape
        for a in ax { s[a] = 1 }
        return try v.reshape(s)
    }

    /// `F.normalize(x, p=2, dim)`: x / max(||x||, eps) with PyTorch's eps = 1e-12.
    public func normalize(dim: Int, eps: Double = 1e-12) throws -> Tensor {
        let n = try norm(p: 2, dim: dim, keepdim: true).clamp(eps, nil)
        return try div(n)
    }
}

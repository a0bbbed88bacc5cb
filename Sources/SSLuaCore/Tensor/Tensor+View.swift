/// Views that share storage (no copies) and their gradients.
extension Tensor {
    func view(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }

    /// Resolves one `-1` entry and checks the element count.
    public func inferShape(_ s: [Int]) throws -> [Int] {
        var s = s
        let neg = s.indices.filter { s[$0] == -1 }
        try require(neg.count <= 1, "only one dimension can be inferred")
        try require(s.allSatisfy { $0 >= -1 }, "invalid shape \(shapeString(s))")
        if let i = neg.first {
            var rest = s
            rest.remove(at: i)
            let r = try checkedCount(rest)
            try require(r > 0 && numel % r == 0, "shape \(shapeString(s)) is invalid for input of size \(numel)")
            s[i] = numel / r
        }
        let total = try checkedCount(s)
        try require(total == numel, "shape \(shapeString(s)) is invalid for input of size \(numel)")
        return s
    }

    /// `reshape`: a view when the layout allows, a copy otherwise.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        let s = try inferShape(newShape)
        let x = self
        let src = try contiguous()
        let out = src.view(shape: s, strides: Tensor.contiguousStrides(s), offset: src.offset)
        let inShape = shape
        return out.recorded("reshape", [x]) { g in [try g.reshape(inShape)] }
    }

    public func transpose(_ a: Int, _ b: Int) throws -> Tensor {
        let a = try axis(a), b = try axis(b), x = self
        var sh = shape, st = strides
        sh.swapAt(a, b); st.swapAt(a, b)
        return view(shape: sh, strides: st, offset: offset)
            .recorded("transpose", [x]) { g in [try g.transpose(a, b)] }
    }

    public func t() throws -> Tensor {
        try require(dim <= 2, "t() expects a tensor with <= 2 dimensions, but self is \(dim)-d")
        return dim < 2 ? self : try transpose(0, 1)
    }

    public func permute(_ perm: [Int]) throws -> Tensor {
        try require(perm.count == dim, "permute: expected \(dim) dimensions, got \(perm.count)")
        let p = try perm.map { try axis($0) }
        try require(Set(p).count == dim, "permute: repeated dimension")
        let x = self
        var inv = [Int](repeating: 0, count: dim)
        for (i, q) in p.enumerated() { inv[q] = i }
        return view(shape: p.map { shape[$0] }, strides: p.map { strides[$0] }, offset: offset)
            .recorded("permute", [x]) { g in [try g.permute(inv)] }
    }

    /// `narrow(d, start, len)` with a 0-based start.
    public func narrow(_ d: Int, _ start: Int, _ length: Int) throws -> Tensor {
        try require(dim > 0, "narrow: cannot narrow a 0-d tensor")
        let d = try axis(d), x = self
        try require(start >= 0 && length >= 0 && length <= shape[d] && start <= shape[d] - length,
                    "narrow: start \(start &+ 1) and length \(length) out of bounds for dimension \(d + 1) of size \(shape[d])")
        var sh = shape
        sh[d] = length
        return view(shape: sh, strides: strides, offset: offset + start * strides[d])
            .recorded("narrow", [x]) { g in
                let z = try Tensor.zerosLike(x)
                try z.narrow(d, start, length).copyIn(g)
                return [z]
            }
    }

    /// `select(d, i)` with a 0-based index: removes dimension d.
    public func select(_ d: Int, _ i: Int) throws -> Tensor {
        let d = try axis(d), x = self
        let i2 = i < 0 ? i + shape[d] : i
        try require(i2 >= 0 && i2 < shape[d],
                    "index \(i + 1) out of range for dimension \(d + 1) of size \(shape[d])")
        var sh = shape, st = strides
        sh.remove(at: d); st.remove(at: d)
        return view(shape: sh, strides: st, offset: offset + i2 * strides[d])
            .recorded("select", [x]) { g in
                let z = try Tensor.zerosLike(x)
                try z.select(d, i2).copyIn(g)
                return [z]
            }
    }

    public func unsqueeze(_ d: Int) throws -> Tensor {
        let d2 = d < 0 ? d + dim + 1 : d
        try require(d2 >= 0 && d2 <= dim, "unsqueeze: dimension \(d + 1) out of range")
        try require(dim < maxTensorDims, "unsqueeze: too many dimensions (a tensor has at most \(maxTensorDims))")
        var sh = shape, st = strides
        sh.insert(1, at: d2)
        st.insert(d2 < dim ? strides[d2] * shape[d2] : 1, at: d2)
        let x = self
        return view(shape: sh, strides: st, offset: offset)
            .recorded("unsqueeze", [x]) { g in [try g.reshape(x.shape)] }
    }

    public func squeeze(_ d: Int? = nil) throws -> Tensor {
        let x = self
        var sh: [Int] = [], st: [Int] = []
        let dd = try d.map { try axis($0) }
        for i in 0..<dim where !(shape[i] == 1 && (dd == nil || dd == i)) {
            sh.append(shape[i]); st.append(strides[i])
        }
        return view(shape: sh, strides: st, offset: offset)
            .recorded("squeeze", [x]) { g in [try g.reshape(x.shape)] }
    }

    /// Broadcasts to `target` without copying (stride 0 on expanded dimensions).
    public func expand(_ target: [Int]) throws -> Tensor {
        let b = try broadcastShapes(shape, target)
        try require(b == target, "cannot expand \(shapeString(shape)) to \(shapeString(target))")
        _ = try checkedCount(target)
        if target == shape { return self }
        let x = self
        return view(shape: target, strides: broadcastStrides(to: target), offset: offset)
            .recorded("expand", [x]) { g in [try g.sumTo(x.shape)] }
    }

    /// `to(d)` recorded in the autograd graph (the gradient converts back to this dtype);
    /// `self` when the dtype is already `d`.
    public func differentiableTo(_ d: DType) throws -> Tensor {
        if d == dtype { return self }
        let x = self
        return try to(d).recorded("to", [x]) { g in [try g.to(x.dtype)] }
    }

    /// `contiguous()` recorded in the autograd graph (the gradient passes through);
    /// `self` when already contiguous.
    public func differentiableContiguous() throws -> Tensor {
        let c = try contiguous()
        if c === self { return self }
        let x = self
        return c.recorded("contiguous", [x]) { g in [g] }
    }
}

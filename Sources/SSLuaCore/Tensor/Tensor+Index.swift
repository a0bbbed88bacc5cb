/// Indexing with index tensors: `gather`, `scatter`, `scatter_add`, `index` (index_select),
/// `where` and `masked_fill`, with their gradients.
///
/// Index tensors hold integral float values. `base` says which value denotes the first
/// element (1 for indices that come from Lua, 0 inside the core), so error messages quote
/// the user's own values. Every index is checked before any memory is touched.
extension Tensor {
    /// The values of `index` as 0-based positions in 0..<size; throws on a non-integer or an
    /// out-of-range value.
    public static func positions(_ index: Tensor, base: Int, size: Int) throws -> [Int] {
        let v = try index.toDoubles()
        var out = try [Int](failableRepeating: 0, count: v.count)
        for (k, x) in v.enumerated() {
            guard x == x.rounded(), x >= Double(base), x < Double(base + size) else {
                let shown = x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : String(x)
                throw SSLuaError("index \(shown) out of range (valid \(base)..\(base + size - 1)) at position \(k + 1) of the index tensor")
            }
            out[k] = Int(x) - base
        }
        return out
    }

    /// 0-based positions as a float32 tensor of `shape` (without an intermediate array).
    static func ofPositions(_ pos: [Int], shape: [Int]) throws -> Tensor {
        let t = try Tensor(shape: shape, zeroed: false)
        try require(t.numel == pos.count, "\(pos.count) values for size \(shapeString(shape))")
        let p = t.base(Float.self)
        for k in 0..<pos.count { p[k] = Float(pos[k]) }
        return t
    }

    /// For each position of `index` (row-major), the element offset of the same multi-index
    /// in each of `targets`; where `replaced[t]`, dimension `d` is left out (the index value
    /// takes its place). Validates the gather/scatter shapes.
    static func indexOffsets(_ index: Tensor, dim d: Int, targets: [Tensor], replaced: [Bool]) throws -> [[Int]] {
        for (t, skip) in zip(targets, replaced) {
            try require(t.dim == index.dim, "index tensor has \(index.dim) dimensions, expected \(t.dim)")
            for k in 0..<t.dim where !(skip && k == d) {
                try require(index.shape[k] <= t.shape[k],
                            "index size \(index.shape[k]) exceeds size \(t.shape[k]) in dimension \(k + 1)")
            }
        }
        let n = index.numel
        var result = try targets.map { _ in try [Int](failableRepeating: 0, count: n) }
        if n == 0 { return result }
        let steps = zip(targets, replaced).map { t, skip in (0..<index.dim).map { k in skip && k == d ? 0 : t.strides[k] } }
        var idx = [Int](repeating: 0, count: index.dim)
        var offs = targets.map { $0.offset }
        for flat in 0..<n {
            for t in 0..<targets.count { result[t][flat] = offs[t] }
            var k = index.dim - 1
            while k >= 0 {
                idx[k] += 1
                for t in 0..<targets.count { offs[t] += steps[t][k] }
                if idx[k] < index.shape[k] { break }
                for t in 0..<targets.count { offs[t] -= steps[t][k] * index.shape[k] }
                idx[k] = 0
                k -= 1
            }
        }
        return result
    }

    /// out[..., j, ...] = self[..., index[..., j, ...], ...] along `d` (PyTorch's gather).
    public func gather(dim: Int, index: Tensor, base: Int = 0) throws -> Tensor {
        let d = try axis(dim), x = self
        try require(self.dim > 0, "gather on a 0-d tensor")
        let pos = try Tensor.positions(index, base: base, size: shape[d])
        let offs = try Tensor.indexOffsets(index, dim: d, targets: [self], replaced: [true])[0]
        let out = try Tensor(shape: index.shape, dtype: dtype, zeroed: false)
        let sd = strides[d]
        switch dtype {
        case .float32:
            let s = storage.pointer(Float.self), o = out.base(Float.self)
            for k in 0..<pos.count { o[k] = s[offs[k] + pos[k] * sd] }
        case .float64:
            let s = storage.pointer(Double.self), o = out.base(Double.self)
            for k in 0..<pos.count { o[k] = s[offs[k] + pos[k] * sd] }
        }
        let idx0 = try Tensor.ofPositions(pos, shape: index.shape)
        return out.recorded("gather", [x]) { g in
            let z = try Tensor.zerosLike(x)
            try z.scatterKernel(dim: d, positions: idx0, source: g, accumulate: true)
            return [z]
        }
    }

    /// Writes (or adds) `source` (a tensor at least as large as `positions`, or a 0-d value)
    /// into this tensor in place; `positions` holds checked 0-based values.
    func scatterKernel(dim d: Int, positions: Tensor, source: Tensor, accumulate: Bool) throws {
        let pos = try Tensor.positions(positions, base: 0, size: shape[d])
        let src = try source.to(dtype)
        let scalar = src.dim == 0
        let targets = scalar ? [self] : [self, src]
        let offs = try Tensor.indexOffsets(positions, dim: d, targets: targets, replaced: scalar ? [true] : [true, false])
        let sd = strides[d]
        func run<T: TensorScalar>(_: T.Type) {
            let o = storage.pointer(T.self), s = src.storage.pointer(T.self)
            for k in 0..<pos.count {
                let v = scalar ? s[src.offset] : s[offs[1][k]]
                if accumulate { o[offs[0][k] + pos[k] * sd] += v } else { o[offs[0][k] + pos[k] * sd] = v }
            }
        }
        switch dtype { case .float32: run(Float.self); case .float64: run(Double.self) }
    }

    /// Adds `source` into this contiguous tensor at 0-based `index` along `dim` (kept for the
    /// reductions' backward).
    public func scatterAddKernel(dim d: Int, index: Tensor, source: Tensor) throws {
        try scatterKernel(dim: d, positions: index, source: source, accumulate: true)
    }

    /// A copy of this tensor with `source` written (or added, `accumulate`) at `index` along
    /// `dim`; `source` is a tensor or a 0-d value (scatter with a scalar).
    public func scatter(dim: Int, index: Tensor, source: Tensor, accumulate: Bool = false, base: Int = 0) throws -> Tensor {
        let d = try axis(dim), x = self, src = source
        try require(self.dim > 0, "scatter on a 0-d tensor")
        let pos = try Tensor.positions(index, base: base, size: shape[d])
        let idx0 = try Tensor.ofPositions(pos, shape: index.shape)
        let out = try Tensor(shape: shape, dtype: DType.promote(dtype, source.dtype), zeroed: false)
        try out.copyIn(self)
        try out.scatterKernel(dim: d, positions: idx0, source: source, accumulate: accumulate)
        return out.recorded(accumulate ? "scatter_add" : "scatter", [x, src]) { g in
            var gx: Tensor? = nil, gs: Tensor? = nil
            if x.requiresGrad {
                if accumulate { gx = g } else {
                    let z = try Tensor(shape: g.shape, dtype: g.dtype, zeroed: false)
                    try z.copyIn(g)
                    try z.scatterKernel(dim: d, positions: idx0, source: Tensor.scalar(0, dtype: z.dtype), accumulate: false)
                    gx = z
                }
            }
            if src.requiresGrad && src.dim > 0 {
                let picked = try g.gather(dim: d, index: idx0)
                if picked.shape == src.shape { gs = picked } else {
                    let z = try Tensor.zerosLike(src)
                    var view = z
                    for k in 0..<z.dim { view = try view.narrow(k, 0, picked.shape[k]) }
                    try view.copyIn(picked)
                    gs = z
                }
            } else if src.requiresGrad {
                // a 0-d source receives the sum of the gradient at every written position
                gs = try g.gather(dim: d, index: idx0).sum()
            }
            return [gx, gs]
        }
    }

    /// `index_select`: the entries `index` (a 1-d tensor) along `dim`.
    public func indexSelect(dim: Int, index: Tensor, base: Int = 0) throws -> Tensor {
        try require(index.dim <= 1, "index must be a 1-d tensor, got \(shapeString(index.shape))")
        let d = try axis(dim), x = self
        try require(self.dim > 0, "index on a 0-d tensor")
        let pos = try Tensor.positions(index, base: base, size: shape[d])
        var outShape = shape
        outShape[d] = pos.count
        let out = try Tensor(shape: outShape, dtype: dtype, zeroed: false)
        let c = try contiguous()
        let (outer, n, inner) = c.splitAround(d)
        let m = pos.count
        func run<T: TensorScalar>(_: T.Type) {
            let s = c.base(T.self), o = out.base(T.self)
            Parallel.forRange(outer * m, grain: Swift.max(1, 65536 / Swift.max(inner, 1))) { lo, hi in
                for r in lo..<hi {
                    let a = r / m, j = r % m
                    (o + r * inner).update(from: s + (a * n + pos[j]) * inner, count: inner)
                }
            }
        }
        switch dtype { case .float32: run(Float.self); case .float64: run(Double.self) }
        return out.recorded("index", [x]) { g in
            let gc = try g.contiguous()
            let z = try Tensor.zerosLike(x)
            func add<T: TensorScalar>(_: T.Type) {
                let s = gc.base(T.self), o = z.base(T.self)
                for a in 0..<outer {
                    for j in 0..<m {
                        let src = s + (a * m + j) * inner, dst = o + (a * n + pos[j]) * inner
                        for i in 0..<inner { dst[i] += src[i] }
                    }
                }
            }
            switch z.dtype { case .float32: add(Float.self); case .float64: add(Double.self) }
            return [z]
        }
    }

    /// `where(cond, a, b)`: a where cond is nonzero, else b; all three broadcast.
    public static func whereKernel(_ cond: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape)
        let dt = DType.promote(a.dtype, b.dtype)
        let a = try a.to(dt), b = try b.to(dt), c = try cond.to(dt)
        let out = try Tensor(shape: shape, dtype: dt, zeroed: false)
        let loop = StridedLoop(shape: shape, strides: [out.strides, c.broadcastStrides(to: shape),
                                                       a.broadcastStrides(to: shape), b.broadcastStrides(to: shape)])
        func run<T: TensorScalar>(_: T.Type) {
            let po = out.base(T.self), pc = c.base(T.self), pa = a.base(T.self), pb = b.base(T.self)
            let m = loop.innerCount
            let so = loop.strides[0].last!, sc = loop.strides[1].last!, sa = loop.strides[2].last!, sb = loop.strides[3].last!
            Parallel.forRange(loop.outerCount, grain: Swift.max(1, 32768 / Swift.max(m, 1))) { lo, hi in
                loop.rows(lo, hi) { _, o in
                    let qo = po + o[0], qc = pc + o[1], qa = pa + o[2], qb = pb + o[3]
                    for i in 0..<m { qo[i * so] = qc[i * sc] != 0 ? qa[i * sa] : qb[i * sb] }
                }
            }
        }
        switch dt { case .float32: run(Float.self); case .float64: run(Double.self) }
        return out
    }

    public static func `where`(_ cond: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let out = try whereKernel(cond, a, b)
        let c = cond.detach()
        return out.recorded("where", [a, b], saving: [c]) { g in
            let zero = try Tensor.scalar(0, dtype: g.dtype)
            return [a.requiresGrad ? try whereKernel(c, g, zero) : nil,
                    b.requiresGrad ? try whereKernel(c, zero, g) : nil]
        }
    }

    /// `masked_fill(mask, value)`: value where mask is nonzero; mask broadcasts to self.
    public func maskedFill(_ mask: Tensor, _ value: Double) throws -> Tensor {
        let s = try broadcastShapes(mask.shape, shape)
        try require(s == shape, "mask of size \(shapeString(mask.shape)) does not broadcast to \(shapeString(shape))")
        return try Tensor.where(mask, Tensor.scalar(value, dtype: dtype), self)
    }
}

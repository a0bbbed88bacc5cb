/// Reductions along one dimension (or all), with `keepdim`, and their gradients.
public enum ReduceOp: String { case sum, mean, max, min, argmax, argmin, prod }

extension Tensor {
    /// Shape after reducing `d` (kept as 1 with `keepdim`).
    func reducedShape(_ d: Int, keepdim: Bool) -> [Int] {
        var s = shape
        if keepdim { s[d] = 1 } else { s.remove(at: d) }
        return s
    }

    /// (outer, n, inner) of a contiguous layout around dimension d.
    func splitAround(_ d: Int) -> (Int, Int, Int) {
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *)
        return (outer, shape[d], inner)
    }

    /// Sums, maxima, minima and arg-extrema over dimension `d` (0-based). Arg results are
    /// 0-based indices stored as floats; the Lua layer adds 1.
    public func reduceKernel(_ op: ReduceOp, dim d: Int, keepdim: Bool) throws -> Tensor {
        if dim == 0 {  // a 0-d tensor reduces like a 1-element vector
            return try view(shape: [1], strides: [1], offset: offset).reduceKernel(op, dim: 0, keepdim: false)
        }
        let x = try contiguous()
        let (outer, n, inner) = x.splitAround(d)
        if (op != .sum && op != .mean && op != .prod) && n == 0 {
            throw SSLuaError("cannot take \(op.rawValue) over an empty dimension")
        }
        let out = try Tensor(shape: reducedShape(d, keepdim: keepdim), dtype: dtype, zeroed: false)
        func run<T: TensorScalar>(_: T.Type) {
            let s = x.base(T.self), o = out.base(T.self)
            Parallel.forRange(outer * inner, grain: max(1, 16384 / max(n, 1))) { lo, hi in
                for r in lo..<hi {
                    let a = r / inner, b = r % inner
                    let p = s + a * n * inner + b
                    switch op {
                    case .sum, .mean:
                        var acc = 0.0
                        for k in 0..<n { acc += Double(p[k * inner]) }
                        o[r] = T(op == .mean ? acc / Double(n) : acc)
                    case .prod:
                        var acc = 1.0
                        for k in 0..<n { acc *= Double(p[k * inner]) }
                        o[r] = T(acc)
                    case .max, .argmax, .min, .argmin:
                        let isMax = op == .max || op == .argmax
                        var best = p[0], bi = 0
                        for k in 1..<n {
                            let v = p[k * inner]
                            if best.isNaN { break }
                            if v.isNaN || (isMax ? v > best : v < best) { best = v; bi = k }
                        }
                        o[r] = (op == .max || op == .min) ? best : T(bi)
                    }
                }
            }
        }
        switch dtype { case .float32: run(Float.self); case .float64: run(Double.self) }
        return out
    }

    /// Sum of all elements (accumulated in float64, in fixed blocks: independent of threads).
    public func sumAllKernel() throws -> Double {
        let x = try contiguous()
        let n = numel
        let block = 1 << 16
        let nb = (n + block - 1) / block
        var partial = [Double](repeating: 0, count: nb)
        partial.withUnsafeMutableBufferPointer { pp in
            let pb = pp.baseAddress!
            if dtype == .float32 {
                let s = x.base(Float.self)
                Parallel.forEach(nb) { b in
                    let lo = b * block, hi = Swift.min(n, lo + block)
                    pb[b] = FastMath.sum(s + lo, hi - lo)
                }
                return
            }
            func run<T: TensorScalar>(_: T.Type) {
                let s = x.base(T.self)
                Parallel.forEach(nb) { b in
                    let lo = b * block, hi = Swift.min(n, lo + block)
                    var acc = 0.0
                    var i = lo
                    // 4 accumulators: pairwise-ish and vectorisable
                    var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
                    while i + 4 <= hi {
                        a0 += Double(s[i]); a1 += Double(s[i + 1]); a2 += Double(s[i + 2]); a3 += Double(s[i + 3]); i += 4
                    }
                    while i < hi { acc += Double(s[i]); i += 1 }
                    pb[b] = acc + (a0 + a1) + (a2 + a3)
                }
            }
            switch dtype { case .float32: run(Float.self); case .float64: run(Double.self) }
        }
        return partial.reduce(0, +)
    }

    // MARK: differentiable reductions

    /// Sum of all elements as a 0-d tensor.
    public func sum() throws -> Tensor {
        let x = self
        let out = try Tensor.scalar(sumAllKernel(), dtype: dtype)
        return out.recorded("sum", [x]) { g in [try g.expand(x.shape)] }
    }

    public func mean() throws -> Tensor {
        let x = self
        // an empty tensor's mean is 0/0 = NaN, as PyTorch (its sum is 0)
        let out = try Tensor.scalar(numel == 0 ? .nan : sumAllKernel() / Double(numel), dtype: dtype)
        return out.recorded("mean", [x]) { g in [try g.div(scalar: Double(x.numel)).expand(x.shape)] }
    }

    public func sum(dim: Int, keepdim: Bool = false) throws -> Tensor {
        let d = try axis(dim), x = self
        if self.dim == 0 { return try clone() }
        let out = try reduceKernel(.sum, dim: d, keepdim: keepdim)
        return out.recorded("sum", [x]) { g in
            [try (keepdim ? g : g.unsqueeze(d)).expand(x.shape)]
        }
    }

    public func mean(dim: Int, keepdim: Bool = false) throws -> Tensor {
        let d = try axis(dim), x = self
        if self.dim == 0 { return try clone() }
        let n = Double(shape[d])
        let out = try reduceKernel(.mean, dim: d, keepdim: keepdim)
        return out.recorded("mean", [x]) { g in
            [try (keepdim ? g : g.unsqueeze(d)).div(scalar: n).expand(x.shape)]
        }
    }

    /// Max or min over `dim`, with 0-based indices; the gradient flows to the selected element.
    public func extremum(max isMax: Bool, dim: Int, keepdim: Bool = false) throws -> (Tensor, Tensor) {
        let d = try axis(dim), x = self
        if self.dim == 0 { return (try clone(), try Tensor.scalar(0, dtype: dtype)) }
        let vals = try reduceKernel(isMax ? .max : .min, dim: d, keepdim: keepdim)
        let idx = try reduceKernel(isMax ? .argmax : .argmin, dim: d, keepdim: keepdim)
        vals.recorded(isMax ? "max" : "min", [x]) { g in
            let gk = keepdim ? g : try g.unsqueeze(d)
            let ik = keepdim ? idx : try idx.unsqueeze(d)
            let z = try Tensor.zerosLike(x)
            try z.scatterAddKernel(dim: d, index: ik, source: gk)
            return [z]
        }
        return (vals, idx)
    }

    /// Sums a broadcast gradient back to `target` (the inverse of broadcasting).
    public func sumTo(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        var t = self
        let lead = dim - target.count
        try require(lead >= 0, "cannot reduce \(shapeString(shape)) to \(shapeString(target))")
        for _ in 0..<lead { t = try t.reduceKernel(.sum, dim: 0, keepdim: false) }
        for i in 0..<target.count where target[i] == 1 && t.shape[i] != 1 {
            t = try t.reduceKernel(.sum, dim: i, keepdim: true)
        }
        try require(t.shape == target, "cannot reduce \(shapeString(shape)) to \(shapeString(target))")
        return t
    }
}

/// `softmax`, `log_softmax` and `logsumexp` along one dimension, computed stably: the row
/// maximum is subtracted before exponentiating, so large logits never overflow.
public enum SoftmaxMode { case softmax, logSoftmax, logsumexp }

extension Tensor {
    /// The forward kernel (no autograd). For `.logsumexp` the dimension is reduced (kept as 1
    /// with `keepdim`); otherwise the output has the input's shape.
    public func softmaxKernel(_ mode: SoftmaxMode, dim d: Int, keepdim: Bool = false) throws -> Tensor {
        if dim == 0 {
            let v = try view(shape: [1], strides: [1], offset: offset).softmaxKernel(mode, dim: 0)
            return try v.reshapeKernel([])
        }
        let x = try contiguous()
        let (outer, n, inner) = x.splitAround(d)
        let outShape = mode == .logsumexp ? reducedShape(d, keepdim: keepdim) : shape
        let out = try Tensor(shape: outShape, dtype: dtype, zeroed: false)
        if n == 0 {
            if mode == .logsumexp { out.fillKernel(-.infinity) }
            return out
        }
        let rows = outer * inner
        func generic<T: TensorScalar>(_: T.Type) {
            let s = x.base(T.self), o = out.base(T.self)
            Parallel.forRange(rows, grain: Swift.max(1, 8192 / n)) { lo, hi in
                for r in lo..<hi {
                    let a = r / inner, b = r % inner
                    let p = s + a * n * inner + b
                    var m = -T.infinity
                    var nan = false
                    for k in 0..<n { let v = p[k * inner]; if v.isNaN { nan = true }; if v > m { m = v } }
                    if nan { m = .nan }
                    let shift = m == -T.infinity ? 0 : m  // as PyTorch: NaN or +inf in a row makes it NaN
                    var acc = 0.0
                    for k in 0..<n { acc += Double(T.exp(p[k * inner] - shift)) }
                    let lse = T(Double.log(acc)) + shift
                    switch mode {
                    case .logsumexp: o[r] = m.isInfinite && m > 0 ? m : lse
                    case .logSoftmax:
                        let q = o + a * n * inner + b
                        for k in 0..<n { q[k * inner] = p[k * inner] - lse }
                    case .softmax:
                        let q = o + a * n * inner + b
                        let inv = T(1 / acc)
                        for k in 0..<n { q[k * inner] = T.exp(p[k * inner] - shift) * inv }
                    }
                }
            }
        }
        if dtype == .float32 && inner == 1 {
            // Contiguous rows: SIMD max, exp and scale.
            let s = x.base(Float.self), o = out.base(Float.self)
            let scratch = mode == .logsumexp ? try Tensor(shape: [Parallel.threads, n], zeroed: false) : nil
            let chunks = Swift.max(1, Swift.min(Parallel.threads, rows * n / 32768))
            Parallel.forRange(chunks, grain: 1) { clo, chi in
                for c in clo..<chi {
                    let buf = scratch.map { $0.base(Float.self) + c * n }
                    for r in (rows * c / chunks)..<(rows * (c + 1) / chunks) {
                        let p = s + r * n
                        let m = FastMath.max(p, n)
                        let shift = m == -.infinity ? 0 : m
                        switch mode {
                        case .softmax:
                            let q = o + r * n
                            let acc = FastMath.softmaxNumerators(p, q, n, max: m, shift: shift)
                            FastMath.scale(q, q, n, Float(1 / acc))
                        case .logSoftmax:
                            let q = o + r * n
                            let acc = FastMath.softmaxNumerators(p, q, n, max: m, shift: shift)
                            let lse = Float(Double.log(acc)) + shift
                            FastMath.sub(p, q, n, lse)
                        case .logsumexp:
                            let acc = FastMath.softmaxNumerators(p, buf!, n, max: m, shift: shift)
                            o[r] = m.isInfinite && m > 0 ? m : (m.isNaN ? .nan : Float(Double.log(acc)) + shift)
                        }
                    }
                }
            }
        } else {
            switch dtype { case .float32: generic(Float.self); case .float64: generic(Double.self) }
        }
        return out
    }

    /// A view with a new shape over a contiguous tensor (no autograd).
    func reshapeKernel(_ s: [Int]) throws -> Tensor {
        let c = try contiguous()
        return c.view(shape: s, strides: Tensor.contiguousStrides(s), offset: c.offset)
    }

    public func softmax(dim: Int) throws -> Tensor {
        let d = try axis(dim), x = self
        let out = try softmaxKernel(.softmax, dim: d)
        return out.recordedUsingOutput("softmax", [x]) { g, y in
            // dx = y * (g - sum(g * y, d))
            if y.dim == 0 { return [try Tensor.zerosLike(g)] }
            let gy = try g.mul(y)
            return [try y.mul(g.sub(gy.sum(dim: d, keepdim: true)))]
        }
    }

    public func logSoftmax(dim: Int) throws -> Tensor {
        let d = try axis(dim), x = self
        let out = try softmaxKernel(.logSoftmax, dim: d)
        return out.recordedUsingOutput("log_softmax", [x]) { g, y in
            // dx = g - softmax * sum(g, d)
            if y.dim == 0 { return [try Tensor.zerosLike(g)] }
            return [try g.sub(y.exp().mul(g.sum(dim: d, keepdim: true)))]
        }
    }

    public func logsumexp(dim: Int, keepdim: Bool = false) throws -> Tensor {
        let d = try axis(dim), x = self
        let out = try softmaxKernel(.logsumexp, dim: d, keepdim: keepdim)
        return out.recorded("logsumexp", [x]) { g in
            if x.dim == 0 { return [g] }
            let gk = keepdim ? g : try g.unsqueeze(d)
            return [try gk.mul(x.softmaxKernel(.softmax, dim: d))]
        }
    }
}

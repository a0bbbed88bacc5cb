import RealModule

/// Fused optimizer updates (one pass over each parameter, in place, no temporaries), with
/// the semantics of PyTorch's SGD/Adam/AdamW and SimCLR's LARS. Norms are summed in fixed
/// blocks so results do not depend on the thread count.
public enum OptimKernels {
    static func check(_ p: Tensor, _ g: Tensor, _ bufs: [Tensor?]) throws -> Tensor {
        try require(p.isContiguous && p.storage.count >= p.offset + p.numel, "parameter must be contiguous")
        try require(g.shape == p.shape, "gradient of size \(shapeString(g.shape)) for a parameter of size \(shapeString(p.shape))")
        for b in bufs { if let b = b {
            try require(b.shape == p.shape && b.isContiguous && b.dtype == p.dtype,
                        "state buffer of size \(shapeString(b.shape)) for a parameter of size \(shapeString(p.shape))")
        } }
        let gc = try g.to(p.dtype).contiguous()
        p.storage.bumpVersion(); for b in bufs { b?.storage.bumpVersion() }   // written in place
        return gc
    }

    /// PyTorch SGD: d = g + wd*p; buf = first ? d : m*buf + (1-dampening)*d;
    /// d = nesterov ? d + m*buf : buf; p -= lr*d.
    public static func sgd(_ p: Tensor, _ g: Tensor, _ buf: Tensor?, lr: Double, momentum: Double,
                           dampening: Double, weightDecay: Double, nesterov: Bool, first: Bool) throws {
        let gc = try check(p, g, [buf])
        try require(momentum == 0 || buf != nil, "momentum buffer missing")
        func run<T: TensorScalar>(_: T.Type) {
            let pp = p.base(T.self), gp = gc.base(T.self), bp = buf?.base(T.self)
            let lr = T(lr), m = T(momentum), damp = T(1 - dampening), wd = T(weightDecay)
            Parallel.forRange(p.numel) { lo, hi in
                for i in lo..<hi {
                    var d = gp[i] + wd * pp[i]
                    if let bp = bp, momentum != 0 {
                        let b = first ? d : m * bp[i] + damp * d
                        bp[i] = b
                        d = nesterov ? d + m * b : b
                    }
                    pp[i] -= lr * d
                }
            }
        }
        switch p.dtype { case .float32: run(Float.self); case .float64: run(Double.self) }
    }

    /// PyTorch Adam (L2 weight decay added to the gradient) or AdamW (decoupled decay),
    /// `step` counted from 1.
    public static func adam(_ p: Tensor, _ g: Tensor, _ m: Tensor, _ v: Tensor, lr: Double, beta1: Double,
                            beta2: Double, eps: Double, weightDecay: Double, step: Int, decoupled: Bool) throws {
        let gc = try check(p, g, [m, v])
        try require(step >= 1, "step must be at least 1")
        let bc1 = 1 - Double.pow(beta1, Double(step)), bc2 = 1 - Double.pow(beta2, Double(step))
        func run<T: TensorScalar>(_: T.Type) {
            let pp = p.base(T.self), gp = gc.base(T.self), mp = m.base(T.self), vp = v.base(T.self)
            let b1 = T(beta1), b2 = T(beta2), stepSize = T(lr / bc1), sq2 = T(bc2.squareRoot()), e = T(eps)
            let wd = T(weightDecay), decay = T(1 - lr * weightDecay)
            Parallel.forRange(p.numel) { lo, hi in
                for i in lo..<hi {
                    var gi = gp[i]
                    if decoupled { pp[i] *= decay } else { gi += wd * pp[i] }
                    let mi = b1 * mp[i] + (1 - b1) * gi
                    let vi = b2 * vp[i] + (1 - b2) * gi * gi
                    mp[i] = mi; vp[i] = vi
                    pp[i] -= stepSize * mi / (vi.squareRoot() / sq2 + e)
                }
            }
        }
        switch p.dtype { case .float32: run(Float.self); case .float64: run(Double.self) }
    }

    /// SimCLR's LARS: d = g + wd*p; trust = eta*|p|/|d| (1 when either norm is 0, or without
    /// adaptation); v = m*v + lr*trust*d; p -= v. Returns the trust ratio used.
    @discardableResult
    public static func lars(_ p: Tensor, _ g: Tensor, _ v: Tensor, lr: Double, momentum: Double,
                            weightDecay: Double, eta: Double, adapt: Bool) throws -> Double {
        let gc = try check(p, g, [v])
        var trust = 1.0
        func run<T: TensorScalar>(_: T.Type) throws {
            let pp = p.base(T.self), gp = gc.base(T.self), vp = v.base(T.self)
            let n = p.numel
            if adapt {
                let block = 1 << 15, nb = (n + block - 1) / block
                var parts = try [Double](failableRepeating: 0, count: 2 * nb, "the norms' partial sums")
                parts.withUnsafeMutableBufferPointer { pb in
                    let q = pb.baseAddress!
                    Parallel.forEach(nb) { b in
                        var sw = 0.0, sd = 0.0
                        let wd = T(weightDecay)
                        for i in (b * block)..<Swift.min(n, (b + 1) * block) {
                            let w = pp[i], d = gp[i] + wd * w
                            sw += Double(w * w); sd += Double(d * d)
                        }
                        q[2 * b] = sw; q[2 * b + 1] = sd
                    }
                }
                var sw = 0.0, sd = 0.0
                for b in 0..<nb { sw += parts[2 * b]; sd += parts[2 * b + 1] }
                let wn = sw.squareRoot(), dn = sd.squareRoot()
                if wn > 0 && dn > 0 { trust = eta * wn / dn }
            }
            let scaled = T(lr * trust), m = T(momentum), wd = T(weightDecay)
            Parallel.forRange(n) { lo, hi in
                for i in lo..<hi {
                    let d = gp[i] + wd * pp[i]
                    let vi = m * vp[i] + scaled * d
                    vp[i] = vi
                    pp[i] -= vi
                }
            }
        }
        switch p.dtype { case .float32: try run(Float.self); case .float64: try run(Double.self) }
        return trust
    }
}

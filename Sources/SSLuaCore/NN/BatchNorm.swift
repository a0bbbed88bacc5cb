/// Batch normalisation over (N, C, *) as PyTorch's `batch_norm`: training mode normalises with
/// the batch statistics (biased variance) and updates the running statistics in place with
/// the unbiased variance and `momentum`; eval mode uses the running statistics.
/// An optional fused ReLU saves one pass and one tensor per layer in a ResNet.
public struct BatchNormOptions {
    public var training: Bool
    public var momentum: Double
    public var eps: Double
    public var relu: Bool
    public init(training: Bool, momentum: Double = 0.1, eps: Double = 1e-5, relu: Bool = false) {
        self.training = training; self.momentum = momentum; self.eps = eps; self.relu = relu
    }
}

extension Tensor {
    public static func batchNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?,
                                 runningVar: Tensor?, _ opt: BatchNormOptions) throws -> Tensor {
        try require(x.dim >= 2, "expected an input of at least 2 dimensions (N, C, ...), got size \(shapeString(x.shape))")
        let n = x.shape[0], c = x.shape[1], s = x.shape[2...].reduce(1, *)
        for (name, t) in [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)] {
            guard let t = t else { continue }
            try require(t.dim == 1 && t.shape[0] == c,
                        "expected \(name) of size [\(c)] for an input with \(c) channels (size \(shapeString(x.shape))), got \(shapeString(t.shape))")
            try require(t.dtype == x.dtype, "\(name) is \(t.dtype.rawValue) but input is \(x.dtype.rawValue)")
        }
        try require((runningMean == nil) == (runningVar == nil), "running_mean and running_var must be given together")
        let useBatch = opt.training || runningMean == nil
        let m = n * s
        if useBatch { try require(m > 1, "expected more than 1 value per channel when training, got input size \(shapeString(x.shape))") }
        try require(opt.eps >= 0, "eps must be non-negative")
        for t in [runningMean, runningVar] { if let t = t { try require(t.isContiguous, "running statistics must be contiguous") } }
        let xc = try x.contiguous()
        let wc = try weight?.contiguous(), bc = try bias?.contiguous()
        let out = try Tensor(shape: x.shape, dtype: x.dtype, zeroed: false)
        // per-channel mean and 1/std used for normalising (kept for backward)
        var mean = try [Double](failableRepeating: 0, count: c), invstd = try [Double](failableRepeating: 0, count: c)
        // the affine pass's scale and shift, kept so backward recomputes the ReLU mask from x
        var scales = try [Double](failableRepeating: 0, count: c), shifts = try [Double](failableRepeating: 0, count: c)
        func forward<T: TensorScalar>(_: T.Type) {
            let xp = xc.base(T.self), op = out.base(T.self)
            let wp = wc?.base(T.self), bp = bc?.base(T.self)
            let rm = runningMean?.base(T.self), rv = runningVar?.base(T.self)
            mean.withUnsafeMutableBufferPointer { mb in invstd.withUnsafeMutableBufferPointer { ib in
            scales.withUnsafeMutableBufferPointer { sb in shifts.withUnsafeMutableBufferPointer { hb in
                let mp = mb.baseAddress!, ip = ib.baseAddress!, sp = sb.baseAddress!, hp = hb.baseAddress!
                Parallel.forRange(c, grain: max(1, 65536 / max(m, 1))) { lo, hi in
                    for ch in lo..<hi {
                        var mu: Double, varB: Double
                        if useBatch {
                            var acc = 0.0
                            for i in 0..<n { acc += Double(rowSum(xp + (i * c + ch) * s, s)) }
                            mu = acc / Double(m)
                            var sq = 0.0
                            let muT = T(mu)
                            for i in 0..<n { sq += Double(rowSumSqDev(xp + (i * c + ch) * s, s, muT)) }
                            varB = sq / Double(m)
                            if let rm = rm, let rv = rv {
                                let mo = opt.momentum
                                rm[ch] = T((1 - mo) * Double(rm[ch]) + mo * mu)
                                rv[ch] = T((1 - mo) * Double(rv[ch]) + mo * varB * Double(m) / Double(m - 1))
                            }
                        } else {
                            if let rm = rm, let rv = rv { mu = Double(rm[ch]); varB = Double(rv[ch]) } else { mu = 0; varB = 1 }
                        }
                        let inv = 1 / (varB + opt.eps).squareRoot()
                        mp[ch] = mu; ip[ch] = inv
                        // y = x * scale + shift
                        let w = wp.map { Double($0[ch]) } ?? 1, b = bp.map { Double($0[ch]) } ?? 0
                        let scale = T(w * inv), shift = T(b), muT = T(mu)
                        sp[ch] = w * inv; hp[ch] = b
                        for i in 0..<n {
                            rowAffine(xp + (i * c + ch) * s, op + (i * c + ch) * s, s, muT, scale, shift, relu: opt.relu)
                        }
                    }
                }
            } } } }
        }
        switch x.dtype { case .float32: forward(Float.self); case .float64: forward(Double.self) }
        if useBatch { runningMean?.storage.bumpVersion(); runningVar?.storage.bumpVersion() }   // updated in place
        var inputs = [x]
        if let w = weight { inputs.append(w) }
        if let b = bias { inputs.append(b) }
        let savedMean = mean, savedInv = invstd
        let savedScale = scales, savedShift = shifts
        let y = out.detach()   // the output's values without its node: no retain cycle
        return out.recorded("batch_norm", inputs) { gout in
            let gc = try gout.contiguous()
            let gx = x.requiresGrad ? try Tensor(shape: x.shape, dtype: x.dtype, zeroed: false) : nil
            let gw = (weight?.requiresGrad ?? false) ? try Tensor(shape: [c], dtype: x.dtype, zeroed: false) : nil
            let gb = (bias?.requiresGrad ?? false) ? try Tensor(shape: [c], dtype: x.dtype, zeroed: false) : nil
            func backward<T: TensorScalar>(_: T.Type) {
                let xp = xc.base(T.self), gp = gc.base(T.self), yp = y.base(T.self)
                let wp = wc?.base(T.self)
                let gxp = gx?.base(T.self), gwp = gw?.base(T.self), gbp = gb?.base(T.self)
                savedMean.withUnsafeBufferPointer { mb in savedInv.withUnsafeBufferPointer { ib in
                    let mp = mb.baseAddress!, ip = ib.baseAddress!
                    Parallel.forRange(c, grain: max(1, 65536 / max(m, 1))) { lo, hi in
                        for ch in lo..<hi {
                            let muT = T(mp[ch]), invT = T(ip[ch])
                            let mask = opt.relu ? ReluMask(scale: T(savedScale[ch]), shift: T(savedShift[ch])) : nil
                            var sdy = 0.0, sdyx = 0.0
                            for i in 0..<n {
                                let off = (i * c + ch) * s
                                let (a, b) = rowGradSums(gp + off, xp + off, s, muT, relu: mask)
                                sdy += Double(a); sdyx += Double(b)
                            }
                            sdyx *= ip[ch]   // sum of dy * xhat
                            gwp?[ch] = T(sdyx)
                            gbp?[ch] = T(sdy)
                            guard let gxp = gxp else { continue }
                            let w = wp.map { Double($0[ch]) } ?? 1
                            let k0 = T(w * ip[ch])
                            if useBatch {
                                let a = T(sdy / Double(m)), b = T(sdyx / Double(m))
                                // gx = k0 * (d - a - (x - mu) * inv * b)
                                let kx = -k0 * invT * b, k1 = -k0 * a
                                for i in 0..<n {
                                    let off = (i * c + ch) * s
                                    rowBNGrad(gp + off, xp + off, gxp + off, s, muT, k0, kx, k1, relu: mask)
                                }
                            } else {
                                for i in 0..<n {
                                    let off = (i * c + ch) * s
                                    rowScaledMask(gp + off, yp + off, gxp + off, s, k0, relu: opt.relu)
                                }
                            }
                        }
                    }
                } }
            }
            switch x.dtype { case .float32: backward(Float.self); case .float64: backward(Double.self) }
            var r: [Tensor?] = [gx]
            if weight != nil { r.append(gw) }
            if bias != nil { r.append(gb) }
            return r
        }
    }
}

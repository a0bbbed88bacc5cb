/// Batch normalisation over (N, C, *) as PyTorch's `batch_norm`: training mode normalises with
/// the batch statistics (biased variance) and updates the running statistics in place with
/// the unbiased variance and `momentum`; eval mode uses the running statistics.
/// An optional fused ReLU saves one pass and one tensor per layer in a ResNet.
/// `sync` (SyncBatchNorm, training mode in a world of several ranks): the batch statistics
/// are those of the global batch, and backward reduces its two gradient sums over the ranks,
/// as PyTorch's SyncBatchNorm kernels (local sums, one all-reduce, the elementwise pass).
public struct BatchNormOptions {
    public var training: Bool
    public var momentum: Double
    public var eps: Double
    public var relu: Bool
    public var sync: Bool
    public init(training: Bool, momentum: Double = 0.1, eps: Double = 1e-5, relu: Bool = false, sync: Bool = false) {
        self.training = training; self.momentum = momentum; self.eps = eps; self.relu = relu; self.sync = sync
    }
}

extension Tensor {
    /// Channel `ch`'s sums of dy and dy * (x - mu) over the n samples' planes of size s (through
    /// the ReLU mask), accumulated in Double: the two reductions of batch norm's backward.
    @inline(__always) static func channelGradSums<T: TensorScalar>(_ gp: UnsafeMutablePointer<T>, _ xp: UnsafeMutablePointer<T>,
                                                                 n: Int, c: Int, s: Int, ch: Int, _ mu: T,
                                                                 _ mask: ReluMask<T>?) -> (Double, Double) {
        var sdy = 0.0, sdyx = 0.0
        for i in 0..<n {
            let off = (i * c + ch) * s
            let (a, b) = rowGradSums(gp + off, xp + off, s, mu, relu: mask)
            sdy += Double(a); sdyx += Double(b)
        }
        return (sdy, sdyx)
    }

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
        let sync = opt.sync && useBatch && Dist.size > 1
        if sync { return try syncBatchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar, opt) }
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
                            let (sdy, sdxm) = channelGradSums(gp, xp, n: n, c: c, s: s, ch: ch, muT, mask)
                            let sdyx = sdxm * ip[ch]   // sum of dy * xhat
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

extension Tensor {
    /// Training-mode batch norm over the ranks' global batch (`BatchNormOptions.sync`):
    /// per channel, the local sum and sum of squares of x - shift (shift = the running mean,
    /// the same on every rank, so that E[x^2] - E[x]^2 does not cancel) and the count go through
    /// one all-reduce; the elementwise pass uses the global mean and variance. Backward: the
    /// local sums of dy and dy * xhat are all-reduced (the backward of a summed all-reduce) for
    /// the input gradient; the weight and bias gradients stay local (DDP averages them).
    static func syncBatchNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?,
                              runningVar: Tensor?, _ opt: BatchNormOptions) throws -> Tensor {
        let n = x.shape[0], c = x.shape[1], s = x.shape[2...].reduce(1, *)
        let m = n * s
        let xc = try x.contiguous()
        let wc = try weight?.contiguous(), bc = try bias?.contiguous()
        let out = try Tensor(shape: x.shape, dtype: x.dtype, zeroed: false)
        let cc2 = 2 * c   // c is a dimension of an allocated tensor: no overflow
        let stats = try Tensor(shape: [cc2 + 1], dtype: .float64, zeroed: false)   // every entry written below
        var mean = try [Double](failableRepeating: 0, count: c), invstd = try [Double](failableRepeating: 0, count: c)
        var scales = try [Double](failableRepeating: 0, count: c), shifts = try [Double](failableRepeating: 0, count: c)
        // 1. local sums about the shift
        func localSums<T: TensorScalar>(_: T.Type) {
            let xp = xc.base(T.self), st = stats.base(Double.self)
            let rm = runningMean?.base(T.self)
            Parallel.forRange(c, grain: max(1, 65536 / max(m, 1))) { lo, hi in
                for ch in lo..<hi {
                    let shift = rm.map { $0[ch] } ?? T(0)
                    var s1 = 0.0, s2 = 0.0
                    for i in 0..<n {
                        let row = xp + (i * c + ch) * s
                        s1 += Double(rowSum(row, s)) - Double(s) * Double(shift)
                        s2 += Double(rowSumSqDev(row, s, shift))
                    }
                    st[ch] = s1; st[c + ch] = s2
                }
            }
            st[cc2] = Double(m)
        }
        switch x.dtype { case .float32: localSums(Float.self); case .float64: localSums(Double.self) }
        let global = try Dist.allReduce(stats, .sum)
        let gs = global.base(Double.self)
        let total = gs[cc2]
        try require(total > 1, "expected more than 1 value per channel when training, got \(Int(total)) over all ranks")
        // 2. global statistics, running statistics, the affine pass
        func apply<T: TensorScalar>(_: T.Type) {
            let xp = xc.base(T.self), op = out.base(T.self)
            let wp = wc?.base(T.self), bp = bc?.base(T.self)
            let rm = runningMean?.base(T.self), rv = runningVar?.base(T.self)
            for ch in 0..<c {
                let shift = rm.map { Double($0[ch]) } ?? 0
                let md = gs[ch] / total
                let varB = Swift.max(0, gs[c + ch] / total - md * md)
                let mu = shift + md
                if let rm = rm, let rv = rv {
                    let mo = opt.momentum
                    rm[ch] = T((1 - mo) * Double(rm[ch]) + mo * mu)
                    rv[ch] = T((1 - mo) * Double(rv[ch]) + mo * varB * total / Swift.max(total - 1, 1))
                }
                let inv = 1 / (varB + opt.eps).squareRoot()
                mean[ch] = mu; invstd[ch] = inv
                let w = wp.map { Double($0[ch]) } ?? 1, b = bp.map { Double($0[ch]) } ?? 0
                scales[ch] = w * inv; shifts[ch] = b
            }
            mean.withUnsafeBufferPointer { mb in scales.withUnsafeBufferPointer { sb in shifts.withUnsafeBufferPointer { hb in
                let mp = mb.baseAddress!, sp = sb.baseAddress!, hp = hb.baseAddress!
                Parallel.forRange(c, grain: max(1, 65536 / max(m, 1))) { lo, hi in
                    for ch in lo..<hi {
                        let muT = T(mp[ch]), scale = T(sp[ch]), shift = T(hp[ch])
                        for i in 0..<n {
                            rowAffine(xp + (i * c + ch) * s, op + (i * c + ch) * s, s, muT, scale, shift, relu: opt.relu)
                        }
                    }
                }
            } } }
        }
        switch x.dtype { case .float32: apply(Float.self); case .float64: apply(Double.self) }
        runningMean?.storage.bumpVersion(); runningVar?.storage.bumpVersion()
        var inputs = [x]
        if let w = weight { inputs.append(w) }
        if let b = bias { inputs.append(b) }
        let savedMean = mean, savedInv = invstd, savedScale = scales, savedShift = shifts
        return out.recorded("sync_batch_norm", inputs) { gout in
            let gc = try gout.contiguous()
            let gx = x.requiresGrad ? try Tensor(shape: x.shape, dtype: x.dtype, zeroed: false) : nil
            let gw = (weight?.requiresGrad ?? false) ? try Tensor(shape: [c], dtype: x.dtype, zeroed: false) : nil
            let gb = (bias?.requiresGrad ?? false) ? try Tensor(shape: [c], dtype: x.dtype, zeroed: false) : nil
            let sums = try Tensor(shape: [cc2], dtype: .float64, zeroed: false)   // every entry written below
            // local sums of dy and dy * xhat (through the ReLU mask)
            func reduceLocal<T: TensorScalar>(_: T.Type) {
                let xp = xc.base(T.self), gp = gc.base(T.self), sp = sums.base(Double.self)
                let gwp = gw?.base(T.self), gbp = gb?.base(T.self)
                Parallel.forRange(c, grain: max(1, 65536 / max(m, 1))) { lo, hi in
                    for ch in lo..<hi {
                        let muT = T(savedMean[ch])
                        let mask = opt.relu ? ReluMask(scale: T(savedScale[ch]), shift: T(savedShift[ch])) : nil
                        let (sdy, sdxm) = channelGradSums(gp, xp, n: n, c: c, s: s, ch: ch, muT, mask)
                        let sdyx = sdxm * savedInv[ch]
                        gwp?[ch] = T(sdyx)
                        gbp?[ch] = T(sdy)
                        sp[ch] = sdy; sp[c + ch] = sdyx
                    }
                }
            }
            switch x.dtype { case .float32: reduceLocal(Float.self); case .float64: reduceLocal(Double.self) }
            // every rank takes part in the all-reduce, whether or not its input needs a gradient
            let gsum = try Dist.allReduce(sums, .sum)
            if let gx = gx {
                func elementwise<T: TensorScalar>(_: T.Type) {
                    let xp = xc.base(T.self), gp = gc.base(T.self), gxp = gx.base(T.self)
                    let wp = wc?.base(T.self), gg = gsum.base(Double.self)
                    Parallel.forRange(c, grain: max(1, 65536 / max(m, 1))) { lo, hi in
                        for ch in lo..<hi {
                            let muT = T(savedMean[ch]), invT = T(savedInv[ch])
                            let mask = opt.relu ? ReluMask(scale: T(savedScale[ch]), shift: T(savedShift[ch])) : nil
                            let w = wp.map { Double($0[ch]) } ?? 1
                            let k0 = T(w * savedInv[ch])
                            let a = T(gg[ch] / total), b = T(gg[c + ch] / total)
                            let kx = -k0 * invT * b, k1 = -k0 * a
                            for i in 0..<n {
                                let off = (i * c + ch) * s
                                rowBNGrad(gp + off, xp + off, gxp + off, s, muT, k0, kx, k1, relu: mask)
                            }
                        }
                    }
                }
                switch x.dtype { case .float32: elementwise(Float.self); case .float64: elementwise(Double.self) }
            }
            var r: [Tensor?] = [gx]
            if weight != nil { r.append(gw) }
            if bias != nil { r.append(gb) }
            return r
        }
    }
}

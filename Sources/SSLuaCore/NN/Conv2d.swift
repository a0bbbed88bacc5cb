import COpenBLAS
import CRuntime

/// 2-d convolution (cross-correlation, as PyTorch's `conv2d`, groups = 1) by im2col + gemm.
///
/// Layout: the column matrix of a chunk of `nb` samples is `[C*kh*kw, nb*OH*OW]` (rows are
/// `(c, ki, kj)`, columns `(sample, oh, ow)`), so the forward product is
/// `W[O, CKK] * col` with no transposes, and a chunk of samples feeds one large gemm even when
/// the spatial size is small (the last ResNet stage is 4x4). Columns are rebuilt in backward
/// rather than kept, so memory stays at one chunk's worth of columns.
public struct Conv2dGeometry {
    public let n, c, h, w, o, kh, kw, sh, sw, ph, pw, oh, ow: Int
    var ckk: Int { c * kh * kw }
    var ohw: Int { oh * ow }
}

/// Elements of column matrix a worker's chunk may use (512 KB of float32, half of a 1 MB L2):
/// im2col writes the columns and the gemm reads them back at once, so they should stay in L2.
/// Measured on the ResNet shapes at batch 128 (Zen 4, 2 threads): a 16 MB budget took each
/// stride-2 3x3 layer 15-18% longer forward plus backward (the stem 28%), since the columns
/// went to memory between the two. ResNet-18's deeper stride-2 layers (chunks of 1-3 samples
/// now) measured the same or up to 19% faster.
let convColumnBudget = 1 << 17

/// From this output plane size on, per-sample gemms are efficient and write the NCHW output
/// (and read its gradient) in place; below it a chunk of samples shares one gemm.
let convDirectSpatial = 256

extension Tensor {
    /// Checks shapes and returns the geometry of `conv2d(x, w)`.
    static func convGeometry(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: (Int, Int),
                             padding: (Int, Int)) throws -> Conv2dGeometry {
        try require(x.dim == 4, "expected a 4-d input (N, C, H, W), got size \(shapeString(x.shape))")
        try require(w.dim == 4, "expected a 4-d weight (out, in, kh, kw), got size \(shapeString(w.shape))")
        try require(x.dtype == w.dtype, "input is \(x.dtype.rawValue) but weight is \(w.dtype.rawValue)")
        try require(x.shape[1] == w.shape[1],
                    "expected input with \(w.shape[1]) channels (weight \(shapeString(w.shape))), got \(x.shape[1]) channels (input \(shapeString(x.shape)))")
        if let b = b {
            try require(b.dim == 1 && b.shape[0] == w.shape[0], "bias of size \(shapeString(b.shape)) for \(w.shape[0]) output channels")
            try require(b.dtype == x.dtype, "bias is \(b.dtype.rawValue) but input is \(x.dtype.rawValue)")
        }
        try require(stride.0 >= 1 && stride.1 >= 1, "stride must be positive, got \(stride.0)x\(stride.1)")
        try require(padding.0 >= 0 && padding.1 >= 0, "padding must be non-negative, got \(padding.0)x\(padding.1)")
        try require(w.shape[2] >= 1 && w.shape[3] >= 1, "empty kernel \(shapeString(w.shape))")
        let (h, wd) = (x.shape[2], x.shape[3])
        let hp = h + 2 * padding.0, wp = wd + 2 * padding.1
        try require(hp >= w.shape[2] && wp >= w.shape[3],
                    "kernel size \(w.shape[2])x\(w.shape[3]) is larger than the padded input \(hp)x\(wp)")
        let oh = (hp - w.shape[2]) / stride.0 + 1, ow = (wp - w.shape[3]) / stride.1 + 1
        // column buffers hold ckk * oh * ow elements per sample: keep every product in range
        var acc = 1
        for f in [w.shape[1], w.shape[2], w.shape[3], oh, ow] {
            let (m, o) = acc.multipliedReportingOverflow(by: f)
            try require(!o && m < (1 << 40), "convolution too large: output \(oh)x\(ow), kernel \(shapeString(w.shape))")
            acc = m
        }
        return Conv2dGeometry(n: x.shape[0], c: x.shape[1], h: h, w: wd, o: w.shape[0],
                              kh: w.shape[2], kw: w.shape[3], sh: stride.0, sw: stride.1,
                              ph: padding.0, pw: padding.1, oh: oh, ow: ow)
    }

    /// `conv2d(x, w, b)` with autograd to x, w and b.
    public static func conv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: (Int, Int) = (1, 1),
                              padding: (Int, Int) = (0, 0)) throws -> Tensor {
        let g = try convGeometry(x, w, b, stride: stride, padding: padding)
        let xc = try x.contiguous(), wc = try w.contiguous(), bc = try b?.contiguous()
        let out = try Tensor(shape: [g.n, g.o, g.oh, g.ow], dtype: x.dtype, zeroed: false)
        switch x.dtype {
        case .float32: try convForward(g, xc.base(Float.self), wc.base(Float.self), bc?.base(Float.self), out.base(Float.self))
        case .float64: try convForward(g, xc.base(Double.self), wc.base(Double.self), bc?.base(Double.self), out.base(Double.self))
        }
        var inputs = [x, w]
        if let b = b { inputs.append(b) }
        return out.recorded("conv2d", inputs) { gout in
            let gc = try gout.contiguous()
            // col2im adds into gx; the flipped-kernel path (stride 1) writes every element
            let gx = x.requiresGrad ? try Tensor(shape: x.shape, dtype: x.dtype, zeroed: inputGradAsConv(g) == nil) : nil
            let gw = w.requiresGrad ? try Tensor(shape: w.shape, dtype: w.dtype, zeroed: false) : nil
            let gb = (b?.requiresGrad ?? false) ? try Tensor(shape: [g.o], dtype: x.dtype, zeroed: false) : nil
            switch x.dtype {
            case .float32:
                try convBackward(g, xc.base(Float.self), wc.base(Float.self), gc.base(Float.self),
                                 gx?.base(Float.self), gw?.base(Float.self), gb?.base(Float.self))
            case .float64:
                try convBackward(g, xc.base(Double.self), wc.base(Double.self), gc.base(Double.self),
                                 gx?.base(Double.self), gw?.base(Double.self), gb?.base(Double.self))
            }
            var r: [Tensor?] = [gx, gw]
            if b != nil { r.append(gb) }
            return r
        }
    }

    /// Samples per chunk so that the chunk's columns fit the budget.
    static func convChunk(_ g: Conv2dGeometry) -> Int {
        max(1, Swift.min(g.n, convColumnBudget / max(1, g.ckk * g.ohw)))
    }

    /// Fills `col[CKK, nb*OHW]` for samples `n0 ..< n0+nb` (serial: each worker owns its samples).
    /// The offset map of im2col's small-plane path (nil on the other path): small planes (the
    /// deep ResNet stages) have row loops of a few elements that cost more in bookkeeping than
    /// in copying, so each output plane is gathered through an offset map per kernel tap (-1
    /// marks padding). Built once per call, before the workers: its size (taps x output plane)
    /// comes from the caller's kernel, so its allocation may fail ("out of memory").
    static func gatherMap(_ g: Conv2dGeometry) throws -> Buffer<Int32>? {
        guard g.ow < 16 && g.ohw <= 4096 else { return nil }
        let (n, o) = (g.kh * g.kw).multipliedReportingOverflow(by: g.ohw)
        guard !o else { throw SSLuaError("out of memory: the convolution's offset map overflows the address space") }
        let map = try Buffer<Int32>(repeating: -1, count: n, "the convolution's offset map")
        for ki in 0..<g.kh { for kj in 0..<g.kw {
            for oh in 0..<g.oh { for ow in 0..<g.ow {
                let ih = oh * g.sh - g.ph + ki, iw = ow * g.sw - g.pw + kj
                if ih >= 0 && ih < g.h && iw >= 0 && iw < g.w {
                    map[(ki * g.kw + kj) * g.ohw + oh * g.ow + ow] = Int32(ih * g.w + iw)
                }
            } }
        } }
        return map
    }

    static func im2col<T: TensorScalar>(_ g: Conv2dGeometry, _ x: UnsafeMutablePointer<T>, _ n0: Int, _ nb: Int,
                                        _ col: UnsafeMutablePointer<T>, _ map: Buffer<Int32>?) {
        let ld = nb * g.ohw
        if let map {
            let mp = map.base
            let kk = g.kh * g.kw
            let plane = g.h * g.w
            for r in 0..<g.ckk {
                let c = r / kk, m = mp + (r % kk) * g.ohw
                for j in 0..<nb {
                    let src = x + ((n0 + j) * g.c + c) * plane
                    let d = col + r * ld + j * g.ohw
                    for p in 0..<g.ohw { let o = Int(m[p]); d[p] = o >= 0 ? src[o] : 0 }
                }
            }
            return
        }
        for r in 0..<g.ckk {
            let c = r / (g.kh * g.kw), ki = (r / g.kw) % g.kh, kj = r % g.kw
            // valid ow range: 0 <= ow*sw - pw + kj < W
            let owLo = Swift.min(g.ow, Swift.max(0, (g.pw - kj + g.sw - 1) / g.sw))
            let owHi = Swift.max(owLo, Swift.min(g.ow, Swift.max(0, (g.w - 1 + g.pw - kj) / g.sw + 1)))
            for j in 0..<nb {
                let src = x + ((n0 + j) * g.c + c) * g.h * g.w
                if ki == 0 && kj == 0 && c + 1 < g.c {   // the next channel's plane, a page or more away
                    sslua_prefetch_l2(src + g.h * g.w, g.h * g.w * MemoryLayout<T>.stride)
                }
                let dstRow = col + r * ld + j * g.ohw
                for oh in 0..<g.oh {
                    let ih = oh * g.sh - g.ph + ki
                    let d = dstRow + oh * g.ow
                    if ih < 0 || ih >= g.h {
                        for ow in 0..<g.ow { d[ow] = 0 }
                        continue
                    }
                    for ow in 0..<owLo { d[ow] = 0 }
                    let s = src + ih * g.w - g.pw + kj
                    if g.sw == 1 {
                        for ow in owLo..<owHi { d[ow] = s[ow] }
                    } else if g.sw == 2 && T.self == Float.self {
                        gatherStride2(asF(UnsafePointer(s)), asF(d), owLo, owHi)
                    } else {
                        for ow in owLo..<owHi { d[ow] = s[ow * g.sw] }
                    }
                    for ow in owHi..<g.ow { d[ow] = 0 }
                }
            }
        }
    }

    /// `d[i] = s[2 * i]` for i in lo ..< hi, reading no element outside `s[2*lo] ... s[2*(hi-1)]`
    /// (the row's valid taps: one further could be past the end of the input): 16-float loads
    /// split into their even lanes, the last block aligned to end exactly at the last tap.
    @inline(__always) static func gatherStride2(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>,
                                                _ lo: Int, _ hi: Int) {
        var i = lo
        if hi - lo >= 9 {
            while i + 9 <= hi {
                st8(UnsafeRawPointer(s + 2 * i).loadUnaligned(as: SIMD16<Float>.self).evenHalf, d + i)
                i += 8
            }
            let t = hi - 8   // >= lo + 1, so s[2t - 1] is inside the row's taps
            st8(UnsafeRawPointer(s + 2 * t - 1).loadUnaligned(as: SIMD16<Float>.self).oddHalf, d + t)
            return
        }
        while i < hi { d[i] = s[2 * i]; i += 1 }
    }

    /// Adds `col[CKK, nb*OHW]` back into `dx` for samples `n0 ..< n0+nb` (serial).
    static func col2im<T: TensorScalar>(_ g: Conv2dGeometry, _ col: UnsafeMutablePointer<T>, _ n0: Int, _ nb: Int,
                                        _ dx: UnsafeMutablePointer<T>) {
        let ld = nb * g.ohw
        for j in 0..<nb {
            for c in 0..<g.c {
                let dst = dx + ((n0 + j) * g.c + c) * g.h * g.w
                for ki in 0..<g.kh {
                    for kj in 0..<g.kw {
                        let r = (c * g.kh + ki) * g.kw + kj
                        let srcRow = col + r * ld + j * g.ohw
                        let owLo = Swift.min(g.ow, Swift.max(0, (g.pw - kj + g.sw - 1) / g.sw))
                        let owHi = Swift.max(owLo, Swift.min(g.ow, Swift.max(0, (g.w - 1 + g.pw - kj) / g.sw + 1)))
                        if owLo >= owHi { continue }
                        for oh in 0..<g.oh {
                            let ih = oh * g.sh - g.ph + ki
                            if ih < 0 || ih >= g.h { continue }
                            let s = srcRow + oh * g.ow
                            let d = dst + ih * g.w - g.pw + kj
                            if g.sw == 1 {
                                for ow in owLo..<owHi { d[ow] += s[ow] }
                            } else {
                                for ow in owLo..<owHi { d[ow * g.sw] += s[ow] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The float32 view of a generic kernel pointer (callers check `T.self == Float.self`).
    @inline(__always) static func floats<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    /// Workers for a conv call: each takes a contiguous range of samples and runs im2col,
    /// single-threaded gemms and col2im on it with its own buffers, so the threads never
    /// synchronise inside a layer and small gemms pay no BLAS threading overhead. The split
    /// depends only on the thread count (deterministic results).
    static func convWorkers(_ g: Conv2dGeometry) -> Int { max(1, Swift.min(Parallel.threads, g.n)) }

    struct ConvBuffers<T: TensorScalar> {
        let col: UnsafeMutablePointer<T>, tmp: UnsafeMutablePointer<T>, dcol: UnsafeMutablePointer<T>
        let dw: UnsafeMutablePointer<T>
    }

    /// Scratch for each worker, taken from the workspace before the parallel region.
    static func convBuffers<T: TensorScalar>(_ g: Conv2dGeometry, _ workers: Int, _ per: Int, backward: Bool,
                                             _: T.Type) throws -> [ConvBuffers<T>] {
        try (0..<workers).map { t in
            let col = try NNWorkspace.buffer(4 * t, g.ckk * per * g.ohw, T.self)
            let tmp = try NNWorkspace.buffer(4 * t + 1, g.o * per * g.ohw, T.self)
            let dcol = backward ? try NNWorkspace.buffer(4 * t + 2, g.ckk * per * g.ohw, T.self) : col
            let dw = backward && t > 0 ? try NNWorkspace.buffer(4 * t + 3, g.o * g.ckk, T.self) : col
            return ConvBuffers(col: col, tmp: tmp, dcol: dcol, dw: dw)
        }
    }

    static func convForward<T: TensorScalar>(_ g: Conv2dGeometry, _ x: UnsafeMutablePointer<T>, _ w: UnsafeMutablePointer<T>,
                                             _ b: UnsafeMutablePointer<T>?, _ out: UnsafeMutablePointer<T>) throws {
        if T.self == Float.self && Winograd.eligible(g) {
            try Winograd.forward(g, floats(x), floats(w), b.map(floats), floats(out))
            return
        }
        let workers = convWorkers(g)
        let per = convChunk(g)
        let bufs = try convBuffers(g, workers, per, backward: false, T.self)
        let map = try gatherMap(g)
        try Parallel.checkInterrupt()
        Parallel.runWorkers(workers) { t in
            let lo = g.n * t / workers, hi = g.n * (t + 1) / workers
            let col = bufs[t].col, tmp = bufs[t].tmp
            var n0 = lo
            while n0 < hi {
                let nb = Swift.min(per, hi - n0)
                im2col(g, x, n0, nb, col, map)
                let ld = nb * g.ohw
                if nb == 1 || g.ohw >= convDirectSpatial {
                    for j in 0..<nb {
                        nnGemm(false, false, g.o, g.ohw, g.ckk, T(1), w, g.ckk, col + j * g.ohw, ld, T(0),
                               out + (n0 + j) * g.o * g.ohw, g.ohw)
                    }
                    if let b = b {
                        for q in 0..<(nb * g.o) {
                            let bv = b[q % g.o], d = out + (n0 * g.o + q) * g.ohw
                            for i in 0..<g.ohw { d[i] += bv }
                        }
                    }
                } else {
                    nnGemm(false, false, g.o, ld, g.ckk, T(1), w, g.ckk, col, ld, T(0), tmp, ld)
                    // scatter [O, nb, OHW] -> out[n0+j, O, OHW], adding the bias
                    for j in 0..<nb {
                        for o in 0..<g.o {
                            let s = tmp + o * ld + j * g.ohw, d = out + ((n0 + j) * g.o + o) * g.ohw
                            let bv = b.map { $0[o] } ?? 0
                            for i in 0..<g.ohw { d[i] = s[i] + bv }
                        }
                    }
                }
                n0 += nb
            }
        }
        try Parallel.checkInterrupt()
    }

    /// For stride 1 (and padding < kernel), the input gradient is itself a convolution: of the
    /// output gradient with the kernel flipped and in/out channels swapped, padding k-1-p. That
    /// runs as a compute-bound forward conv written straight into dx, instead of a thin gemm
    /// into a 9x column buffer and a scatter-add (col2im).
    static func inputGradAsConv(_ g: Conv2dGeometry) -> Conv2dGeometry? {
        guard g.sh == 1 && g.sw == 1 && g.ph < g.kh && g.pw < g.kw else { return nil }
        return Conv2dGeometry(n: g.n, c: g.o, h: g.oh, w: g.ow, o: g.c, kh: g.kh, kw: g.kw, sh: 1, sw: 1,
                              ph: g.kh - 1 - g.ph, pw: g.kw - 1 - g.pw, oh: g.h, ow: g.w)
    }

    static func convBackward<T: TensorScalar>(_ g: Conv2dGeometry, _ x: UnsafeMutablePointer<T>, _ w: UnsafeMutablePointer<T>,
                                              _ gout: UnsafeMutablePointer<T>, _ gx: UnsafeMutablePointer<T>?,
                                              _ gw: UnsafeMutablePointer<T>?, _ gb: UnsafeMutablePointer<T>?) throws {
        if let gx = gx, let gt = inputGradAsConv(g) {
            // flipped, transposed weight: wf[c, o, i, j] = w[o, c, kh-1-i, kw-1-j]
            let wf = UnsafeMutablePointer<T>.allocate(capacity: max(1, g.o * g.ckk))
            defer { wf.deallocate() }
            let kk = g.kh * g.kw
            for o in 0..<g.o {
                for c in 0..<g.c {
                    let src = w + (o * g.c + c) * kk, dst = wf + (c * g.o + o) * kk
                    for i in 0..<kk { dst[kk - 1 - i] = src[i] }
                }
            }
            try convForward(gt, gout, wf, nil, gx)
            try convBackward(g, x, w, gout, nil, gw, gb)
            return
        }
        if let gb = gb {
            Parallel.forRange(g.o, grain: max(1, 16384 / max(g.n * g.ohw, 1))) { lo, hi in
                for o in lo..<hi {
                    var acc = 0.0
                    for n in 0..<g.n { acc += Double(rowSum(UnsafePointer(gout + (n * g.o + o) * g.ohw), g.ohw)) }
                    gb[o] = T(acc)
                }
            }
        }
        if gx == nil && gw == nil { return }
        if gx == nil, let gw = gw, T.self == Float.self && Winograd.eligible(g) {
            try Winograd.weightGrad(g, floats(x), floats(gout), floats(gw))
            return
        }
        let workers = convWorkers(g)
        let per = convChunk(g)
        let bufs = try convBuffers(g, workers, per, backward: true, T.self)
        let map = try gatherMap(g)
        let direct = g.ohw >= convDirectSpatial
        try Parallel.checkInterrupt()
        Parallel.runWorkers(workers) { t in
            let lo = g.n * t / workers, hi = g.n * (t + 1) / workers
            let col = bufs[t].col, gT = bufs[t].tmp, dcol = bufs[t].dcol
            // worker 0 accumulates into gw itself, the others into their own partial sums
            let dw = t == 0 ? gw : (gw == nil ? nil : bufs[t].dw)
            var first = true
            var n0 = lo
            while n0 < hi {
                let nb = Swift.min(per, hi - n0)
                let ld = nb * g.ohw
                if direct || nb == 1 {
                    // per-sample products on the output gradient in place (no gather)
                    if let dw = dw {
                        im2col(g, x, n0, nb, col, map)
                        for j in 0..<nb {
                            nnGemm(false, true, g.o, g.ckk, g.ohw, T(1), gout + (n0 + j) * g.o * g.ohw, g.ohw,
                                   col + j * g.ohw, ld, first && j == 0 ? T(0) : T(1), dw, g.ckk)
                        }
                    }
                    if let gx = gx {
                        for j in 0..<nb {
                            nnGemm(true, false, g.ckk, g.ohw, g.o, T(1), w, g.ckk, gout + (n0 + j) * g.o * g.ohw, g.ohw,
                                   T(0), dcol + j * g.ohw, ld)
                        }
                        col2im(g, dcol, n0, nb, gx)
                    }
                } else {
                    // the chunk's output gradient gathered as [O, nb*OHW]
                    for j in 0..<nb {
                        for o in 0..<g.o {
                            let s = gout + ((n0 + j) * g.o + o) * g.ohw, d = gT + o * ld + j * g.ohw
                            for i in 0..<g.ohw { d[i] = s[i] }
                        }
                    }
                    if let dw = dw {
                        im2col(g, x, n0, nb, col, map)
                        nnGemm(false, true, g.o, g.ckk, ld, T(1), gT, ld, col, ld, first ? T(0) : T(1), dw, g.ckk)
                    }
                    if let gx = gx {
                        nnGemm(true, false, g.ckk, ld, g.o, T(1), w, g.ckk, gT, ld, T(0), dcol, ld)
                        col2im(g, dcol, n0, nb, gx)
                    }
                }
                first = false
                n0 += nb
            }
            if first, let dw = dw { for i in 0..<(g.o * g.ckk) { dw[i] = 0 } }   // no samples
        }
        // weight gradient: worker partial sums added in worker order
        if let gw = gw, workers > 1 {
            let count = g.o * g.ckk
            Parallel.forRange(count) { lo, hi in
                for t in 1..<workers { let p = bufs[t].dw; for i in lo..<hi { gw[i] += p[i] } }
            }
        }
        try Parallel.checkInterrupt()
    }
}

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

/// Elements of column matrix a chunk may use (16 MB of float32): large enough for efficient
/// gemm shapes, small enough to stay far below PyTorch's activation memory.
let convColumnBudget = 1 << 22

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
        let (_, o1) = (w.shape[1] * w.shape[2]).multipliedReportingOverflow(by: w.shape[3])
        try require(!o1, "weight too large")
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
            let gx = x.requiresGrad ? try Tensor(shape: x.shape, dtype: x.dtype, zeroed: true) : nil
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

    /// Fills `col[CKK, nb*OHW]` for samples `n0 ..< n0+nb`.
    static func im2col<T: TensorScalar>(_ g: Conv2dGeometry, _ x: UnsafeMutablePointer<T>, _ n0: Int, _ nb: Int,
                                        _ col: UnsafeMutablePointer<T>) {
        let ld = nb * g.ohw
        let rows = g.ckk
        Parallel.forRange(rows * nb, grain: max(1, 4096 / max(g.ohw, 1))) { lo, hi in
            for t in lo..<hi {
                let r = t / nb, j = t % nb
                let c = r / (g.kh * g.kw), ki = (r / g.kw) % g.kh, kj = r % g.kw
                let src = x + ((n0 + j) * g.c + c) * g.h * g.w
                let dstRow = col + r * ld + j * g.ohw
                // valid ow range: 0 <= ow*sw - pw + kj < W
                let owLo = Swift.max(0, (g.pw - kj + g.sw - 1) / g.sw)
                let owHi = Swift.min(g.ow, Swift.max(0, (g.w - 1 + g.pw - kj) / g.sw + 1))
                for oh in 0..<g.oh {
                    let ih = oh * g.sh - g.ph + ki
                    let d = dstRow + oh * g.ow
                    if ih < 0 || ih >= g.h || owLo >= owHi {
                        d.update(repeating: 0, count: g.ow)
                        continue
                    }
                    if owLo > 0 { d.update(repeating: 0, count: owLo) }
                    let s = src + ih * g.w - g.pw + kj
                    if g.sw == 1 {
                        (d + owLo).update(from: s + owLo, count: owHi - owLo)
                    } else {
                        var ow = owLo
                        while ow < owHi { d[ow] = s[ow * g.sw]; ow += 1 }
                    }
                    if owHi < g.ow { (d + owHi).update(repeating: 0, count: g.ow - owHi) }
                }
            }
        }
    }

    /// Adds `col[CKK, nb*OHW]` back into `dx` for samples `n0 ..< n0+nb` (each (sample, channel)
    /// plane is written by one task: deterministic).
    static func col2im<T: TensorScalar>(_ g: Conv2dGeometry, _ col: UnsafeMutablePointer<T>, _ n0: Int, _ nb: Int,
                                        _ dx: UnsafeMutablePointer<T>) {
        let ld = nb * g.ohw
        Parallel.forRange(nb * g.c, grain: max(1, 2048 / max(g.h * g.w, 1))) { lo, hi in
            for t in lo..<hi {
                let j = t / g.c, c = t % g.c
                let dst = dx + ((n0 + j) * g.c + c) * g.h * g.w
                for ki in 0..<g.kh {
                    for kj in 0..<g.kw {
                        let r = (c * g.kh + ki) * g.kw + kj
                        let srcRow = col + r * ld + j * g.ohw
                        let owLo = Swift.max(0, (g.pw - kj + g.sw - 1) / g.sw)
                        let owHi = Swift.min(g.ow, Swift.max(0, (g.w - 1 + g.pw - kj) / g.sw + 1))
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

    static func convForward<T: TensorScalar>(_ g: Conv2dGeometry, _ x: UnsafeMutablePointer<T>, _ w: UnsafeMutablePointer<T>,
                                             _ b: UnsafeMutablePointer<T>?, _ out: UnsafeMutablePointer<T>) throws {
        let per = convChunk(g)
        let col = try NNWorkspace.buffer(0, g.ckk * per * g.ohw, T.self)
        let tmp = per > 1 && g.ohw < convDirectSpatial ? try NNWorkspace.buffer(1, g.o * per * g.ohw, T.self) : col
        for (n0, nb) in nnChunks(g.n, per) {
            try Parallel.checkInterrupt()
            im2col(g, x, n0, nb, col)
            let ld = nb * g.ohw
            if nb == 1 || g.ohw >= convDirectSpatial {
                for j in 0..<nb {
                    let dst = out + (n0 + j) * g.o * g.ohw
                    nnGemm(false, false, g.o, g.ohw, g.ckk, T(1), w, g.ckk, col + j * g.ohw, ld, T(0), dst, g.ohw)
                }
                if let b = b {
                    Parallel.forRange(nb * g.o, grain: max(1, 16384 / max(g.ohw, 1))) { lo, hi in
                        for t in lo..<hi {
                            let bv = b[t % g.o], d = out + (n0 * g.o + t) * g.ohw
                            for i in 0..<g.ohw { d[i] += bv }
                        }
                    }
                }
            } else {
                nnGemm(false, false, g.o, ld, g.ckk, T(1), w, g.ckk, col, ld, T(0), tmp, ld)
                // scatter [O, nb, OHW] -> out[n0+j, O, OHW], adding the bias
                Parallel.forRange(nb * g.o, grain: max(1, 16384 / max(g.ohw, 1))) { lo, hi in
                    for t in lo..<hi {
                        let j = t / g.o, o = t % g.o
                        let s = tmp + o * ld + j * g.ohw, d = out + ((n0 + j) * g.o + o) * g.ohw
                        if let b = b { let bv = b[o]; for i in 0..<g.ohw { d[i] = s[i] + bv } }
                        else { d.update(from: s, count: g.ohw) }
                    }
                }
            }
        }
    }

    static func convBackward<T: TensorScalar>(_ g: Conv2dGeometry, _ x: UnsafeMutablePointer<T>, _ w: UnsafeMutablePointer<T>,
                                              _ gout: UnsafeMutablePointer<T>, _ gx: UnsafeMutablePointer<T>?,
                                              _ gw: UnsafeMutablePointer<T>?, _ gb: UnsafeMutablePointer<T>?) throws {
        if let gb = gb {
            Parallel.forRange(g.o, grain: max(1, 16384 / max(g.n * g.ohw, 1))) { lo, hi in
                for o in lo..<hi {
                    var acc = 0.0
                    for n in 0..<g.n {
                        let p = gout + (n * g.o + o) * g.ohw
                        var s = T(0)
                        for i in 0..<g.ohw { s += p[i] }
                        acc += Double(s)
                    }
                    gb[o] = T(acc)
                }
            }
        }
        if gx == nil && gw == nil { return }
        let per = convChunk(g)
        let col = try NNWorkspace.buffer(0, g.ckk * per * g.ohw, T.self)
        let direct = g.ohw >= convDirectSpatial
        let gT = per > 1 && !direct ? try NNWorkspace.buffer(1, g.o * per * g.ohw, T.self) : col
        let dcol = try NNWorkspace.buffer(2, g.ckk * per * g.ohw, T.self)
        var first = true
        for (n0, nb) in nnChunks(g.n, per) {
            try Parallel.checkInterrupt()
            let ld = nb * g.ohw
            if direct || nb == 1 {
                // per-sample products on the output gradient in place (no gather)
                if let gw = gw {
                    im2col(g, x, n0, nb, col)
                    for j in 0..<nb {
                        nnGemm(false, true, g.o, g.ckk, g.ohw, T(1), gout + (n0 + j) * g.o * g.ohw, g.ohw,
                               col + j * g.ohw, ld, first && j == 0 ? T(0) : T(1), gw, g.ckk)
                    }
                }
                if let gx = gx {
                    for j in 0..<nb {
                        nnGemm(true, false, g.ckk, g.ohw, g.o, T(1), w, g.ckk, gout + (n0 + j) * g.o * g.ohw, g.ohw,
                               T(0), dcol + j * g.ohw, ld)
                    }
                    col2im(g, dcol, n0, nb, gx)
                }
                first = false
                continue
            }
            // the chunk's output gradient as [O, nb*OHW]
            let G: UnsafeMutablePointer<T>
            if nb == 1 { G = gout + n0 * g.o * g.ohw } else {
                G = gT
                Parallel.forRange(nb * g.o, grain: max(1, 16384 / max(g.ohw, 1))) { lo, hi in
                    for t in lo..<hi {
                        let j = t / g.o, o = t % g.o
                        (gT + o * ld + j * g.ohw).update(from: gout + ((n0 + j) * g.o + o) * g.ohw, count: g.ohw)
                    }
                }
            }
            if let gw = gw {
                im2col(g, x, n0, nb, col)
                nnGemm(false, true, g.o, g.ckk, ld, T(1), G, ld, col, ld, first ? T(0) : T(1), gw, g.ckk)
            }
            if let gx = gx {
                nnGemm(true, false, g.ckk, ld, g.o, T(1), w, g.ckk, G, ld, T(0), dcol, ld)
                col2im(g, dcol, n0, nb, gx)
            }
            first = false
        }
    }
}

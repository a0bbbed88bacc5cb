/// 2-d pooling on (N, C, H, W) as PyTorch (floor mode, no dilation): max pooling with the
/// gradient routed to each window's first maximum (overlapping windows accumulate), average
/// pooling (`count_include_pad` as PyTorch's default), and adaptive average pooling with
/// PyTorch's window bounds `floor(i*H/OH) ..< ceil((i+1)*H/OH)`.
public struct PoolGeometry {
    public let n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow: Int
    var planes: Int { n * c }
}

extension Tensor {
    static func poolGeometry(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) throws -> PoolGeometry {
        try require(x.dim == 4, "expected a 4-d input (N, C, H, W), got size \(shapeString(x.shape))")
        try require(kernel.0 >= 1 && kernel.1 >= 1, "kernel size must be positive, got \(kernel.0)x\(kernel.1)")
        try require(stride.0 >= 1 && stride.1 >= 1, "stride must be positive, got \(stride.0)x\(stride.1)")
        try require(padding.0 >= 0 && padding.1 >= 0 && padding.0 * 2 <= kernel.0 && padding.1 * 2 <= kernel.1,
                    "padding should be at most half of the kernel size, got padding \(padding.0)x\(padding.1) for kernel \(kernel.0)x\(kernel.1)")
        let (h, w) = (x.shape[2], x.shape[3])
        let oh = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, ow = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
        try require(h + 2 * padding.0 >= kernel.0 && w + 2 * padding.1 >= kernel.1 && oh >= 1 && ow >= 1,
                    "output size is too small: input \(h)x\(w), kernel \(kernel.0)x\(kernel.1), padding \(padding.0)x\(padding.1)")
        return PoolGeometry(n: x.shape[0], c: x.shape[1], h: h, w: w, kh: kernel.0, kw: kernel.1,
                            sh: stride.0, sw: stride.1, ph: padding.0, pw: padding.1, oh: oh, ow: ow)
    }

    public static func maxPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) throws -> Tensor {
        let g = try poolGeometry(x, kernel: kernel, stride: stride, padding: padding)
        let xc = try x.contiguous()
        let out = try Tensor(shape: [g.n, g.c, g.oh, g.ow], dtype: x.dtype, zeroed: false)
        let count = out.numel
        // argmax of each output within its input plane
        var index = try [Int32](failableRepeating: 0, count: count)
        try require(g.h * g.w < Int(Int32.max), "input plane too large")
        func run<T: TensorScalar>(_: T.Type) {
            let xp = xc.base(T.self), op = out.base(T.self)
            index.withUnsafeMutableBufferPointer { ib in
                let ip = ib.baseAddress!
                Parallel.forRange(g.planes, grain: max(1, 8192 / max(g.oh * g.ow * g.kh * g.kw, 1))) { lo, hi in
                    for pl in lo..<hi {
                        let src = xp + pl * g.h * g.w
                        let dst = op + pl * g.oh * g.ow, di = ip + pl * g.oh * g.ow
                        for oy in 0..<g.oh {
                            let y0 = oy * g.sh - g.ph
                            let ylo = Swift.max(y0, 0), yhi = Swift.min(y0 + g.kh, g.h)
                            for ox in 0..<g.ow {
                                let x0 = ox * g.sw - g.pw
                                let xlo = Swift.max(x0, 0), xhi = Swift.min(x0 + g.kw, g.w)
                                var best = -T.infinity, bi = ylo * g.w + xlo
                                for yy in ylo..<yhi {
                                    for xx in xlo..<xhi {
                                        let v = src[yy * g.w + xx]
                                        if v > best || v.isNaN { best = v; bi = yy * g.w + xx; if v.isNaN { break } }
                                    }
                                }
                                dst[oy * g.ow + ox] = best
                                di[oy * g.ow + ox] = Int32(bi)
                            }
                        }
                    }
                }
            }
        }
        switch x.dtype { case .float32: run(Float.self); case .float64: run(Double.self) }
        let saved = index
        return out.recorded("max_pool2d", [x]) { gout in
            let gc = try gout.contiguous()
            let gx = try Tensor(shape: x.shape, dtype: x.dtype, zeroed: true)
            func back<T: TensorScalar>(_: T.Type) {
                let gp = gc.base(T.self), dp = gx.base(T.self)
                saved.withUnsafeBufferPointer { ib in
                    let ip = ib.baseAddress!
                    Parallel.forRange(g.planes, grain: max(1, 8192 / max(g.oh * g.ow, 1))) { lo, hi in
                        for pl in lo..<hi {
                            let d = dp + pl * g.h * g.w, s = gp + pl * g.oh * g.ow, i = ip + pl * g.oh * g.ow
                            for k in 0..<(g.oh * g.ow) { d[Int(i[k])] += s[k] }
                        }
                    }
                }
            }
            switch x.dtype { case .float32: back(Float.self); case .float64: back(Double.self) }
            return [gx]
        }
    }

    public static func avgPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                                 countIncludePad: Bool = true) throws -> Tensor {
        let g = try poolGeometry(x, kernel: kernel, stride: stride, padding: padding)
        func window(_ o: Int, _ st: Int, _ p: Int, _ k: Int, _ size: Int) -> (Int, Int, Int) {
            let a = o * st - p, b = Swift.min(a + k, size + p)
            let lo = Swift.max(a, 0), hi = Swift.min(b, size)
            return (lo, hi, b - a)   // padded extent for count_include_pad
        }
        let rows = (0..<g.oh).map { window($0, g.sh, g.ph, g.kh, g.h) }
        let cols = (0..<g.ow).map { window($0, g.sw, g.pw, g.kw, g.w) }
        return try windowedMean(x, g.oh, g.ow, rows.map { ($0.0, $0.1) }, cols.map { ($0.0, $0.1) },
                                divisors: { i, j in countIncludePad ? rows[i].2 * cols[j].2
                                    : (rows[i].1 - rows[i].0) * (cols[j].1 - cols[j].0) }, name: "avg_pool2d")
    }

    public static func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) throws -> Tensor {
        try require(x.dim == 4, "expected a 4-d input (N, C, H, W), got size \(shapeString(x.shape))")
        try require(outputSize.0 >= 1 && outputSize.1 >= 1, "output size must be positive, got \(outputSize.0)x\(outputSize.1)")
        try require(outputSize.0 <= 1 << 20 && outputSize.1 <= 1 << 20, "output size \(outputSize.0)x\(outputSize.1) is too large")
        let (h, w) = (x.shape[2], x.shape[3])
        try require(h >= 1 && w >= 1, "empty input plane \(h)x\(w)")
        let rows = (0..<outputSize.0).map { i in (i * h / outputSize.0, ((i + 1) * h + outputSize.0 - 1) / outputSize.0) }
        let cols = (0..<outputSize.1).map { j in (j * w / outputSize.1, ((j + 1) * w + outputSize.1 - 1) / outputSize.1) }
        return try windowedMean(x, outputSize.0, outputSize.1, rows, cols,
                                divisors: { i, j in (rows[i].1 - rows[i].0) * (cols[j].1 - cols[j].0) },
                                name: "adaptive_avg_pool2d")
    }

    /// Mean over the windows `rows[i] x cols[j]` divided by `divisors(i, j)`, with its gradient.
    static func windowedMean(_ x: Tensor, _ oh: Int, _ ow: Int, _ rows: [(Int, Int)], _ cols: [(Int, Int)],
                             divisors: (Int, Int) -> Int, name: String) throws -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var inv = try [Double](failableRepeating: 0, count: oh * ow)
        for i in 0..<oh { for j in 0..<ow { inv[i * ow + j] = 1 / Double(Swift.max(divisors(i, j), 1)) } }
        let xc = try x.contiguous()
        let out = try Tensor(shape: [n, c, oh, ow], dtype: x.dtype, zeroed: false)
        let planes = n * c
        func run<T: TensorScalar>(_: T.Type) {
            let xp = xc.base(T.self), op = out.base(T.self)
            Parallel.forRange(planes, grain: max(1, 8192 / max(h * w, 1))) { lo, hi in
                for pl in lo..<hi {
                    let s = xp + pl * h * w, d = op + pl * oh * ow
                    for i in 0..<oh {
                        for j in 0..<ow {
                            var acc = T(0)
                            for y in rows[i].0..<rows[i].1 { for xx in cols[j].0..<cols[j].1 { acc += s[y * w + xx] } }
                            d[i * ow + j] = acc * T(inv[i * ow + j])
                        }
                    }
                }
            }
        }
        switch x.dtype { case .float32: run(Float.self); case .float64: run(Double.self) }
        return out.recorded(name, [x]) { gout in
            let gc = try gout.contiguous()
            let gx = try Tensor(shape: x.shape, dtype: x.dtype, zeroed: true)
            func back<T: TensorScalar>(_: T.Type) {
                let gp = gc.base(T.self), dp = gx.base(T.self)
                Parallel.forRange(planes, grain: max(1, 8192 / max(h * w, 1))) { lo, hi in
                    for pl in lo..<hi {
                        let s = gp + pl * oh * ow, d = dp + pl * h * w
                        for i in 0..<oh {
                            for j in 0..<ow {
                                let v = s[i * ow + j] * T(inv[i * ow + j])
                                for y in rows[i].0..<rows[i].1 { for xx in cols[j].0..<cols[j].1 { d[y * w + xx] += v } }
                            }
                        }
                    }
                }
            }
            switch x.dtype { case .float32: back(Float.self); case .float64: back(Double.self) }
            return [gx]
        }
    }
}

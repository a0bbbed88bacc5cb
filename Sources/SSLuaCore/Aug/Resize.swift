/// Bilinear resampling with antialiasing, as PyTorch's `interpolate(mode="bilinear",
/// antialias=True, align_corners=False)` computes it for float tensors (the kernel torchvision's
/// tensor backend uses for `resize`/`resized_crop` since 0.17).
///
/// Separable: a horizontal pass, then a vertical one; a pass whose size does not change is
/// skipped. Each output sample is a normalised triangle-filter average over a window that widens
/// with the downscale factor (PIL's antialiasing), so upscaling reduces to plain bilinear.
public struct AAWeights {
    public let outSize: Int
    public let window: Int
    public var start: [Int]
    public var count: [Int]
    /// `window` weights per output sample (zero-padded past `count`).
    public var weights: [Float]

    public init(inSize: Int, outSize: Int) throws {
        let scale = Float(inSize) / Float(outSize)
        let support: Float = scale >= 1 ? scale : 1          // interp_size / 2 * scale, interp_size = 2
        let invscale: Float = scale >= 1 ? 1 / scale : 1
        let window = Int(support.rounded(.up)) * 2 + 1
        self.outSize = outSize
        self.window = window
        let (nw, o) = outSize.multipliedReportingOverflow(by: window)
        guard !o else { throw SSLuaError("out of memory: \(outSize) x \(window) resampling weights overflow the address space") }
        start = try [Int](failableRepeating: 0, count: outSize, "resampling positions")
        count = try [Int](failableRepeating: 0, count: outSize, "resampling positions")
        weights = try [Float](failableRepeating: 0, count: nw, "resampling weights")
        for i in 0..<outSize {
            let center = scale * (Float(i) + 0.5)
            // C++: static_cast<int64_t>(center -/+ support + 0.5), truncation toward zero
            let lo = Swift.max(Int(Double(center - support) + 0.5), 0)
            var n = Swift.min(Int(Double(center + support) + 0.5), inSize) - lo
            n = Swift.min(Swift.max(n, 0), window)
            var total: Float = 0
            for j in 0..<n {
                let x = Float((Double(Float(j + lo) - center) + 0.5) * Double(invscale))
                let ax = Swift.abs(x)
                let w: Float = ax < 1 ? 1 - ax : 0
                weights[i * window + j] = w
                total += w
            }
            if total != 0 { for j in 0..<n { weights[i * window + j] /= total } }
            start[i] = lo
            count[i] = n
        }
    }
}

extension AugImage {
    /// Crops rows `top..<top+h`, columns `left..<left+w` (0-based, inside the image) and resizes
    /// the crop to `outH x outW`; a crop already of the output size is returned as is.
    public func resizedCrop(top: Int, left: Int, height h: Int, width w: Int,
                            outHeight outH: Int, outWidth outW: Int) throws -> AugImage {
        let c = channels, W = width, P = plane
        // horizontal pass over the crop's rows (a plain crop when the width is kept)
        var cur = try [Float](failableRepeating: 0, count: try pixelCount(c, h, outW), "a resized image")
        let hw = outW == w ? nil : try AAWeights(inSize: w, outSize: outW)
        data.withUnsafeBufferPointer { sp in
            cur.withUnsafeMutableBufferPointer { dp in
                guard let src = sp.baseAddress, let dst = dp.baseAddress else { return }
                if outW == w {
                    for ch in 0..<c {
                        for y in 0..<h {
                            (dst + (ch * h + y) * w).update(from: src + ch * P + (top + y) * W + left, count: w)
                        }
                    }
                    return
                }
                guard let hw else { return }
                hw.start.withUnsafeBufferPointer { stp in
                hw.count.withUnsafeBufferPointer { cnp in
                hw.weights.withUnsafeBufferPointer { wp in
                    guard let st = stp.baseAddress, let cn = cnp.baseAddress, let wts = wp.baseAddress else { return }
                    let win = hw.window
                    for ch in 0..<c {
                        for y in 0..<h {
                            let row = src + ch * P + (top + y) * W + left
                            let out = dst + (ch * h + y) * outW
                            for x in 0..<outW {
                                let s = st[x], n = cn[x]
                                let wx = wts + x * win
                                var t: Float = 0
                                if n > 0 {
                                    t = row[s] * wx[0]
                                    var j = 1
                                    while j < n { t += row[s + j] * wx[j]; j += 1 }
                                }
                                out[x] = t
                            }
                        }
                    }
                }}}
            }
        }
        if outH == h { return AugImage(channels: c, height: h, width: outW, data: cur) }
        // vertical pass
        let vw = try AAWeights(inSize: h, outSize: outH)
        var out = try [Float](failableRepeating: 0, count: try pixelCount(c, outH, outW), "a resized image")
        cur.withUnsafeBufferPointer { sp in
        out.withUnsafeMutableBufferPointer { dp in
        vw.start.withUnsafeBufferPointer { stp in
        vw.count.withUnsafeBufferPointer { cnp in
        vw.weights.withUnsafeBufferPointer { wp in
            guard let src = sp.baseAddress, let dst = dp.baseAddress, let st = stp.baseAddress,
                  let cn = cnp.baseAddress, let wts = wp.baseAddress else { return }
            for ch in 0..<c {
                let sc = src + ch * h * outW
                for y in 0..<outH {
                    let s = st[y], n = cn[y]
                    let wy = wts + y * vw.window
                    let o = dst + (ch * outH + y) * outW
                    if n == 0 { continue }
                    let r0 = sc + s * outW, w0 = wy[0]
                    for x in 0..<outW { o[x] = r0[x] * w0 }
                    var j = 1
                    while j < n {
                        let r = sc + (s + j) * outW, wj = wy[j]
                        for x in 0..<outW { o[x] += r[x] * wj }
                        j += 1
                    }
                }
            }
        }}}}}
        return AugImage(channels: c, height: outH, width: outW, data: out)
    }
}

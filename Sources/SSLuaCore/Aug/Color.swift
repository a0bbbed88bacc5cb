/// Colour operations with torchvision's tensor-backend semantics on float images in [0, 1]
/// (`torchvision.transforms.v2.functional.adjust_*`, `rgb_to_grayscale`): the same formulas,
/// evaluated in float32 in the same order, so results agree to float rounding.
extension AugImage {
    /// Luma `0.2989 R + 0.587 G + 0.114 B` of pixel `i` (torchvision's order of operations).
    @inline(__always) static func luma(_ r: Float, _ g: Float, _ b: Float) -> Float {
        r * 0.2989 + g * 0.587 + b * 0.114
    }

    /// `image * f`, clamped to [0, 1].
    public mutating func adjustBrightness(_ f: Float) {
        data.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = Swift.min(Swift.max(p[i] * f, 0), 1) }
        }
    }

    /// Blend with the mean of the grayscale image: `image * f + mean * (1 - f)`, clamped.
    public mutating func adjustContrast(_ f: Float) {
        let n = plane
        var mean: Float = 0
        data.withUnsafeBufferPointer { p in
            var acc: Double = 0
            if channels == 3 {
                for i in 0..<n { acc += Double(AugImage.luma(p[i], p[n + i], p[2 * n + i])) }
            } else {
                for i in 0..<n { acc += Double(p[i]) }
            }
            mean = Float(acc / Double(Swift.max(n, 1)))
        }
        let k = mean * (1 - f)
        data.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = Swift.min(Swift.max(p[i] * f + k, 0), 1) }
        }
    }

    /// Blend with the per-pixel grayscale: `image * f + gray * (1 - f)`, clamped.
    /// One-channel images are returned unchanged (as torchvision and PIL do).
    public mutating func adjustSaturation(_ f: Float) {
        guard channels == 3 else { return }
        let n = plane, g = 1 - f
        data.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                let l = AugImage.luma(p[i], p[n + i], p[2 * n + i]) * g
                p[i] = Swift.min(Swift.max(p[i] * f + l, 0), 1)
                p[n + i] = Swift.min(Swift.max(p[n + i] * f + l, 0), 1)
                p[2 * n + i] = Swift.min(Swift.max(p[2 * n + i] * f + l, 0), 1)
            }
        }
    }

    /// Shifts the hue by `f` (a fraction of the colour circle, in [-0.5, 0.5]) through
    /// RGB -> HSV -> RGB; one-channel images are returned unchanged. Branch-free selects (so
    /// the loop vectorises) with torchvision's formulas (`_rgb_to_hsv`, `_hsv_to_rgb`).
    public mutating func adjustHue(_ f: Float) {
        guard channels == 3 else { return }
        let n = plane
        data.withUnsafeMutableBufferPointer { buf in
            guard let pr = buf.baseAddress else { return }
            let pg = pr + n, pb = pr + 2 * n
            for i in 0..<n {
                let r = pr[i], g = pg[i], b = pb[i]
                let maxc = Swift.max(r, Swift.max(g, b)), minc = Swift.min(r, Swift.min(g, b))
                let eqc = maxc == minc
                let range = maxc - minc
                let s = range / (eqc ? 1 : maxc)
                let div: Float = eqc ? 1 : range
                let rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div
                // hr where max = r, else hg where max = g, else hb
                let hb = (gc + 4) - rc, hg = (rc + 2) - bc, hr = bc - gc
                var h = maxc == r ? hr : (maxc == g ? hg : hb)
                // fmod(h / 6 + 1, 1): the argument lies in [5/6, 11/6]
                h = h * Float(1.0 / 6.0) + 1
                h = h >= 1 ? h - 1 : h
                // (h + f) remainder 1, torch semantics; h + f lies in [-0.5, 1.5)
                h = h + f
                h = h < 0 ? h + 1 : (h >= 1 ? h - 1 : h)
                // HSV -> RGB, sector = floor(6 h) (6 acts as 0; NaN falls through to sector 0)
                let h6 = h * 6
                let fi = h6.rounded(.towardZero)
                let fr = h6 - fi
                let v = maxc
                let sxf = s * fr
                let q = Swift.min(Swift.max((1 - sxf) * v, 0), 1)
                let t = Swift.min(Swift.max((sxf + (1 - s)) * v, 0), 1)
                let p = Swift.min(Swift.max((1 - s) * v, 0), 1)
                // r: [v,q,p,p,t,v], g: [t,v,v,q,p,p], b: [p,p,t,v,v,q]
                let R = fi == 1 ? q : (fi == 2 || fi == 3 ? p : (fi == 4 ? t : v))
                let G = fi == 1 || fi == 2 ? v : (fi == 3 ? q : (fi == 4 || fi == 5 ? p : t))
                let B = fi == 2 ? t : (fi == 3 || fi == 4 ? v : (fi == 5 ? q : p))
                pr[i] = R; pg[i] = G; pb[i] = B
            }
        }
    }

    /// Grayscale with `outChannels` (1 or 3) channels; a one-channel image is copied/repeated.
    public func grayscale(channels outChannels: Int) throws -> AugImage {
        let n = plane
        if channels == 3 && outChannels == 3 {
            var out = self
            out.data.withUnsafeMutableBufferPointer { p in
                for i in 0..<n {
                    let l = AugImage.luma(p[i], p[n + i], p[2 * n + i])
                    p[i] = l; p[n + i] = l; p[2 * n + i] = l
                }
            }
            return out
        }
        var out = try AugImage(channels: outChannels, height: height, width: width)
        data.withUnsafeBufferPointer { p in
            out.data.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    let l = channels == 3 ? AugImage.luma(p[i], p[n + i], p[2 * n + i]) : p[i]
                    for c in 0..<outChannels { o[c * n + i] = l }
                }
            }
        }
        return out
    }
}

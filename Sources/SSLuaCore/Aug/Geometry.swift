#if canImport(Glibc)
import Glibc
#endif

/// Geometric operations: horizontal flip and rotation about the centre, as torchvision's
/// `horizontal_flip` and `rotate` (fill 0, output of the input's size) on float tensors.
extension AugImage {
    public mutating func flipHorizontal() {
        let W = width
        data.withUnsafeMutableBufferPointer { p in
            for row in 0..<(channels * height) {
                var a = row * W, b = a + W - 1
                while a < b { p.swapAt(a, b); a += 1; b -= 1 }
            }
        }
    }

    /// Rotates counter-clockwise by `degrees`. Angles 0 and 180 (and 90/270 on square images)
    /// are exact index permutations, as in torchvision; other angles sample the inverse map with
    /// nearest (round half to even) or bilinear interpolation, outside pixels are 0 and, in
    /// bilinear mode, the result is multiplied by the sampled in-image mask as torchvision's fill
    /// path does.
    public func rotated(degrees: Double, bilinear: Bool) throws -> AugImage {
        var a = degrees.truncatingRemainder(dividingBy: 360)
        if a < 0 { a += 360 }
        let H = height, W = width
        var out = try AugImage(channels: channels, height: H, width: W)
        func permute(_ map: (Int, Int) -> (Int, Int)) -> AugImage {
            var o = out
            for c in 0..<channels {
                for y in 0..<H { for x in 0..<W {
                    let (sy, sx) = map(y, x)
                    o.data[c * plane + y * W + x] = data[c * plane + sy * W + sx]
                } }
            }
            return o
        }
        if a == 0 || !a.isFinite { return self }
        if a == 180 { return permute { y, x in (H - 1 - y, W - 1 - x) } }
        if H == W && a == 90 { return permute { y, x in (x, W - 1 - y) } }
        if H == W && a == 270 { return permute { y, x in (H - 1 - x, y) } }
        // inverse affine map (torchvision: rotate by -angle, centre of the image); computed in
        // float32 like torchvision's grid
        let th = -a * Double.pi / 180
        let m0 = Float(cos(th)), m1 = Float(-(-sin(th))), m3 = Float(-sin(th)), m4 = Float(cos(th))
        // rescaled theta: divide by (W/2, H/2); base grid x = j - (W-1)/2
        let sxw = Float(0.5 * Double(W)), syh = Float(0.5 * Double(H))
        for y in 0..<H {
            let by = Float(y) - Float(H - 1) * 0.5
            for x in 0..<W {
                let bx = Float(x) - Float(W - 1) * 0.5
                let gx = bx * (m0 / sxw) + by * (m1 / sxw)
                let gy = bx * (m3 / syh) + by * (m4 / syh)
                // grid_sample, align_corners = false
                let ix = ((gx + 1) * Float(W) - 1) / 2
                let iy = ((gy + 1) * Float(H) - 1) / 2
                guard ix.isFinite && iy.isFinite && Swift.abs(ix) < 1e9 && Swift.abs(iy) < 1e9 else { continue }
                if bilinear {
                    let x0 = Int(ix.rounded(.down)), y0 = Int(iy.rounded(.down))
                    let fx = ix - Float(x0), fy = iy - Float(y0)
                    let w = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy]
                    let px = [x0, x0 + 1, x0, x0 + 1], py = [y0, y0, y0 + 1, y0 + 1]
                    var mask: Float = 0
                    for k in 0..<4 where px[k] >= 0 && px[k] < W && py[k] >= 0 && py[k] < H { mask += w[k] }
                    for c in 0..<channels {
                        var v: Float = 0
                        for k in 0..<4 where px[k] >= 0 && px[k] < W && py[k] >= 0 && py[k] < H {
                            v += data[c * plane + py[k] * W + px[k]] * w[k]
                        }
                        out.data[c * plane + y * W + x] = v * mask
                    }
                } else {
                    let nx = Int(ix.rounded(.toNearestOrEven)), ny = Int(iy.rounded(.toNearestOrEven))
                    guard nx >= 0 && nx < W && ny >= 0 && ny < H else { continue }
                    for c in 0..<channels { out.data[c * plane + y * W + x] = data[c * plane + ny * W + nx] }
                }
            }
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Gaussian blur as torchvision's `gaussian_blur` on float tensors: a `k x k` kernel (the outer
/// product of two normalised 1-d Gaussians), reflect padding of `k / 2`, one depthwise
/// convolution per channel.
extension AugImage {
    /// The 1-d kernel: `softmax(-(x / sigma)^2)` over `x = linspace(-l, l, k)`,
    /// `l = (k - 1) / (2 sqrt 2)` (i.e. `exp(-t^2 / (2 sigma^2))` at `t = -(k-1)/2 ... (k-1)/2`).
    public static func gaussianKernel(_ k: Int, sigma: Double) -> [Float] {
        let lim = Float(Double(k - 1) / (2 * 2.0.squareRoot()))
        var x = [Float](repeating: 0, count: k)
        for i in 0..<k {
            x[i] = k == 1 ? -lim : -lim + (2 * lim) * Float(i) / Float(k - 1)
        }
        let s = Float(sigma)
        var e = x.map { v -> Float in let z = v / s; return -(z * z) }
        let m = e.max() ?? 0
        var total: Float = 0
        for i in 0..<k { e[i] = expf(e[i] - m); total += e[i] }
        return e.map { $0 / total }
    }

    /// Blurs with kernel size `k` (odd, `k / 2 < min(H, W)` for reflect padding) and `sigma > 0`.
    public func gaussianBlur(kernel k: Int, sigma: Double) -> AugImage {
        let kx = AugImage.gaussianKernel(k, sigma: sigma)
        var k2 = [Float](repeating: 0, count: k * k)
        for i in 0..<k { for j in 0..<k { k2[i * k + j] = kx[i] * kx[j] } }
        let r = k / 2, H = height, W = width
        @inline(__always) func reflect(_ i: Int, _ n: Int) -> Int {
            var i = i
            if i < 0 { i = -i }
            if i >= n { i = 2 * (n - 1) - i }
            return i
        }
        var out = AugImage(channels: channels, height: H, width: W)
        let xs = (0..<(W + 2 * r)).map { reflect($0 - r, W) }
        let ys = (0..<(H + 2 * r)).map { reflect($0 - r, H) }
        for c in 0..<channels {
            let base = c * plane
            for y in 0..<H {
                for x in 0..<W {
                    var acc: Float = 0
                    for i in 0..<k {
                        let row = base + ys[y + i] * W
                        for j in 0..<k { acc += data[row + xs[x + j]] * k2[i * k + j] }
                    }
                    out.data[base + y * W + x] = acc
                }
            }
        }
        return out
    }
}

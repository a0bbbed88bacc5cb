#if canImport(Glibc)
import Glibc
#endif

/// Gaussian blur as torchvision's `gaussian_blur` on float tensors: a `k x k` kernel (the outer
/// product of two normalised 1-d Gaussians), reflect padding of `k / 2`, one depthwise
/// convolution per channel.
extension AugImage {
    /// The 1-d kernel: `softmax(-(x / sigma)^2)` over `x = linspace(-l, l, k)`,
    /// `l = (k - 1) / (2 sqrt 2)` (i.e. `exp(-t^2 / (2 sigma^2))` at `t = -(k-1)/2 ... (k-1)/2`).
    public static func gaussianKernel(_ k: Int, sigma: Double) throws -> [Float] {
        let lim = Float(Double(k - 1) / (2 * 2.0.squareRoot()))
        var x = try [Float](failableRepeating: 0, count: k, "a blur kernel")
        for i in 0..<k {
            x[i] = k == 1 ? -lim : -lim + (2 * lim) * Float(i) / Float(k - 1)
        }
        let s = Float(sigma)
        try Memory.reserve(k, of: Float.self, "a blur kernel")
        var e = x.map { v -> Float in let z = v / s; return -(z * z) }
        let m = e.max() ?? 0
        var total: Float = 0
        for i in 0..<k { e[i] = expf(e[i] - m); total += e[i] }
        for i in 0..<k { e[i] /= total }
        return e
    }

    /// Blurs with kernel size `k` (odd, `k / 2 < min(H, W)` for reflect padding) and `sigma > 0`.
    public func gaussianBlur(kernel k: Int, sigma: Double) throws -> AugImage {
        let kx = try AugImage.gaussianKernel(k, sigma: sigma)
        let (kk, o) = k.multipliedReportingOverflow(by: k)
        guard !o else { throw SSLuaError("out of memory: a blur kernel of \(k) x \(k) overflows the address space") }
        var k2 = try [Float](failableRepeating: 0, count: kk, "a blur kernel")
        for i in 0..<k { for j in 0..<k { k2[i * k + j] = kx[i] * kx[j] } }
        let r = k / 2, H = height, W = width
        @inline(__always) func reflect(_ i: Int, _ n: Int) -> Int {
            var i = i
            if i < 0 { i = -i }
            if i >= n { i = 2 * (n - 1) - i }
            return i
        }
        var out = try AugImage(channels: channels, height: H, width: W)
        try Memory.reserve(W + 2 * r, of: Int.self, "blur padding")
        let xs = (0..<(W + 2 * r)).map { reflect($0 - r, W) }
        try Memory.reserve(H + 2 * r, of: Int.self, "blur padding")
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

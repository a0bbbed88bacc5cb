#if canImport(Glibc)
import Glibc
#endif

/// `data.textures`: colour images drawn from a seed, no files, built so that the paper's
/// mechanism can act. The class is a *local repeated texture* that fills the whole image, so any
/// crop keeps it: 8 textures, each invariant to a horizontal flip (the two diagonal stripe
/// directions are one class, since a flip swaps them). Everything else is a nuisance that the
/// large policy of Table 2 randomises:
/// - the colour: one hue for the two tones, drawn from a palette of width `hueSpread`
///   (0.2 by default, the range of the large policy's hue jitter, +-0.2 s with s = 0.5),
///   saturation in [0.45, 0.85] and value in [0.6, 0.95] (the jitter's factors are
///   1 +- 0.8 s), the second tone darker by a factor in [0.25, 0.5];
/// - the scale (period in [period.lo, period.hi] times the image size) and the phase, which a
///   resized crop changes; a small rotation (+-8 degrees); pixel noise.
/// The **nuisance label** is the hue bin (4 equal bins of the palette), crossed with the class
/// so that the two are exactly independent when n is a multiple of 32.
public enum Textures {
    public static let classes = ["horizontal_stripes", "vertical_stripes", "diagonal_stripes", "checks",
                                 "diamond_checks", "dots", "grid", "zigzag"]
    public static let hueBins = 4
    public static var classCount: Int { classes.count }

    /// Square wave in {0, 1}: 1 on the first half of each unit period.
    @inline(__always) static func sq(_ t: Float) -> Float { t - t.rounded(.down) < 0.5 ? 1 : 0 }

    /// Texture `k` at (u, v) in periods (the texture's own frame); `diag` is +1 or -1.
    @inline(__always) static func texture(_ k: Int, _ u: Float, _ v: Float, diag: Float) -> Float {
        switch k {
        case 0: return sq(v)
        case 1: return sq(u)
        case 2: return sq((u + diag * v) * 0.70710678)
        case 3: return sq(u) == sq(v) ? 1 : 0
        case 4:
            let a = (u + v) * 0.70710678, b = (v - u) * 0.70710678
            return sq(a) == sq(b) ? 1 : 0
        case 5:
            let du = u - u.rounded(), dv = v - v.rounded()
            return du * du + dv * dv <= 0.09 ? 1 : 0
        case 6:
            let du = Swift.abs(u - u.rounded()), dv = Swift.abs(v - v.rounded())
            return du <= 0.14 || dv <= 0.14 ? 1 : 0
        default:
            // a horizontal zigzag: stripes displaced by a triangle wave of u (symmetric in u)
            let t = u - u.rounded(.down)
            let tri = Swift.abs(t - 0.5) * 2   // in [0, 1]
            return sq(v + 0.6 * tri)
        }
    }

    /// HSV (all in [0, 1], h cyclic) to RGB.
    static func rgb(_ h: Float, _ s: Float, _ v: Float) -> SIMD3<Float> {
        let hh = (h - h.rounded(.down)) * 6
        let i = Int(hh.rounded(.down)) % 6, f = hh - hh.rounded(.down)
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        switch i {
        case 0: return SIMD3(v, t, p)
        case 1: return SIMD3(q, v, p)
        case 2: return SIMD3(p, v, t)
        case 3: return SIMD3(p, q, v)
        case 4: return SIMD3(t, p, v)
        default: return SIMD3(v, p, q)
        }
    }

    /// Renders one image of class `label` and hue bin `bin` into `out` (3 x size x size).
    static func render(label: Int, bin: Int, size S: Int, hueSpread: Float, period: (Float, Float),
                       rng g: RNG, into out: UnsafeMutablePointer<Float>) {
        let width = hueSpread / Float(hueBins)
        let hue = 0.05 + (Float(bin) + Float(g.uniform())) * width   // palette starts at hue 0.05 (orange-red)
        let sat = Float(g.uniform(0.45, 0.85)), val = Float(g.uniform(0.6, 0.95))
        let dark = Float(g.uniform(0.25, 0.5))
        let light = rgb(hue, sat, val), deep = rgb(hue, sat, val * dark)
        let p = Float(g.uniform(Double(period.0), Double(period.1))) * Float(S)
        let angle = Float(g.uniform(-8, 8)) * Float.pi / 180
        let (cs, sn) = (cosf(angle), sinf(angle))
        let pu = Float(g.uniform()), pv = Float(g.uniform())
        let diag: Float = g.uniform() < 0.5 ? 1 : -1
        let plane = S * S
        let subs: [Float] = [0.125, 0.375, 0.625, 0.875]   // 4 x 4 supersampling
        for y in 0..<S {
            for x in 0..<S {
                var on: Float = 0
                for sy in subs {
                    for sx in subs {
                        let px = Float(x) + sx - Float(S) / 2, py = Float(y) + sy - Float(S) / 2
                        let u = (px * cs + py * sn) / p + pu, v = (py * cs - px * sn) / p + pv
                        on += texture(label, u, v, diag: diag)
                    }
                }
                on /= Float(subs.count * subs.count)
                let c = deep + (light - deep) * on
                for ch in 0..<3 {
                    let noise = Float(g.normal()) * 0.02
                    out[ch * plane + y * S + x] = Swift.min(Swift.max(c[ch] + noise, 0), 1)
                }
            }
        }
    }

    /// `n` images (`n x 3 x size x size`) with balanced labels and hue bins, crossed, in a seeded
    /// random order. Returns the dataset (coarse = nil) and the 0-based hue bins.
    public static func make(n: Int, seed: UInt64, size: Int, hueSpread: Double = 0.2,
                            period: (Double, Double) = (0.15, 0.3)) throws -> (LabelledImages, [Int]) {
        try require(n >= 0, "n must be non-negative, got \(n)")
        try require(size >= 8 && size <= 512, "size must be between 8 and 512, got \(size)")
        try require(hueSpread.isFinite && hueSpread > 0 && hueSpread <= 1, "hue_spread must be in (0, 1], got \(hueSpread)")
        try require(period.0.isFinite && period.1.isFinite && period.0 > 0 && period.0 <= period.1 && period.1 <= 4,
                    "period must be {lo, hi} with 0 < lo <= hi <= 4 (fractions of the image size)")
        try require(period.0 * Double(size) >= 1, "period lo * size must be at least 1 pixel")
        let rng = RNG(seed: seed)
        let order = try rng.permutation(count: n)
        let labels = order.map { $0 % classCount }
        let bins = order.map { ($0 / classCount) % hueBins }
        let gens = (0..<n).map { _ in rng.split() }
        let images = try Tensor(shape: [n, 3, size, size], zeroed: false)
        let dst = images.base(Float.self)
        let per = 3 * size * size
        let spread = Float(hueSpread), pr = (Float(period.0), Float(period.1))
        Parallel.forEach(n) { i in
            render(label: labels[i], bin: bins[i], size: size, hueSpread: spread, period: pr, rng: gens[i], into: dst + i * per)
        }
        try Parallel.checkInterrupt()
        return (LabelledImages(images: images, labels: labels, coarse: nil), bins)
    }
}

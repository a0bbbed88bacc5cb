#if canImport(Glibc)
import Glibc
#endif

/// `data.synthetic`: colour images drawn from a seed, no files. The class is the object —
/// a shape (8 shapes in 4 families: the coarse label) times a fill pattern (solid or striped):
/// 16 fine classes. Everything else is a nuisance of the kind augmentations randomise:
/// foreground and background colours (uniform, with a luminance gap so the shape survives
/// grayscale), a background gradient, position, size, stripe orientation and phase, pixel noise.
/// Pixel colour statistics are therefore independent of the class, and an encoder must become
/// invariant to colour and placement to separate the classes.
public enum Synthetic {
    public static let shapes = ["disk", "ring", "square", "frame", "triangle", "outline_triangle", "plus", "cross"]
    public static let families = ["round", "square", "triangle", "cross"]
    public static let patterns = ["solid", "striped"]
    public static var classCount: Int { shapes.count * patterns.count }

    /// Fine class `k` (0-based) = shape * 2 + pattern; coarse = shape / 2.
    public static func className(_ k: Int) -> String { shapes[k / 2] + "/" + patterns[k % 2] }
    public static func coarse(_ k: Int) -> Int { k / 4 }

    /// Whether object coordinates (u, v) (object radius 1, v pointing down) are inside `shape`.
    @inline(__always) static func inside(_ shape: Int, _ u: Float, _ v: Float) -> Bool {
        switch shape {
        case 0: return u * u + v * v <= 1
        case 1: let r = u * u + v * v; return r <= 1 && r >= 0.36
        case 2: return Swift.max(Swift.abs(u), Swift.abs(v)) <= 0.85
        case 3: let m = Swift.max(Swift.abs(u), Swift.abs(v)); return m <= 0.85 && m >= 0.5
        case 4, 5:
            // apex (0, -0.95), base corners (+-0.95, 0.75)
            func tri(_ u: Float, _ v: Float) -> Bool { v <= 0.75 && Swift.abs(u) <= 0.95 * (v + 0.95) / 1.7 }
            if !tri(u, v) { return false }
            if shape == 4 { return true }
            let cy: Float = 0.18   // shrink about the centroid for the hole
            return !tri(u / 0.45, (v - cy) / 0.45 + cy)
        case 6: return (Swift.abs(u) <= 0.3 && Swift.abs(v) <= 0.95) || (Swift.abs(v) <= 0.3 && Swift.abs(u) <= 0.95)
        default:
            let a = (u + v) * 0.70710678, b = (v - u) * 0.70710678
            return (Swift.abs(a) <= 0.27 && Swift.abs(b) <= 1.0) || (Swift.abs(b) <= 0.27 && Swift.abs(a) <= 1.0)
        }
    }

    static func luma(_ c: [Float]) -> Float { 0.2989 * c[0] + 0.587 * c[1] + 0.114 * c[2] }

    /// Renders one image of class `label` into `out` (3 x size x size), drawing from `g`.
    static func render(label: Int, size S: Int, rng g: RNG, into out: UnsafeMutablePointer<Float>) {
        let shape = label / 2, striped = label % 2 == 1
        let bg = (0..<3).map { _ in Float(g.uniform()) }
        var fg = (0..<3).map { _ in Float(g.uniform()) }
        var tries = 0
        while Swift.abs(luma(fg) - luma(bg)) < 0.3 && tries < 1000 {
            fg = (0..<3).map { _ in Float(g.uniform()) }
            tries += 1
        }
        // the stripes' second colour: darker or lighter than the foreground
        let fg2 = luma(fg) > 0.5 ? fg.map { $0 * 0.35 } : fg.map { $0 + (1 - $0) * 0.65 }
        let grad = (0..<2).map { _ in (0..<3).map { _ in Float(g.uniform(-0.15, 0.15)) } }
        let r = Float(g.uniform(0.22, 0.42)) * Float(S)
        let cx = Float(g.uniform(Double(r), Double(Float(S) - r)))
        let cy = Float(g.uniform(Double(r), Double(Float(S) - r)))
        let phi = Float(g.uniform(0, Double.pi)), phase = Float(g.uniform())
        let (cs, sn) = (cosf(phi), sinf(phi))
        let plane = S * S
        let sub: (Float, Float) = (0.25, 0.75)
        for y in 0..<S {
            for x in 0..<S {
                let gx = (Float(x) + 0.5) / Float(S) - 0.5, gy = (Float(y) + 0.5) / Float(S) - 0.5
                var acc: SIMD3<Float> = .zero
                let base = SIMD3<Float>(bg[0] + grad[0][0] * gx + grad[1][0] * gy,
                                        bg[1] + grad[0][1] * gx + grad[1][1] * gy,
                                        bg[2] + grad[0][2] * gx + grad[1][2] * gy)
                let f1 = SIMD3<Float>(fg[0], fg[1], fg[2]), f2 = SIMD3<Float>(fg2[0], fg2[1], fg2[2])
                for sy in [sub.0, sub.1] {
                    for sx in [sub.0, sub.1] {
                        let u = (Float(x) + sx - cx) / r, v = (Float(y) + sy - cy) / r
                        if inside(shape, u, v) {
                            if striped && Int(((u * cs + v * sn) * 2 + phase).rounded(.down)) & 1 == 1 { acc += f2 } else { acc += f1 }
                        } else {
                            acc += base
                        }
                    }
                }
                for c in 0..<3 {
                    let noise = Float(g.normal()) * 0.02
                    out[c * plane + y * S + x] = Swift.min(Swift.max(acc[c] * 0.25 + noise, 0), 1)
                }
            }
        }
    }

    /// `n` images (`n x 3 x size x size`) with balanced fine labels in a seeded random order.
    public static func make(n: Int, seed: UInt64, size: Int) throws -> LabelledImages {
        try require(n >= 0, "n must be non-negative, got \(n)")
        try require(size >= 8 && size <= 512, "size must be between 8 and 512, got \(size)")
        let rng = RNG(seed: seed)
        let order = try rng.permutation(count: n)
        let labels = order.map { $0 % classCount }
        let gens = (0..<n).map { _ in rng.split() }
        let images = try Tensor(shape: [n, 3, size, size], zeroed: false)
        let dst = images.base(Float.self)
        let per = 3 * size * size
        Parallel.forEach(n) { i in render(label: labels[i], size: size, rng: gens[i], into: dst + i * per) }
        try Parallel.checkInterrupt()
        return LabelledImages(images: images, labels: labels, coarse: labels.map(coarse))
    }
}

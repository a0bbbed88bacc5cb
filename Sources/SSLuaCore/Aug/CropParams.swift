#if canImport(Glibc)
import Glibc
#endif

/// The sampled box of a `RandomResizedCrop` (0-based top/left) and whether the ten attempts
/// failed and the central fallback was used.
public struct CropBox: Equatable {
    public var top: Int, left: Int, height: Int, width: Int
    public var fallback: Bool
    public init(top: Int, left: Int, height: Int, width: Int, fallback: Bool = false) {
        self.top = top; self.left = left; self.height = height; self.width = width
        self.fallback = fallback
    }
}

/// torchvision's `RandomResizedCrop.make_params` (>= 0.17): ten attempts of a target area
/// `H W U(s0, s1)` and an aspect `exp(U(log r0, log r1))`, sides rounded half to even and
/// accepted when they fit, offsets uniform; else a centred crop clamped to the ratio range.
public func sampleCrop(height H: Int, width W: Int, scale: (Double, Double),
                       ratio: (Double, Double), rng: RNG) -> CropBox {
    let area = Double(H * W)
    let lr0 = log(ratio.0), lr1 = log(ratio.1)
    for _ in 0..<10 {
        let target = area * rng.uniform(scale.0, scale.1)
        let aspect = exp(rng.uniform(lr0, lr1))
        let wd = (target * aspect).squareRoot().rounded(.toNearestOrEven)
        let hd = (target / aspect).squareRoot().rounded(.toNearestOrEven)
        guard wd.isFinite, hd.isFinite else { continue }
        if wd > 0 && wd <= Double(W) && hd > 0 && hd <= Double(H) {
            let w = Int(wd), h = Int(hd)
            let i = rng.integer(0, H - h)
            let j = rng.integer(0, W - w)
            return CropBox(top: i, left: j, height: h, width: w)
        }
    }
    let inRatio = Double(W) / Double(H)
    var w = W, h = H
    let rmin = Swift.min(ratio.0, ratio.1), rmax = Swift.max(ratio.0, ratio.1)
    if inRatio < rmin {
        h = Swift.max(1, Int((Double(w) / rmin).rounded(.toNearestOrEven)))
    } else if inRatio > rmax {
        w = Swift.max(1, Int((Double(h) * rmax).rounded(.toNearestOrEven)))
    }
    return CropBox(top: (H - h) / 2, left: (W - w) / 2, height: h, width: w, fallback: true)
}

/// The four colour operations of `ColorJitter`, in torchvision's index order.
public enum JitterOp: Int, CaseIterable {
    case brightness = 0, contrast, saturation, hue
    public var name: String { ["brightness", "contrast", "saturation", "hue"][rawValue] }
}

/// What was sampled for one image: the per-datum augmentation strength (the paper's
/// epsilon_i). Neutral values (whole-image crop, factors 1, hue 0, no flip) stand for the
/// transforms a pipeline does not contain or did not apply.
public struct AugRecord {
    /// The crop box, 0-based, in the coordinates of the image entering the crop.
    public var crop: CropBox
    public var cropInputHeight: Int
    public var cropInputWidth: Int
    public var flip = false
    public var jitter = false
    public var order: [JitterOp] = []
    public var brightness = 1.0, contrast = 1.0, saturation = 1.0, hue = 0.0
    public var grayscale = false
    public var sigma: Double? = nil
    public var angle: Double? = nil

    public init(height: Int, width: Int) {
        crop = CropBox(top: 0, left: 0, height: height, width: width)
        cropInputHeight = height
        cropInputWidth = width
    }

    /// Crop area over the area of the image it was taken from.
    public var area: Double { Double(crop.height * crop.width) / Double(Swift.max(cropInputHeight * cropInputWidth, 1)) }
    /// Crop width over height.
    public var aspect: Double { Double(crop.width) / Double(Swift.max(crop.height, 1)) }
}

/// A composable augmentation with torchvision's semantics. Parameters are sampled per
/// image from that image's own generator, in the order torchvision draws them.
public indirect enum AugTransform {
    case compose([AugTransform])
    case randomResizedCrop(height: Int, width: Int, scale: (Double, Double), ratio: (Double, Double))
    case horizontalFlip(p: Double)
    /// Factor ranges, nil for an operation that is left out (torchvision's `None`).
    case colorJitter(brightness: (Double, Double)?, contrast: (Double, Double)?,
                     saturation: (Double, Double)?, hue: (Double, Double)?)
    case grayscale(p: Double)
    case randomApply(AugTransform, p: Double)
    case gaussianBlur(kernel: Int, sigma: (Double, Double))
    case rotate(degrees: (Double, Double), bilinear: Bool)

    /// The `(C, H, W)` an image of `shape` leaves the transform with; throws on a transform that
    /// cannot apply to it (so the per-image kernels never see an invalid size).
    public func outputShape(_ s: (Int, Int, Int)) throws -> (Int, Int, Int) {
        switch self {
        case .compose(let ts):
            var cur = s
            for t in ts { cur = try t.outputShape(cur) }
            return cur
        case .randomResizedCrop(let h, let w, _, _):
            return (s.0, h, w)
        case .horizontalFlip, .rotate:
            return s
        case .colorJitter, .grayscale:
            try checkImageChannels(s.0, "ColorJitter/RandomGrayscale")
            return s
        case .randomApply(let t, _):
            let o = try t.outputShape(s)
            try require(o == s, "RandomApply: the wrapped transform changes the image size from \(shapeString([s.0, s.1, s.2])) to \(shapeString([o.0, o.1, o.2])), so skipping it would give images of different sizes")
            return o
        case .gaussianBlur(let k, _):
            try require(k / 2 < Swift.min(s.1, s.2), "GaussianBlur: kernel size \(k) is too large for a \(s.1)x\(s.2) image (reflect padding needs kernel_size / 2 < the image side)")
            return s
        }
    }

    public var containsBlur: Bool {
        switch self {
        case .gaussianBlur: return true
        case .compose(let ts): return ts.contains { $0.containsBlur }
        case .randomApply(let t, _): return t.containsBlur
        default: return false
        }
    }

    public var containsRotate: Bool {
        switch self {
        case .rotate: return true
        case .compose(let ts): return ts.contains { $0.containsRotate }
        case .randomApply(let t, _): return t.containsRotate
        default: return false
        }
    }

    /// Applies the transform to one image, drawing from `rng` and noting what it sampled.
    public func run(_ img: inout AugImage, _ rng: RNG, _ rec: inout AugRecord) throws {
        switch self {
        case .compose(let ts):
            for t in ts { try t.run(&img, rng, &rec) }
        case .randomResizedCrop(let oh, let ow, let scale, let ratio):
            let box = sampleCrop(height: img.height, width: img.width, scale: scale, ratio: ratio, rng: rng)
            rec.crop = box
            rec.cropInputHeight = img.height
            rec.cropInputWidth = img.width
            img = try img.resizedCrop(top: box.top, left: box.left, height: box.height, width: box.width,
                                  outHeight: oh, outWidth: ow)
        case .horizontalFlip(let p):
            // torchvision: skipped when rand >= p
            if rng.uniform() < p { img.flipHorizontal(); rec.flip = true }
        case .colorJitter(let b, let c, let s, let h):
            let perm = rng.permutation(4)
            let fb = b.map { rng.uniform($0.0, $0.1) }
            let fc = c.map { rng.uniform($0.0, $0.1) }
            let fs = s.map { rng.uniform($0.0, $0.1) }
            let fh = h.map { rng.uniform($0.0, $0.1) }
            rec.jitter = true
            rec.order = []
            rec.brightness = fb ?? 1; rec.contrast = fc ?? 1; rec.saturation = fs ?? 1; rec.hue = fh ?? 0
            for k in perm {
                switch JitterOp(rawValue: k) {
                case .brightness: if let f = fb { img.adjustBrightness(Float(f)); rec.order.append(.brightness) }
                case .contrast: if let f = fc { img.adjustContrast(Float(f)); rec.order.append(.contrast) }
                case .saturation: if let f = fs { img.adjustSaturation(Float(f)); rec.order.append(.saturation) }
                case .hue: if let f = fh { img.adjustHue(Float(f)); rec.order.append(.hue) }
                case .none: break
                }
            }
        case .grayscale(let p):
            if rng.uniform() < p { img = try img.grayscale(channels: img.channels); rec.grayscale = true }
        case .randomApply(let t, let p):
            if rng.uniform() < p { try t.run(&img, rng, &rec) }
        case .gaussianBlur(let k, let sigma):
            let s = rng.uniform(sigma.0, sigma.1)
            rec.sigma = s
            img = try img.gaussianBlur(kernel: k, sigma: s)
        case .rotate(let deg, let bilinear):
            let a = rng.uniform(deg.0, deg.1)
            rec.angle = a
            img = try img.rotated(degrees: a, bilinear: bilinear)
        }
    }

    /// Runs `body(i)` for every image on the worker pool (at most `sslua.threads` threads), in
    /// small blocks handed out on demand, so a thread slowed down by other load does not hold
    /// the batch back; each image has its own generator and output slot, so the result does not
    /// depend on the scheduling.
    static func forEachImage(_ n: Int, _ body: (Int) -> Void) {
        let block = Swift.max(1, Swift.min(16, n / Swift.max(1, Parallel.threads * 4)))
        Parallel.forEachOnDemand(n, block: block, body)
    }

    /// Augments a batch `N x C x H x W` (or one `C x H x W` image): one generator per image is
    /// split from `rng` in order, then the images run in parallel, so the result for a seed does
    /// not depend on the thread count.
    public func apply(_ images: Tensor, rng: RNG, record: Bool) throws -> (Tensor, [AugRecord]) {
        let single = images.dim == 3
        try require(images.dim == 4 || single, "expected images N x C x H x W (or one C x H x W), got a tensor of size \(shapeString(images.shape))")
        let x = try (single ? images.unsqueeze(0) : images).to(.float32).contiguous()
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        try require(c >= 1 && h >= 1 && w >= 1, "empty images of size \(shapeString(images.shape))")
        let (oc, oh, ow) = try outputShape((c, h, w))
        let out = try Tensor(shape: [n, oc, oh, ow], zeroed: false)
        let gens = (0..<n).map { _ in rng.split() }
        var recs = try [AugRecord](failableRepeating: AugRecord(height: h, width: w), count: n)
        let src = UnsafePointer(x.base(Float.self)), dst = out.base(Float.self)
        let per = oc * oh * ow
        // the first error of any image (out of memory for an image's scratch), thrown after
        let failure = FirstError()
        recs.withUnsafeMutableBufferPointer { rp in
            let rbase = rp.baseAddress
            AugTransform.forEachImage(n) { i in
                if failure.isSet { return }
                var img: AugImage
                var rec = AugRecord(height: h, width: w)
                do {
                    img = try AugImage(batch: src, index: i, channels: c, height: h, width: w)
                    try self.run(&img, gens[i], &rec)
                } catch {
                    failure.set(error)
                    return
                }
                let o = dst + i * per
                img.data.withUnsafeBufferPointer { p in
                    if let b = p.baseAddress, p.count == per { o.update(from: b, count: per) }
                }
                rbase?[i] = rec
            }
        }
        try Parallel.checkInterrupt()
        try failure.rethrow()
        return (single ? try out.squeeze(0) : out, record ? recs : [])
    }
}

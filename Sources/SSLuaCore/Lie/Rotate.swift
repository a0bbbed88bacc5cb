import RealModule

/// Image rotation as torchvision's `rotate(img, angle, InterpolationMode.BILINEAR)` on tensors
/// (expand=False, fill=None): counter-clockwise by `degrees` about the centre
/// ((W-1)/2, (H-1)/2) in pixel indices; each output pixel samples the input bilinearly at its
/// inversely rotated position (grid_sample, align_corners=False), with zeros outside.
public enum Rotate {
    /// Rotates the last two dimensions of `images`. `degrees` has one angle for all images or
    /// one per entry of the first dimension.
    public static func rotate(_ images: Tensor, _ degrees: [Double]) throws -> Tensor {
        try require(images.dim >= 2, "images must have at least 2 dimensions (H x W), got size \(shapeString(images.shape))")
        let h = images.shape[images.dim - 2], w = images.shape[images.dim - 1]
        let planes = images.numel / Swift.max(h * w, 1)
        let lead = images.dim > 2 ? images.shape[0] : 1
        try require(degrees.count == 1 || (images.dim > 2 && degrees.count == lead),
                    "\(degrees.count) angles for \(images.dim > 2 ? lead : 1) images")
        for a in degrees { try require(a.isFinite, "angle must be finite, got \(a)") }
        let perImage = planes / Swift.max(lead, 1)
        let src = try images.to(.float64).contiguous()
        let out = try Tensor(shape: images.shape, dtype: .float64, zeroed: true)
        let sp = src.base(Double.self), op = out.base(Double.self)
        let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
        Parallel.forEach(planes) { pl in
            let angle = degrees.count == 1 ? degrees[0] : degrees[pl / Swift.max(perImage, 1)]
            // torchvision computes the grid in float32 for float images; float64 here
            let t = angle * Double.pi / 180
            let c = Double.cos(t), s = Double.sin(t)
            let ip = sp + pl * h * w, dst = op + pl * h * w
            for i in 0..<h {
                let y = Double(i) - cy
                for j in 0..<w {
                    let x = Double(j) - cx
                    let xs = c * x - s * y + cx, ys = s * x + c * y + cy
                    let x0 = Int(xs.rounded(.down)), y0 = Int(ys.rounded(.down))   // |xs|, |ys| <= 1.5 max(h, w)
                    let fx = xs - Double(x0), fy = ys - Double(y0)
                    // the four neighbours, each kept only when inside the image (zero padding)
                    let inX0 = x0 >= 0 && x0 < w, inX1 = x0 + 1 >= 0 && x0 + 1 < w
                    var v = 0.0
                    if y0 >= 0 && y0 < h {
                        let r = ip + y0 * w
                        if inX0 { v += (1 - fy) * (1 - fx) * r[x0] }
                        if inX1 { v += (1 - fy) * fx * r[x0 + 1] }
                    }
                    if y0 + 1 >= 0 && y0 + 1 < h {
                        let r = ip + (y0 + 1) * w
                        if inX0 { v += fy * (1 - fx) * r[x0] }
                        if inX1 { v += fy * fx * r[x0 + 1] }
                    }
                    dst[i * w + j] = v
                }
            }
        }
        return images.dtype == .float64 ? out : try out.to(images.dtype)
    }

    /// A size x size image (shape [1, size, size]) that is 0 except a 1 at a uniformly random pixel.
    public static func oneHotImage(_ size: Int, rng: RNG, dtype: DType = .float32) throws -> Tensor {
        try require(size >= 1 && size <= 1 << 14, "size must be in 1...16384, got \(size)")
        let t = try Tensor(shape: [1, size, size], dtype: dtype, zeroed: true)
        let k = rng.integer(0, size * size - 1)
        switch dtype {
        case .float32: t.base(Float.self)[k] = 1
        case .float64: t.base(Double.self)[k] = 1
        }
        return t
    }
}

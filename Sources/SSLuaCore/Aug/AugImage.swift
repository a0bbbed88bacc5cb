/// One image being augmented: `C x H x W` float32, contiguous, owned.
///
/// The augmentation kernels work on one image at a time (as torchvision's per-image transforms
/// do), so a batch can be spread over the threads image by image.
public struct AugImage {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var data: [Float]

    public init(channels: Int, height: Int, width: Int, data: [Float]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.data = data
    }

    /// A zero image; throws "out of memory" when its pixels cannot be had.
    public init(channels: Int, height: Int, width: Int) throws {
        self.init(channels: channels, height: height, width: width,
                  data: try [Float](failableRepeating: 0, count: try pixelCount(channels, height, width), "an image"))
    }

    public var plane: Int { height * width }
    public var shape: [Int] { [channels, height, width] }

    /// Copies image `index` of a contiguous `N x C x H x W` float32 buffer.
    public init(batch p: UnsafePointer<Float>, index: Int, channels: Int, height: Int, width: Int) throws {
        let n = channels * height * width
        self.init(channels: channels, height: height, width: width,
                  data: try Memory.array(p + index * n, count: n, "an image"))
    }

    /// A `C x H x W` tensor (any strides, any dtype) as an image.
    public init(tensor t: Tensor) throws {
        try require(t.dim == 3, "expected a C x H x W image, got a tensor of size \(shapeString(t.shape))")
        let c = try t.to(.float32).contiguous()
        try self.init(batch: UnsafePointer(c.base(Float.self)), index: 0,
                  channels: t.shape[0], height: t.shape[1], width: t.shape[2])
    }

    /// The image as a new `C x H x W` float32 tensor.
    public func tensor() throws -> Tensor {
        let t = try Tensor(shape: shape, zeroed: false)
        let dst = t.base(Float.self)
        for i in 0..<data.count { dst[i] = data[i] }
        return t
    }
}

/// Checks that a tensor is an RGB or grayscale image batch (`N x C x H x W` or one `C x H x W`).
public func checkImageChannels(_ c: Int, _ what: String) throws {
    try require(c == 1 || c == 3, "\(what): images must have 1 or 3 channels, got \(c)")
}

/// `c * h * w`, or a size error when the product overflows.
func pixelCount(_ c: Int, _ h: Int, _ w: Int) throws -> Int {
    let (a, o1) = c.multipliedReportingOverflow(by: h)
    let (b, o2) = a.multipliedReportingOverflow(by: w)
    guard !o1, !o2, c >= 0, h >= 0, w >= 0 else {
        throw SSLuaError("out of memory: an image of \(c) x \(h) x \(w) pixels overflows the address space")
    }
    return b
}

import CPNG
#if canImport(Glibc)
import Glibc
#endif

/// PNG files through libpng's simplified API (`png_image_*`), which reports errors through the
/// image's message instead of `longjmp`, so nothing unwinds through Swift frames.
public enum PNG {
    static func message(_ img: png_image) -> String {
        var m = img.message
        return withUnsafeBytes(of: &m) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[0..<end], as: UTF8.self)
        }
    }

    /// Writes 8-bit pixels (`channels` = 1 gray or 3 RGB, interleaved, row-major) atomically:
    /// encoded in memory, then written by `FileIO.writeAtomic` (a new random temporary file in
    /// the same directory, renamed over `path`; beneath the results directory under --sandbox).
    public static func write(_ path: String, pixels: [UInt8], width: Int, height: Int, channels: Int) throws {
        try require(channels == 1 || channels == 3, "PNG needs 1 or 3 channels, got \(channels)")
        let (wh, o1) = width.multipliedReportingOverflow(by: height)
        let (whc, o2) = wh.multipliedReportingOverflow(by: channels)
        try require(!o1 && !o2 && pixels.count == whc && width > 0 && height > 0
                    && width <= Int(Int32.max) && height <= Int(Int32.max), "bad PNG buffer")
        var img = png_image()
        img.version = png_uint_32(PNG_IMAGE_VERSION)
        img.width = png_uint_32(width)
        img.height = png_uint_32(height)
        img.format = channels == 3 ? png_uint_32(PNG_FORMAT_RGB) : png_uint_32(PNG_FORMAT_GRAY)
        func failed() -> SSLuaError {
            let msg = message(img)
            png_image_free(&img)
            return SSLuaError("cannot write '\(path)': \(msg.isEmpty ? "PNG encoding failed" : msg)")
        }
        var size = 0
        let sized = pixels.withUnsafeBufferPointer { p in
            png_image_write_to_memory(&img, nil, &size, 0, p.baseAddress, 0, nil)
        }
        guard sized != 0, size > 0 else { throw failed() }
        guard let buf = malloc(size) else {
            png_image_free(&img)
            throw SSLuaError("out of memory: cannot encode '\(path)' (\(size) bytes)")
        }
        defer { free(buf) }
        var written = size
        let ok = pixels.withUnsafeBufferPointer { p in
            png_image_write_to_memory(&img, buf, &written, 0, p.baseAddress, 0, nil)
        }
        guard ok != 0, written <= size else { throw failed() }
        png_image_free(&img)
        try FileIO.writeAtomic(path, bytes: UnsafeRawBufferPointer(start: buf, count: written))
    }

    /// Reads a PNG as a `C x H x W` float32 tensor in [0, 1] (C = 1 for gray files, else 3;
    /// alpha is composited away by libpng).
    public static func read(_ path: String) throws -> Tensor {
        // through InputFile (a regular file, never a FIFO), and from memory: libpng opening the
        // path itself would block on a FIFO
        let file = try InputFile(path)
        let bytes = try file.all()
        var img = png_image()
        img.version = png_uint_32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_memory(&img, bytes.base, bytes.count) != 0 else {
            let msg = message(img)
            png_image_free(&img)
            throw SSLuaError("cannot read '\(path)' as PNG: \(msg)")
        }
        let color = img.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
        let c = color ? 3 : 1
        img.format = color ? png_uint_32(PNG_FORMAT_RGB) : png_uint_32(PNG_FORMAT_GRAY)
        let w = Int(img.width), h = Int(img.height)
        guard w > 0, h > 0, w * h < 1 << 28 else {
            png_image_free(&img)
            throw SSLuaError("'\(path)': unsupported PNG size \(w)x\(h)")
        }
        // at least one bit a pixel and a filter byte a row, deflated at most about 1032 to 1:
        // a header claiming more pixels than the file can hold is refused before any allocation
        guard h * ((w + 7) / 8 + 1) <= FileBytes.gzipBound(bytes.count) else {
            png_image_free(&img)
            throw SSLuaError("'\(path)' is corrupt: \(w)x\(h) pixels cannot come from its \(bytes.count) bytes")
        }
        let buf: Buffer<UInt8>
        do { buf = try Buffer<UInt8>(count: w * h * c, "the pixels of '\(path)'") } catch {
            png_image_free(&img)
            throw error
        }
        let ok = withExtendedLifetime(bytes) { png_image_finish_read(&img, nil, buf.base, 0, nil) }
        if ok == 0 {
            let msg = message(img)
            png_image_free(&img)
            throw SSLuaError("cannot read '\(path)' as PNG: \(msg)")
        }
        let t = try Tensor(shape: [c, h, w], zeroed: false)
        let d = t.base(Float.self)
        for y in 0..<h { for x in 0..<w { for k in 0..<c {
            d[k * h * w + y * w + x] = Float(buf[(y * w + x) * c + k]) / 255
        } } }
        return t
    }

    /// torchvision's `make_grid` + `save_image`: images in rows of `nrow`, `padding` pixels of
    /// `padValue` around each, values mapped with `clamp(v * 255 + 0.5, 0, 255)`.
    public static func saveGrid(_ images: Tensor, path: String, nrow: Int, padding: Int, padValue: Double) throws {
        let x = try (images.dim == 3 ? images.unsqueeze(0) : images).to(.float32).contiguous()
        try require(x.dim == 4, "expected images N x C x H x W (or one C x H x W), got a tensor of size \(shapeString(images.shape))")
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        try require(n >= 1 && h >= 1 && w >= 1, "no images to save (size \(shapeString(images.shape)))")
        try require(c == 1 || c == 3, "images must have 1 or 3 channels, got \(c)")
        try require(nrow >= 1, "nrow must be positive, got \(nrow)")
        try require(padding >= 0 && padding < 1 << 12, "padding must be non-negative, got \(padding)")
        let cols = Swift.min(nrow, n), rows = (n + cols - 1) / cols
        let gw = cols * (w + padding) + padding, gh = rows * (h + padding) + padding
        try require(gw < 1 << 15 && gh < 1 << 15, "grid of \(gw)x\(gh) pixels is too large for one PNG")
        let pad = UInt8(Swift.min(Swift.max(padValue * 255 + 0.5, 0), 255))
        var px = try [UInt8](failableRepeating: pad, count: gw * gh * c)
        let src = x.base(Float.self)
        for i in 0..<n {
            let oy = (i / cols) * (h + padding) + padding, ox = (i % cols) * (w + padding) + padding
            for k in 0..<c { for y in 0..<h { for xx in 0..<w {
                let v = src[((i * c + k) * h + y) * w + xx]
                let b = v.isNaN ? 0 : UInt8(Swift.min(Swift.max(v * 255 + 0.5, 0), 255))
                px[((oy + y) * gw + ox + xx) * c + k] = b
            } } }
        }
        try write(path, pixels: px, width: gw, height: gh, channels: c)
    }
}

/// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): two zero
/// bytes, a type byte (0x08 = unsigned byte), the number of dimensions, the sizes as big-endian
/// 32-bit integers, then the data. Files may be gzip-compressed.
public enum IDX {
    /// The dimensions, data offset and data size the header at the start of `b` announces;
    /// nil while `b` is too short to hold the whole header.
    static func header(_ b: UnsafeBufferPointer<UInt8>, file: String) throws -> (dims: [Int], start: Int, total: Int)? {
        if b.count < 4 { return nil }
        try require(b[0] == 0 && b[1] == 0, "'\(file)' is not an IDX file (bad magic number)")
        try require(b[2] == 0x08, "'\(file)': IDX element type 0x\(String(b[2], radix: 16)) is not supported (only unsigned bytes)")
        let nd = Int(b[3])
        try require(nd >= 1 && nd <= 4, "'\(file)' is corrupt: \(nd) dimensions")
        if b.count < 4 + 4 * nd { return nil }
        var dims: [Int] = []
        for d in 0..<nd {
            let o = 4 + 4 * d
            dims.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        guard let total = FileShape.count(dims, elementSize: 1), total < 1 << 40 else {
            throw SSLuaError("'\(file)' is corrupt: sizes \(dims) are too large")
        }
        return (dims, 4 + 4 * nd, total)
    }

    /// Dimensions and unsigned-byte payload (`data[start..<start + count of dims]`) of an IDX file.
    public static func read(_ path: String) throws -> (dims: [Int], data: Buffer<UInt8>, start: Int, file: String) {
        let (file, gz) = FileBytes.resolve(path)
        // the whole contents (gzip: decompressed, stopped past the announced size), or for a
        // plain file whose size differs from the header's, only the header
        let b: Buffer<UInt8>, size: Int
        if gz {
            b = try FileBytes.readGzip(file) { prefix in try header(prefix, file: file).map { $0.start + $0.total } }
            size = b.count
        } else {
            let f = try InputFile(file)
            let pre = try f.prefix(20)
            size = f.size
            if let (_, start, total) = try header(UnsafeBufferPointer(pre.buffer), file: file), start + total != size {
                b = pre
            } else {
                b = try f.all()
            }
        }
        guard let (dims, start, total) = try header(UnsafeBufferPointer(b.buffer), file: file) else {
            throw SSLuaError(b.count < 4 ? "'\(file)' is truncated (no IDX header)" : "'\(file)' is truncated (IDX header)")
        }
        try require(size - start >= total,
                    "'\(file)' is truncated: \(size - start) data bytes for sizes \(dims.map(String.init).joined(separator: "x")) (\(total) expected)")
        try require(size - start == total, "'\(file)' is corrupt: \(size - start - total) bytes after the data")
        return (dims, b, start, file)
    }

    /// Images (`N x 1 x H x W` in [0, 1]) and 0-based labels from an image file and a label file.
    public static func labelledImages(images: String, labels: String, classes: Int = 10) throws -> LabelledImages {
        let (di, pix, ps, fi) = try read(images)
        try require(di.count == 3, "'\(fi)': expected 3 dimensions (N x H x W), got \(di.count)")
        let (dl, lab, ls0, fl) = try read(labels)
        try require(dl.count == 1, "'\(fl)': expected 1 dimension (N), got \(dl.count)")
        try require(dl[0] == di[0], "'\(fl)' has \(dl[0]) labels but '\(fi)' has \(di[0]) images")
        var ls = try Memory.array(repeating: 0, count: dl[0], "the labels of '\(fl)'")
        for k in 0..<dl[0] {
            let v = lab[ls0 + k]
            try require(Int(v) < classes, "'\(fl)' is corrupt: label \(v) of item \(k + 1) is not below \(classes)")
            ls[k] = Int(v)
        }
        let t = try Tensor(shape: [di[0], 1, di[1], di[2]], zeroed: false)
        let dst = t.base(Float.self)
        for k in 0..<(di[0] * di[1] * di[2]) { dst[k] = Float(pix[ps + k]) / 255 }
        return LabelledImages(images: t, labels: ls, coarse: nil)
    }
}

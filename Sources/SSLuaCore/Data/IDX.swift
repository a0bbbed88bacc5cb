/// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): two zero
/// bytes, a type byte (0x08 = unsigned byte), the number of dimensions, the sizes as big-endian
/// 32-bit integers, then the data. Files may be gzip-compressed.
public enum IDX {
    /// Dimensions and unsigned-byte payload of an IDX file.
    public static func read(_ path: String) throws -> (dims: [Int], data: ArraySlice<UInt8>, file: String) {
        let (b, file) = try FileBytes.readMaybeGzip(path)
        try require(b.count >= 4, "'\(file)' is truncated (no IDX header)")
        try require(b[0] == 0 && b[1] == 0, "'\(file)' is not an IDX file (bad magic number)")
        try require(b[2] == 0x08, "'\(file)': IDX element type 0x\(String(b[2], radix: 16)) is not supported (only unsigned bytes)")
        let nd = Int(b[3])
        try require(nd >= 1 && nd <= 4, "'\(file)' is corrupt: \(nd) dimensions")
        try require(b.count >= 4 + 4 * nd, "'\(file)' is truncated (IDX header)")
        var dims: [Int] = []
        var total = 1
        for d in 0..<nd {
            let o = 4 + 4 * d
            let v = Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
            dims.append(v)
            let (m, overflow) = total.multipliedReportingOverflow(by: v)
            try require(!overflow && m < 1 << 40, "'\(file)' is corrupt: sizes \(dims) are too large")
            total = m
        }
        let start = 4 + 4 * nd
        try require(b.count - start >= total,
                    "'\(file)' is truncated: \(b.count - start) data bytes for sizes \(dims.map(String.init).joined(separator: "x")) (\(total) expected)")
        try require(b.count - start == total, "'\(file)' is corrupt: \(b.count - start - total) bytes after the data")
        return (dims, b[start..<(start + total)], file)
    }

    /// Images (`N x 1 x H x W` in [0, 1]) and 0-based labels from an image file and a label file.
    public static func labelledImages(images: String, labels: String, classes: Int = 10) throws -> LabelledImages {
        let (di, pix, fi) = try read(images)
        try require(di.count == 3, "'\(fi)': expected 3 dimensions (N x H x W), got \(di.count)")
        let (dl, lab, fl) = try read(labels)
        try require(dl.count == 1, "'\(fl)': expected 1 dimension (N), got \(dl.count)")
        try require(dl[0] == di[0], "'\(fl)' has \(dl[0]) labels but '\(fi)' has \(di[0]) images")
        var ls: [Int] = []
        ls.reserveCapacity(dl[0])
        for (k, v) in lab.enumerated() {
            try require(Int(v) < classes, "'\(fl)' is corrupt: label \(v) of item \(k + 1) is not below \(classes)")
            ls.append(Int(v))
        }
        let t = try Tensor(shape: [di[0], 1, di[1], di[2]], zeroed: false)
        let dst = t.base(Float.self)
        var k = 0
        for v in pix { dst[k] = Float(v) / 255; k += 1 }
        return LabelledImages(images: t, labels: ls, coarse: nil)
    }
}

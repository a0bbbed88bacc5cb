/// Readers of the CIFAR binary versions (https://www.cs.toronto.edu/~kriz/cifar.html):
/// CIFAR-10 records are `<label><3072 pixels>`, CIFAR-100 records `<coarse><fine><3072 pixels>`;
/// pixels are the red, green and blue 32x32 planes, row-major, so a record is already `C x H x W`.
public struct LabelledImages {
    public var images: Tensor          // N x C x H x W, float32 in [0, 1]
    public var labels: [Int]           // 0-based
    public var coarse: [Int]?          // 0-based
}

public enum CIFAR {
    /// Reads and concatenates `files`; `labelBytes` is 1 (CIFAR-10) or 2 (CIFAR-100).
    public static func read(files: [String], labelBytes: Int, classes: Int, coarseClasses: Int = 20) throws -> LabelledImages {
        let pixels = 3 * 32 * 32, rec = labelBytes + pixels
        var chunks: [Buffer<UInt8>] = []
        var total = 0
        for f in files {
            let file = try InputFile(f)
            try require(file.size > 0, "'\(f)' is empty")
            try require(file.size % rec == 0,
                        "'\(f)' is truncated or not a CIFAR binary file: \(file.size) bytes is not a whole number of \(rec)-byte records")
            let b = try file.all()
            for r in 0..<(b.count / rec) {
                let fine = Int(b[r * rec + labelBytes - 1])
                try require(fine < classes, "'\(f)' is corrupt: label \(fine) of record \(r + 1) is not below \(classes)")
                if labelBytes == 2 {
                    let c = Int(b[r * rec])
                    try require(c < coarseClasses, "'\(f)' is corrupt: coarse label \(c) of record \(r + 1) is not below \(coarseClasses)")
                }
            }
            total += b.count / rec
            chunks.append(b)
        }
        let images = try Tensor(shape: [total, 3, 32, 32], zeroed: false)
        var labels = [Int](), coarse = [Int]()
        try Memory.reserve(total * (labelBytes + 1), of: Int.self, "the labels")
        labels.reserveCapacity(total)
        if labelBytes == 2 { coarse.reserveCapacity(total) }
        let dst = images.base(Float.self)
        var k = 0
        for b in chunks {
            for r in 0..<(b.count / rec) {
                let s = b.base + r * rec
                labels.append(Int(s[labelBytes - 1]))
                if labelBytes == 2 { coarse.append(Int(s[0])) }
                let o = dst + k * pixels
                for i in 0..<pixels { o[i] = Float(s[labelBytes + i]) / 255 }
                k += 1
            }
        }
        return LabelledImages(images: images, labels: labels, coarse: labelBytes == 2 ? coarse : nil)
    }
}

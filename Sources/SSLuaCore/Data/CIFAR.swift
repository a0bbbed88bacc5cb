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

/// The python version of CIFAR (what torchvision downloads: `cifar-10-batches-py/data_batch_1..5`,
/// `test_batch`, `batches.meta`; `cifar-100-python/train`, `test`, `meta`): pickled dicts (Python 2
/// strings or bytes keys, read with `encoding='latin1'` semantics) of a NumPy `uint8` array
/// `data` (N x 3072, the same plane order as the binary version) and lists of labels. Read by
/// the restricted unpickler as data; nothing in the files is executed.
extension CIFAR {
    static func pickledDict(_ path: String) throws -> (PDict, Unpickler) {
        let (v, u) = try TorchFile.loadPickle(path)
        guard case .dict(let d) = v else {
            u.dismantle()
            throw SSLuaError("'\(path)' is not a CIFAR python batch: the pickle is not a dict")
        }
        return (d, u)
    }

    static func intList(_ v: PValue?, _ path: String, _ key: String, count: Int, below: Int) throws -> [Int] {
        guard let v, let l = Unpickler.ints(v) else { throw SSLuaError("'\(path)' is not a CIFAR python batch: no list '\(key)'") }
        try require(l.count == count, "'\(path)' is corrupt: \(l.count) '\(key)' for \(count) images")
        for (i, x) in l.enumerated() {
            try require(x >= 0 && x < below, "'\(path)' is corrupt: \(key) \(x) of image \(i + 1) is not in 0..\(below - 1)")
        }
        return l
    }

    /// Reads and concatenates python-layout batches; CIFAR-100 (`classes == 100`) also has coarse labels.
    public static func readPython(files: [String], classes: Int, coarseClasses: Int = 20) throws -> LabelledImages {
        let pixels = 3 * 32 * 32
        var arrays: [[UInt8]] = [], labels: [Int] = [], coarse: [Int] = []
        var total = 0
        for f in files {
            let (d, u) = try pickledDict(f)
            defer { u.dismantle() }
            guard case .object(let o)? = d["data"], let a = o.array else {
                throw SSLuaError("'\(f)' is not a CIFAR python batch: no NumPy array 'data'")
            }
            try require(a.descr.hasSuffix("u1"), "'\(f)' is not a CIFAR python batch: 'data' has element type '\(a.descr)', uint8 expected")
            let n = a.shape.first ?? 0
            let per = a.shape.dropFirst().reduce(1) { $0 &* $1 }
            try require(!a.fortran && a.shape.count >= 2 && per == pixels && n >= 0 && n <= a.data.count / pixels,
                        "'\(f)' is not a CIFAR python batch: 'data' has shape \(shapeString(a.shape)), N x 3072 expected")
            if classes == 100 {
                labels += try intList(d["fine_labels"], f, "fine_labels", count: n, below: classes)
                coarse += try intList(d["coarse_labels"], f, "coarse_labels", count: n, below: coarseClasses)
            } else {
                labels += try intList(d["labels"], f, "labels", count: n, below: classes)
            }
            arrays.append(Array(a.data[0..<(n * pixels)]))
            total += n
        }
        let images = try Tensor(shape: [total, 3, 32, 32], zeroed: false)
        let dst = images.base(Float.self)
        var k = 0
        for b in arrays {
            b.withUnsafeBufferPointer { p in
                for i in 0..<b.count { dst[k + i] = Float(p[i]) / 255 }
            }
            k += b.count
        }
        return LabelledImages(images: images, labels: labels, coarse: classes == 100 ? coarse : nil)
    }

    /// The class names listed under `key` in a python-layout meta file, or nil.
    public static func pythonNames(_ path: String, key: String) throws -> [String]? {
        guard FileBytes.exists(path) else { return nil }
        let (d, u) = try pickledDict(path)
        defer { u.dismantle() }
        guard let v = d[key], case .list(let l) = v else { return nil }
        let names = l.items.compactMap { Unpickler.text($0) }
        return names.count == l.items.count ? names : nil
    }
}

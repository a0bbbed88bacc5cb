import Foundation
import Testing
import SSLuaCore

/// The IDX (MNIST) and CIFAR binary readers on files whose bytes the test writes, and their
/// refusal of corrupt headers.
extension CoreTests {
    @Suite struct Readers {
        /// A fresh directory for one test's files.
        static func directory() throws -> URL {
            let d = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sslua-core-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            return d
        }

        static func write(_ bytes: [UInt8], _ name: String, in dir: URL) throws -> String {
            let url = dir.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            return url.path
        }

        /// An IDX header: magic 0 0, type, the number of dimensions, big-endian 32-bit sizes.
        static func idxHeader(_ dims: [UInt32], type: UInt8 = 0x08) -> [UInt8] {
            var h: [UInt8] = [0, 0, type, UInt8(dims.count)]
            for d in dims {
                for shift: UInt32 in [24, 16, 8, 0] { h.append(UInt8(truncatingIfNeeded: d >> shift)) }
            }
            return h
        }

        /// Bytes (i * a + b) mod 256 for i in 0 ..< n.
        static func pattern(_ n: Int, _ a: Int, _ b: Int) -> [UInt8] {
            var out: [UInt8] = []
            for i in 0..<n { out.append(UInt8(truncatingIfNeeded: (i * a + b) % 256)) }
            return out
        }

        @Test func idxImagesAndLabels() throws {
            let dir = try Self.directory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let pixels = Self.pattern(12, 37, 5)
            let images = try Self.write(Self.idxHeader([2, 3, 2]) + pixels, "images-idx3-ubyte", in: dir)
            let labelBytes: [UInt8] = [7, 1]
            let labels = try Self.write(Self.idxHeader([2]) + labelBytes, "labels-idx1-ubyte", in: dir)
            let raw = try IDX.read(images)
            #expect(raw.dims == [2, 3, 2] && raw.start == 16)
            var payload: [UInt8] = []
            for k in 0..<12 { payload.append(raw.data[raw.start + k]) }
            #expect(payload == pixels)
            let set = try IDX.labelledImages(images: images, labels: labels)
            #expect(set.images.shape == [2, 1, 3, 2])
            #expect(set.labels == [7, 1])
            let scaled: [Double] = pixels.map { (p: UInt8) -> Double in Double(Float(p) / 255) }
            #expect(maxAbsDiff(elements(set.images), scaled) == 0)
        }

        @Test func idxRefusesCorruptFiles() throws {
            let dir = try Self.directory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let data: [UInt8] = [UInt8](repeating: 9, count: 6)
            let magic: [UInt8] = [1, 0, 8, 1, 0, 0, 0, 6], noDims: [UInt8] = [0, 0, 8, 0], fiveDims: [UInt8] = [0, 0, 8, 5]
            let cases: [(String, [UInt8], String)] = [
                ("magic", magic + data, "bad magic number"),
                ("type", Self.idxHeader([6], type: 0x0D) + data, "element type 0xd"),
                ("nodims", noDims + data, "0 dimensions"),
                ("fivedims", fiveDims + data, "5 dimensions"),
                ("short", Self.idxHeader([7]) + data, "truncated"),
                ("long", Self.idxHeader([5]) + data, "1 bytes after the data"),
                ("header", [0, 0, 8, 3, 0, 0], "truncated (IDX header)"),
                ("tiny", [0, 0], "no IDX header"),
                ("huge", Self.idxHeader([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF]) + data, "too large"),
            ]
            for (name, bytes, expected) in cases {
                let path = try Self.write(bytes, name, in: dir)
                let msg = errorMessage { _ = try IDX.read(path) }
                #expect(msg?.contains(expected) == true, "\(name): \(msg ?? "no error")")
            }
            // a label that is not below the number of classes
            let images = try Self.write(Self.idxHeader([2, 1, 3]) + data, "im", in: dir)
            let badLabels: [UInt8] = [3, 10]
            let labels = try Self.write(Self.idxHeader([2]) + badLabels, "lab", in: dir)
            let msg = errorMessage { _ = try IDX.labelledImages(images: images, labels: labels, classes: 10) }
            #expect(msg?.contains("label 10 of item 2 is not below 10") == true, "\(msg ?? "no error")")
            // as many labels as images
            let threeLabels: [UInt8] = [0, 1, 2]
            let three = try Self.write(Self.idxHeader([3]) + threeLabels, "three", in: dir)
            #expect(errorMessage { _ = try IDX.labelledImages(images: images, labels: three) }?.contains("3 labels") == true)
            // not a regular file
            #expect(errorMessage { _ = try IDX.read(dir.path) }?.contains("not a regular file") == true)
        }

        static let plane = 32 * 32, pixels = 3 * 32 * 32

        /// `count` CIFAR records (label bytes first, then 3 planes of 32 x 32) with a byte pattern.
        static func cifarRecords(_ labels: [[UInt8]]) -> [UInt8] {
            var b: [UInt8] = []
            for (r, l) in labels.enumerated() {
                b += l
                b += pattern(pixels, 13, r * 101)
            }
            return b
        }

        @Test func cifar10And100Binary() throws {
            let dir = try Self.directory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let f1 = try Self.write(Self.cifarRecords([[3], [9]]), "data_batch_1.bin", in: dir)
            let f2 = try Self.write(Self.cifarRecords([[0]]), "data_batch_2.bin", in: dir)
            let set = try CIFAR.read(files: [f1, f2], labelBytes: 1, classes: 10)
            #expect(set.images.shape == [3, 3, 32, 32])
            #expect(set.labels == [3, 9, 0] && set.coarse == nil)
            // image 1 (0-based), channel 2, row 5, column 7 of the first file
            let i = 2 * Self.plane + 5 * 32 + 7
            let b1 = Self.pattern(Self.pixels, 13, 101)[i], b0 = Self.pattern(Self.pixels, 13, 0)[i]
            #expect(set.images.value(at: 1 * Self.pixels + i) == Double(Float(b1) / 255))
            // image 2 is record 0 of the second file
            #expect(set.images.value(at: 2 * Self.pixels + i) == Double(Float(b0) / 255))

            let c100 = try Self.write(Self.cifarRecords([[19, 99], [4, 0]]), "train.bin", in: dir)
            let s100 = try CIFAR.read(files: [c100], labelBytes: 2, classes: 100)
            #expect(s100.labels == [99, 0] && s100.coarse == [19, 4])
        }

        @Test func cifarRefusesCorruptFiles() throws {
            let dir = try Self.directory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let cut = try Self.write(Array(Self.cifarRecords([[1], [2]]).dropLast()), "cut", in: dir)
            #expect(errorMessage { _ = try CIFAR.read(files: [cut], labelBytes: 1, classes: 10) }?
                        .contains("not a whole number of 3073-byte records") == true)
            let label = try Self.write(Self.cifarRecords([[1], [10]]), "label", in: dir)
            #expect(errorMessage { _ = try CIFAR.read(files: [label], labelBytes: 1, classes: 10) }?
                        .contains("label 10 of record 2 is not below 10") == true)
            let coarse = try Self.write(Self.cifarRecords([[20, 5]]), "coarse", in: dir)
            #expect(errorMessage { _ = try CIFAR.read(files: [coarse], labelBytes: 2, classes: 100) }?
                        .contains("coarse label 20 of record 1 is not below 20") == true)
            let empty = try Self.write([], "empty", in: dir)
            #expect(errorMessage { _ = try CIFAR.read(files: [empty], labelBytes: 1, classes: 10) }?.contains("is empty") == true)
            #expect(errorMessage { _ = try CIFAR.read(files: [dir.appendingPathComponent("missing").path], labelBytes: 1, classes: 10) }?
                        .contains("cannot open") == true)
        }
    }
}

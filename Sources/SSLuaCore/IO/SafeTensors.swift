import Foundation

/// The `.safetensors` format: an 8-byte little-endian header length, a JSON header mapping
/// names to `{dtype, shape, data_offsets}` (plus an optional `__metadata__` of strings), then
/// the raw little-endian data. Written: F32/F64, names in sorted order, header padded with
/// spaces to 8 bytes (as the reference implementation). Read: F64, F32, F16, BF16, integer
/// types and BOOL, converted to float32 (F64 stays float64).
public enum SafeTensors {
    public static func save(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to path: String) throws {
        let sorted = tensors.sorted { $0.0 < $1.0 }
        for k in 1..<max(sorted.count, 1) where sorted[k].0 == sorted[k - 1].0 {
            throw SSLuaError("duplicate tensor name '\(sorted[k].0)'")
        }
        try require(!sorted.contains { $0.0 == "__metadata__" }, "'__metadata__' is reserved and cannot name a tensor")
        let contiguous = try sorted.map { ($0.0, try $0.1.contiguous()) }
        var entries: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(StringLiteral.json($0)):\(StringLiteral.json(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(m.joined(separator: ","))}")
        }
        var off = 0
        for (name, t) in contiguous {
            let n = t.numel * t.dtype.size
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append("\(StringLiteral.json(name)):{\"dtype\":\"\(t.dtype == .float32 ? "F32" : "F64")\",\"shape\":[\(shape)],\"data_offsets\":[\(off),\(off + n)]}")
            off += n
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        var len = [UInt8](repeating: 0, count: 8)
        for b in 0..<8 { len[b] = UInt8((UInt64(header.count) >> (8 * UInt64(b))) & 0xFF) }
        try FileIO.writeAtomic(path) { write in
            try (len + header).withUnsafeBytes { try write($0.baseAddress!, $0.count) }
            for (_, t) in contiguous {
                try write(UnsafeRawPointer(t.storage.raw + t.offset * t.dtype.size), t.numel * t.dtype.size)
            }
        }
    }

    /// Named tensors (in file order) and the metadata.
    public static func load(_ path: String) throws -> ([(String, Tensor)], [String: String]) {
        let file = try InputFile(path)
        func bad(_ why: String) -> SSLuaError { SSLuaError("'\(path)' is not a valid .safetensors file: \(why)") }
        guard file.size >= 8 else { throw bad("shorter than its 8-byte header length") }
        let lenBytes = try file.bytes(at: 0, count: 8)
        var n: UInt64 = 0
        for b in 0..<8 { n |= UInt64(lenBytes[b]) << (8 * UInt64(b)) }
        guard n >= 2, n <= UInt64(file.size - 8), n < 100_000_000 else {
            throw bad("header length \(n) does not fit the file of \(file.size) bytes")
        }
        let hlen = Int(n)
        let header = try file.bytes(at: 8, count: hlen)
        let obj = withExtendedLifetime(header) {
            try? JSONSerialization.jsonObject(with: Data(bytesNoCopy: header.base, count: hlen, deallocator: .none))
        }
        guard let dict = obj as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        let data = 8 + hlen, dataLen = file.size - data
        var meta: [String: String] = [:]
        if let m = dict["__metadata__"] {
            guard let mm = m as? [String: Any] else { throw bad("__metadata__ is not an object") }
            for (k, v) in mm {
                guard let s = v as? String else { throw bad("__metadata__ value of '\(k)' is not a string") }
                meta[k] = s
            }
        }
        var out: [(String, Tensor, Int)] = []
        for (name, v) in dict where name != "__metadata__" {
            guard let e = v as? [String: Any], let dt = e["dtype"] as? String,
                  let shapeAny = e["shape"] as? [Any], let offAny = e["data_offsets"] as? [Any], offAny.count == 2 else {
                throw bad("entry '\(name)' needs dtype, shape and data_offsets")
            }
            func int(_ x: Any) throws -> Int {
                guard let num = x as? NSNumber, let d = Double(exactly: num.doubleValue), d >= 0, d < 9e15, d == d.rounded() else {
                    throw bad("entry '\(name)' has a non-integer size or offset")
                }
                return Int(d)
            }
            let shape = try shapeAny.map(int)
            let (b, e2) = (try int(offAny[0]), try int(offAny[1]))
            let kind: RawElements.Kind, size: Int, outType: DType
            switch dt {
            case "F64": (kind, size, outType) = (.float, 8, .float64)
            case "F32": (kind, size, outType) = (.float, 4, .float32)
            case "F16": (kind, size, outType) = (.float, 2, .float32)
            case "BF16": (kind, size, outType) = (.bfloat, 2, .float32)
            case "I64": (kind, size, outType) = (.signed, 8, .float32)
            case "I32": (kind, size, outType) = (.signed, 4, .float32)
            case "I16": (kind, size, outType) = (.signed, 2, .float32)
            case "I8": (kind, size, outType) = (.signed, 1, .float32)
            case "U8": (kind, size, outType) = (.unsigned, 1, .float32)
            case "BOOL": (kind, size, outType) = (.bool, 1, .float32)
            default: throw bad("entry '\(name)' has unsupported dtype \(dt)")
            }
            guard let count = FileShape.count(shape, elementSize: size) else { throw bad("entry '\(name)' is too large") }
            guard b <= e2, e2 <= dataLen else {
                throw bad("entry '\(name)' has data_offsets [\(b), \(e2)] outside the \(dataLen) data bytes (truncated?)")
            }
            guard e2 - b == count * size else {
                throw bad("entry '\(name)' holds \(e2 - b) bytes for \(count) \(dt) elements")
            }
            let t = try Tensor(shape: shape, dtype: outType, zeroed: false)
            if kind == .float && size == outType.size {
                try file.read(into: t.storage.raw, count: e2 - b, at: data + b)
            } else {
                let raw = try file.bytes(at: data + b, count: e2 - b)
                try RawElements.decode(UnsafeRawPointer(raw.base), count: count, kind: kind, size: size, bigEndian: false, into: t)
            }
            out.append((name, t, b))
        }
        return (out.sorted { $0.2 < $1.2 || ($0.2 == $1.2 && $0.0 < $1.0) }.map { ($0.0, $0.1) }, meta)
    }
}

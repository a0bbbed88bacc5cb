/// NumPy's `.npy` format (version 1.0 written; 1.0, 2.0 and 3.0 read).
///
/// Written: `<f4` or `<f8`, C order, the header padded so the data starts on a 64-byte
/// boundary, exactly as `numpy.save` does. Read: any float/int/uint/bool element type in
/// either byte order, C or Fortran order: floats to float32 (float64 for `f8`), integers and
/// booleans to float64, exactly (an int64 beyond 2^53 is an error naming the file), or to the
/// dtype asked for.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// The header dictionary NumPy writes for a tensor of this shape and dtype.
    public static func headerDict(shape: [Int], dtype: DType) -> String {
        let s: String
        switch shape.count {
        case 0: s = "()"
        case 1: s = "(\(shape[0]),)"
        default: s = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        return "{'descr': '\(dtype == .float32 ? "<f4" : "<f8")', 'fortran_order': False, 'shape': \(s), }"
    }

    public static func save(_ t: Tensor, to path: String) throws {
        let c = try t.contiguous()
        var header = headerDict(shape: t.shape, dtype: t.dtype)
        let unpadded = magic.count + 2 + 2 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        try require(header.utf8.count <= 65535, "shape too long for an .npy header")
        var bytes = magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        try FileIO.writeAtomic(path) { write in
            try bytes.withUnsafeBytes { try write($0.baseAddress!, $0.count) }
            try write(UnsafeRawPointer(c.storage.raw + c.offset * c.dtype.size), c.numel * c.dtype.size)
        }
    }

    public static func load(_ path: String, dtype wanted: DType? = nil) throws -> Tensor {
        let file = try InputFile(path)
        func bad(_ why: String) -> SSLuaError { SSLuaError("'\(path)' is not a valid .npy file: \(why)") }
        let pre = try file.prefix(12)
        guard pre.count >= 10, (0..<6).allSatisfy({ pre[$0] == magic[$0] }) else { throw bad("missing the \\x93NUMPY magic") }
        let major = pre[6]
        let hlen: Int, start: Int
        switch major {
        case 1: hlen = Int(pre[8]) | Int(pre[9]) << 8; start = 10
        case 2, 3:
            guard pre.count >= 12 else { throw bad("truncated header") }
            hlen = Int(pre[8]) | Int(pre[9]) << 8 | Int(pre[10]) << 16 | Int(pre[11]) << 24; start = 12
        default: throw bad("unsupported format version \(major)")
        }
        guard hlen <= file.size - start else { throw bad("truncated header (\(hlen) bytes announced, \(file.size - start) present)") }
        guard hlen <= 1 << 20 else { throw bad("header of \(hlen) bytes is too long (1 MiB at most)") }
        let hbytes = try file.bytes(at: start, count: hlen)
        let text = String(decoding: hbytes.buffer, as: UTF8.self)
        var parser = HeaderParser(text, bad)
        let dict = try parser.parse()
        guard case .string(let descr)? = dict["descr"] else { throw bad("no 'descr' in the header") }
        guard case .bool(let fortran)? = dict["fortran_order"] else { throw bad("no 'fortran_order' in the header") }
        guard case .tuple(let shape)? = dict["shape"] else { throw bad("no 'shape' in the header") }
        guard shape.count <= 64 else { throw bad("\(shape.count) dimensions (NumPy allows 64)") }
        let chars = Array(descr)
        guard chars.count >= 3, chars.count <= 4, let size = Int(String(chars[2...])) else { throw bad("unknown element type '\(descr)'") }
        let order = chars[0], code = chars[1]
        guard "<>|=".contains(order) else { throw bad("unknown byte order in '\(descr)'") }
        let kind: RawElements.Kind
        switch (code, size) {
        case ("f", 2), ("f", 4), ("f", 8): kind = .float
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
        case ("b", 1): kind = .bool
        default: throw bad("unsupported element type '\(descr)' (floats, integers and booleans only)")
        }
        guard let count = FileShape.count(shape, elementSize: size) else { throw bad("shape \(shapeString(shape)) is too large") }
        let need = count * size, data = start + hlen
        guard need <= file.size - data else {
            throw bad("truncated data (\(count) elements of \(size) bytes expected, \(file.size - data) bytes present)")
        }
        // floats keep their precision class; integers and booleans load exactly, as float64
        let dt = wanted ?? (code == "f" ? (size == 8 ? .float64 : .float32) : .float64)
        let fileShape = fortran ? Array(shape.reversed()) : shape
        let out = try Tensor(shape: fileShape, dtype: dt, zeroed: false)
        if kind == .float && order != ">" && size == dt.size {
            // the file's bytes are the tensor's: read them in place
            try file.read(into: out.storage.raw, count: need, at: data)
        } else {
            let raw = try file.bytes(at: data, count: need)
            if dt == .float64 {
                try RawElements.requireExact(UnsafeRawPointer(raw.base), count: count, kind: kind, size: size,
                                             bigEndian: order == ">", what: "'\(path)'")
            }
            try RawElements.decode(UnsafeRawPointer(raw.base), count: count, kind: kind, size: size,
                                   bigEndian: order == ">", into: out)
        }
        if fortran && shape.count > 1 {
            return try GradMode.withoutGrad { try out.permute(Array((0..<shape.count).reversed())).contiguous() }
        }
        return out
    }

    enum Value { case string(String), bool(Bool), tuple([Int]) }

    /// A parser for the Python literal dict of an .npy header (strings, booleans, int tuples).
    struct HeaderParser {
        let c: [Character]
        var i = 0
        let bad: (String) -> SSLuaError
        init(_ s: String, _ bad: @escaping (String) -> SSLuaError) { c = Array(s); self.bad = bad }

        mutating func skip() { while i < c.count && (c[i] == " " || c[i] == "\n" || c[i] == "\t") { i += 1 } }
        mutating func expect(_ ch: Character) throws {
            skip()
            guard i < c.count && c[i] == ch else { throw bad("malformed header, expected '\(ch)'") }
            i += 1
        }
        mutating func string() throws -> String {
            skip()
            guard i < c.count, c[i] == "'" || c[i] == "\"" else { throw bad("malformed header, expected a string") }
            let q = c[i]; i += 1
            var s = ""
            while i < c.count && c[i] != q { s.append(c[i]); i += 1 }
            guard i < c.count else { throw bad("malformed header, unterminated string") }
            i += 1
            return s
        }
        mutating func value() throws -> Value {
            skip()
            guard i < c.count else { throw bad("malformed header") }
            if c[i] == "'" || c[i] == "\"" { return .string(try string()) }
            if c[i] == "(" {
                i += 1
                var out: [Int] = []
                while true {
                    skip()
                    guard i < c.count else { throw bad("malformed shape") }
                    if c[i] == ")" { i += 1; return .tuple(out) }
                    var digits = ""
                    while i < c.count && c[i].isNumber { digits.append(c[i]); i += 1 }
                    while i < c.count && c[i] == "L" { i += 1 }  // Python 2 longs
                    guard let v = Int(digits), digits.count < 19 else { throw bad("malformed shape") }
                    out.append(v)
                    skip()
                    if i < c.count && c[i] == "," { i += 1 }
                }
            }
            for (word, v) in [("True", true), ("False", false)] where c.count - i >= word.count && String(c[i..<(i + word.count)]) == word {
                i += word.count
                return .bool(v)
            }
            throw bad("malformed header value")
        }
        mutating func parse() throws -> [String: Value] {
            try expect("{")
            var d: [String: Value] = [:]
            while true {
                skip()
                guard i < c.count else { throw bad("malformed header, unterminated dict") }
                if c[i] == "}" { return d }
                let k = try string()
                try expect(":")
                d[k] = try value()
                skip()
                if i < c.count && c[i] == "," { i += 1 }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and atomic writes with error messages that name the file.
///
/// Writes go to `path.tmp.<pid>` and are renamed over `path` only once complete and flushed,
/// so a crash or an error never leaves a partially written file under the real name.
public enum FileIO {
    static func reason() -> String { String(cString: strerror(errno)) }

    public static func readAll(_ path: String) throws -> [UInt8] {
        let b = try InputFile(path).all()
        return try Memory.array(b.base, count: b.count, "the contents of '\(path)'")
    }

    /// Calls `body` with a function that appends bytes to the temporary file, then flushes,
    /// syncs and renames it to `path`. On any error the temporary file is removed.
    public static func writeAtomic(_ path: String, _ body: ((UnsafeRawPointer, Int) throws -> Void) throws -> Void) throws {
        try Sandbox.checkWrite(path)
        let tmp = "\(path).tmp.\(getpid())"
        guard let f = fopen(tmp, "wb") else { throw SSLuaError("cannot write '\(path)': \(reason())") }
        var closed = false
        do {
            try body { p, n in
                if n > 0 && fwrite(p, 1, n, f) != n { throw SSLuaError("cannot write '\(path)': \(reason())") }
            }
            guard fflush(f) == 0, fsync(fileno(f)) == 0 else { throw SSLuaError("cannot write '\(path)': \(reason())") }
            closed = true
            guard fclose(f) == 0 else { throw SSLuaError("cannot write '\(path)': \(reason())") }
            guard rename(tmp, path) == 0 else { throw SSLuaError("cannot rename the temporary file to '\(path)': \(reason())") }
        } catch {
            if !closed { fclose(f) }
            unlink(tmp)
            throw error
        }
    }
}

/// Decoding of raw little- or big-endian element data into a float tensor.
enum RawElements {
    enum Kind { case float, signed, unsigned, bool, bfloat }

    /// Converts `count` elements of `size` bytes at `p` into `out` (contiguous), byte-swapping
    /// when `bigEndian`.
    static func decode(_ p: UnsafeRawPointer, count: Int, kind: Kind, size: Int, bigEndian: Bool, into out: Tensor) throws {
        func get<T: TensorScalar>(_: T.Type) throws {
            let o = out.base(T.self)
            @inline(__always) func raw(_ i: Int) -> UInt64 {
                var v: UInt64 = 0
                for b in 0..<size {
                    let byte = UInt64(p.load(fromByteOffset: i * size + b, as: UInt8.self))
                    v |= byte << (8 * UInt64(bigEndian ? size - 1 - b : b))
                }
                return v
            }
            switch (kind, size) {
            case (.float, 4) where !bigEndian && T.self == Float.self:
                (UnsafeMutableRawPointer(o)).copyMemory(from: p, byteCount: count * 4)
            case (.float, 8) where !bigEndian && T.self == Double.self:
                (UnsafeMutableRawPointer(o)).copyMemory(from: p, byteCount: count * 8)
            case (.float, 4): for i in 0..<count { o[i] = T(Float(bitPattern: UInt32(truncatingIfNeeded: raw(i)))) }
            case (.float, 8): for i in 0..<count { o[i] = T(Double(bitPattern: raw(i))) }
            case (.float, 2): for i in 0..<count { o[i] = T(halfToFloat(UInt16(truncatingIfNeeded: raw(i)))) }
            case (.bfloat, 2): for i in 0..<count { o[i] = T(Float(bitPattern: UInt32(truncatingIfNeeded: raw(i)) << 16)) }
            case (.signed, _):
                let shift = UInt64(64 - 8 * size)
                for i in 0..<count { o[i] = T(Int64(bitPattern: raw(i) << shift) >> Int64(shift)) }
            case (.unsigned, _), (.bool, 1): for i in 0..<count { o[i] = T(raw(i)) }
            default: throw SSLuaError("unsupported element type")
            }
        }
        switch out.dtype { case .float32: try get(Float.self); case .float64: try get(Double.self) }
    }

    /// IEEE half to float (no Float16 dependency).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: UInt32 = UInt32(h >> 15) << 31
        let exp = Int((h >> 10) & 0x1F), mant = UInt32(h & 0x3FF)
        if exp == 0 {
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | (UInt32(exp + 112) << 23) | (mant << 13))
    }
}

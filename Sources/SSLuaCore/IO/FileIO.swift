#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and atomic writes with error messages that name the file.
///
/// Writes go to a new temporary file under a random name beside `path` and are renamed over
/// `path` only once complete and synced, so a crash or an error never leaves a partially
/// written file under the real name.
public enum FileIO {
    static func reason() -> String { String(cString: strerror(errno)) }

    public static func readAll(_ path: String) throws -> [UInt8] {
        let b = try InputFile(path).all()
        return try Memory.array(b.base, count: b.count, "the contents of '\(path)'")
    }

    /// Calls `body` with a function that appends bytes to a new temporary file in the
    /// directory of `path`, then syncs it and renames it over `path`; on any error the
    /// temporary file is removed, so `path` is never partial. The temporary name is random and
    /// created with `O_CREAT | O_EXCL | O_NOFOLLOW`: nothing planted there (a symlink) is
    /// followed or reused. The directory is opened once (beneath the results directory under
    /// `--sandbox`, `Sandbox.parent`) and the file made, renamed and removed relative to it.
    /// A link at `path` itself is replaced, never written through.
    public static func writeAtomic(_ path: String, _ body: ((UnsafeRawPointer, Int) throws -> Void) throws -> Void) throws {
        let dir = try Sandbox.parent(of: path)
        var tmp = "", fd: Int32 = -1
        // a long name is cut so that the temporary one still fits NAME_MAX
        let stem = dir.name.utf8.count > 200 ? String(decoding: dir.name.utf8.prefix(200), as: UTF8.self) : dir.name
        for _ in 0..<16 {
            tmp = "\(stem).tmp-\(Sandbox.randomSuffix())"
            fd = openat(dir.fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw SSLuaError("cannot write '\(path)': \(reason())") }
        do {
            try body { p, n in
                var done = 0
                while done < n {
                    let w = Glibc.write(fd, p + done, n - done)
                    if w < 0 && errno == EINTR { continue }
                    guard w > 0 else { throw SSLuaError("cannot write '\(path)': \(w < 0 ? reason() : "no progress")") }
                    done += w
                }
            }
            guard fsync(fd) == 0 else { throw SSLuaError("cannot write '\(path)': \(reason())") }
            let c = close(fd)
            fd = -1
            guard c == 0 else { throw SSLuaError("cannot write '\(path)': \(reason())") }
            guard renameat(dir.fd, tmp, dir.fd, dir.name) == 0 else {
                throw SSLuaError("cannot rename the temporary file to '\(path)': \(reason())")
            }
            _ = fsync(dir.fd)   // the rename itself survives a crash
        } catch {
            if fd >= 0 { close(fd) }
            unlinkat(dir.fd, tmp, 0)
            throw error
        }
    }

    /// `writeAtomic` of one buffer.
    public static func writeAtomic(_ path: String, bytes: UnsafeRawBufferPointer) throws {
        try writeAtomic(path) { write in
            if let b = bytes.baseAddress, bytes.count > 0 { try write(b, bytes.count) }
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

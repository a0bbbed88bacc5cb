import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads for the dataset readers, with errors that name the file: missing,
/// unreadable, truncated or corrupt gzip data are all `SSLuaError`s, never traps.
public enum FileBytes {
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The bytes of `path`.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw SSLuaError("cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { out.append(contentsOf: buf[0..<n]) }
            if n < buf.count {
                if ferror(f) != 0 { throw SSLuaError("cannot read '\(path)': read error") }
                break
            }
        }
        return out
    }

    /// The decompressed bytes of a gzip file (`.gz`); truncated or corrupt streams are errors.
    public static func readGzip(_ path: String) throws -> [UInt8] {
        var input = try read(path)
        try require(input.count >= 18 && input[0] == 0x1f && input[1] == 0x8b,
                    "'\(path)' is not a gzip file (bad header)")
        var strm = z_stream()
        guard inflateInit2_(&strm, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw SSLuaError("'\(path)': cannot initialise zlib")
        }
        defer { inflateEnd(&strm) }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        try input.withUnsafeMutableBufferPointer { inp in
            strm.next_in = inp.baseAddress
            strm.avail_in = uInt(inp.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { cp in
                    strm.next_out = cp.baseAddress
                    strm.avail_out = uInt(cp.count)
                    status = inflate(&strm, Z_NO_FLUSH)
                    return cp.count - Int(strm.avail_out)
                }
                if produced > 0 { out.append(contentsOf: chunk[0..<produced]) }
                switch status {
                case Z_OK, Z_STREAM_END: break
                case Z_BUF_ERROR:
                    if strm.avail_in == 0 { throw SSLuaError("'\(path)' is truncated (gzip stream ends early)") }
                case Z_MEM_ERROR: throw SSLuaError("'\(path)': out of memory while decompressing")
                default:
                    let msg = strm.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw SSLuaError("'\(path)' is corrupt (gzip: \(msg))")
                }
                if status != Z_STREAM_END && strm.avail_in == 0 && produced == 0 {
                    throw SSLuaError("'\(path)' is truncated (gzip stream ends early)")
                }
            } while status != Z_STREAM_END
        }
        return out
    }

    /// Reads `path`, or `path.gz` decompressed when only that exists (and `.gz` paths always).
    public static func readMaybeGzip(_ path: String) throws -> (bytes: [UInt8], file: String) {
        if path.hasSuffix(".gz") {
            let plain = String(path.dropLast(3))
            if !exists(path) && exists(plain) { return (try read(plain), plain) }
            return (try readGzip(path), path)
        }
        if !exists(path) && exists(path + ".gz") { return (try readGzip(path + ".gz"), path + ".gz") }
        return (try read(path), path)
    }
}

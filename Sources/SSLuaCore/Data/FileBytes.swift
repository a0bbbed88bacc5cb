import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads for the dataset readers, with errors that name the file: missing,
/// unreadable, truncated or corrupt gzip data are all `SSLuaError`s, never traps. Files are
/// opened through `InputFile` (regular files only, so a FIFO never blocks), and every buffer is
/// a failable `Buffer`: a size that cannot be had is an "out of memory" error.
public enum FileBytes {
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The bytes of `path`.
    public static func read(_ path: String) throws -> Buffer<UInt8> {
        try InputFile(path).all()
    }

    /// Deflate cannot expand data by more than about 1032 to 1, so no gzip stream of `n`
    /// bytes decompresses to more than this.
    static func gzipBound(_ n: Int) -> Int { n > Int.max / 2048 ? Int.max / 2 : 1040 * n + (1 << 16) }

    /// The decompressed bytes of a gzip file (`.gz`); truncated or corrupt streams are errors.
    ///
    /// `expected` is called with the bytes decompressed so far until it returns the size the
    /// data's own header announces (nil: not known yet); decompression stops with an error as
    /// soon as the output would pass that size (or, before it is known, what the compressed
    /// size can hold), so a small file claiming or expanding to gigabytes allocates nothing big.
    public static func readGzip(_ path: String,
                                expected: (UnsafeBufferPointer<UInt8>) throws -> Int? = { _ in nil }) throws -> Buffer<UInt8> {
        let input = try read(path)
        try require(input.count >= 18 && input[0] == 0x1f && input[1] == 0x8b,
                    "'\(path)' is not a gzip file (bad header)")
        let bound = gzipBound(input.count)
        var strm = z_stream()
        guard inflateInit2_(&strm, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw SSLuaError("'\(path)': cannot initialise zlib")
        }
        defer { inflateEnd(&strm) }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var cap = 0, count = 0
        var limit = bound           // the output may not reach this many bytes
        var announced: Int? = nil
        defer { if let o = out { free(o) } }
        func tooMuch() -> SSLuaError {
            if let e = announced {
                return SSLuaError("'\(path)' is corrupt: it decompresses to more than the \(e) bytes its header announces")
            }
            return SSLuaError("'\(path)' is corrupt: it decompresses to more than the \(bound) bytes deflate can produce from \(input.count)")
        }
        var status: Int32 = Z_OK
        strm.next_in = input.base
        strm.avail_in = uInt(input.count)
        repeat {
            if count == cap {
                guard count < limit else { throw tooMuch() }
                let want = Swift.min(limit, Swift.max(cap * 2, 1 << 16))
                guard let p = realloc(out, want) else {
                    throw SSLuaError("out of memory: cannot allocate \(want) bytes to decompress '\(path)'")
                }
                out = p.assumingMemoryBound(to: UInt8.self)
                cap = want
            }
            guard let o = out else { throw SSLuaError("out of memory while decompressing '\(path)'") }
            let room = Swift.min(cap - count, Int(UInt32.max))
            strm.next_out = o + count
            strm.avail_out = uInt(room)
            status = inflate(&strm, Z_NO_FLUSH)
            let produced = room - Int(strm.avail_out)
            count += produced
            switch status {
            case Z_OK, Z_STREAM_END: break
            case Z_BUF_ERROR:
                if strm.avail_in == 0 { throw SSLuaError("'\(path)' is truncated (gzip stream ends early)") }
            case Z_MEM_ERROR: throw SSLuaError("out of memory while decompressing '\(path)'")
            default:
                let msg = strm.msg.map { String(cString: $0) } ?? "error \(status)"
                throw SSLuaError("'\(path)' is corrupt (gzip: \(msg))")
            }
            if announced == nil, let e = try expected(UnsafeBufferPointer(start: out, count: count)) {
                announced = e
                guard e < bound else {
                    throw SSLuaError("'\(path)' is corrupt: its header announces \(e) bytes, more than the \(bound) deflate can produce from \(input.count)")
                }
                limit = e + 1       // one byte more than announced shows extra data
            }
            if let e = announced, count > e { throw tooMuch() }
            if status != Z_STREAM_END && strm.avail_in == 0 && produced == 0 {
                throw SSLuaError("'\(path)' is truncated (gzip stream ends early)")
            }
        } while status != Z_STREAM_END
        guard let p = out else { throw SSLuaError("out of memory while decompressing '\(path)'") }
        out = nil
        return Buffer(adopting: p, count: count)
    }

    /// Which file a dataset path names: `path`, or `path.gz` when only that exists (and a
    /// `.gz` path's plain twin when only that exists); whether it is gzip-compressed.
    public static func resolve(_ path: String) -> (file: String, gzip: Bool) {
        if path.hasSuffix(".gz") {
            let plain = String(path.dropLast(3))
            if !exists(path) && exists(plain) { return (plain, false) }
            return (path, true)
        }
        if !exists(path) && exists(path + ".gz") { return (path + ".gz", true) }
        return (path, false)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A fast 64-bit fingerprint of a file's bytes (FNV-1a, 64-bit), for checking that a
/// checkpoint's files are the ones its manifest describes (truncation, bit rot, a file from
/// another checkpoint). Not a cryptographic hash: it detects accidents, not adversaries.
public enum Digest {
    public static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

    /// FNV-1a 64 of `bytes`, continuing from `hash`.
    @inlinable public static func fnv1a64(_ bytes: UnsafeRawBufferPointer, _ hash: UInt64 = fnvOffset) -> UInt64 {
        var h = hash
        for b in bytes { h = (h ^ UInt64(b)) &* fnvPrime }
        return h
    }

    /// (FNV-1a 64 of the file's bytes, its size). Refuses anything but a regular file (a FIFO
    /// would block the reader forever).
    public static func file(_ path: String) throws -> (hash: UInt64, size: Int) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw SSLuaError("cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SSLuaError("cannot stat '\(path)': \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw SSLuaError("'\(path)' is not a regular file") }
        let chunk = 1 << 20
        let buf = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buf.deallocate() }
        var h = fnvOffset, total = 0
        while true {
            let n = read(fd, buf, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw SSLuaError("cannot read '\(path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            h = fnv1a64(UnsafeRawBufferPointer(start: buf, count: n), h)
            total += n
        }
        return (h, total)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A regular file opened for reading, the one way every native reader opens its input.
///
/// Opened with `O_NONBLOCK` so that a FIFO (or a device) never blocks the open, then checked
/// with `fstat` on the open descriptor (no window between the check and the use) and refused
/// unless it is a regular file; only then is `O_NONBLOCK` cleared. The size comes from the same
/// `fstat`, so readers compare what a header claims with the bytes really there before they
/// allocate anything, and reads land in failable `Buffer`s.
public final class InputFile {
    public let path: String
    public let size: Int
    let fd: Int32

    static func reason() -> String { String(cString: strerror(errno)) }

    public init(_ path: String) throws {
        self.path = path
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw SSLuaError("cannot open '\(path)': \(InputFile.reason())") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let r = InputFile.reason()
            close(fd)
            throw SSLuaError("cannot stat '\(path)': \(r)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            let kind: String
            switch st.st_mode & S_IFMT {
            case S_IFDIR: kind = "a directory"
            case S_IFIFO: kind = "a FIFO"
            case S_IFCHR, S_IFBLK: kind = "a device"
            case S_IFSOCK: kind = "a socket"
            default: kind = "not a regular file"
            }
            throw SSLuaError("cannot read '\(path)': \(kind), not a regular file")
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        self.fd = fd
        size = Int(st.st_size)
    }

    deinit { close(fd) }

    /// Reads exactly `count` bytes at `offset` into `p`; a file that ends early is an error.
    public func read(into p: UnsafeMutableRawPointer, count: Int, at offset: Int) throws {
        var done = 0
        while done < count {
            let want = Swift.min(count - done, 1 << 30)
            let n = pread(fd, p + done, want, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SSLuaError("cannot read '\(path)': \(InputFile.reason())")
            }
            if n == 0 { throw SSLuaError("cannot read '\(path)': the file ended after \(offset + done) bytes (it changed while being read?)") }
            done += n
        }
    }

    /// `count` bytes at `offset` (checked against the size first).
    public func bytes(at offset: Int, count: Int) throws -> Buffer<UInt8> {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw SSLuaError("'\(path)' is truncated: \(count) bytes at offset \(offset) needed, the file has \(size)")
        }
        let b = try Buffer<UInt8>(count: count, "the contents of '\(path)'")
        try read(into: b.base, count: count, at: offset)
        return b
    }

    /// The whole file.
    public func all() throws -> Buffer<UInt8> { try bytes(at: 0, count: size) }

    /// Up to `count` bytes at `offset`: fewer when the file is shorter.
    public func prefix(_ count: Int, at offset: Int = 0) throws -> Buffer<UInt8> {
        try bytes(at: Swift.min(offset, size), count: Swift.max(0, Swift.min(count, size - offset)))
    }
}

/// Shape checks for the file readers: a shape read from a file must have a representable
/// element count and representable contiguous strides (a zero-size dimension beside huge ones
/// has a count of 0 but strides that overflow), and its data must fit in the bytes present.
enum FileShape {
    /// The element count of `shape`, or nil when a size is negative, or when the product of
    /// the sizes with zeros counted as ones (the largest contiguous stride) is past what any
    /// tensor may hold (2^46), or the byte count overflows.
    static func count(_ shape: [Int], elementSize: Int) -> Int? {
        var n = 1, span = 1
        for s in shape {
            guard s >= 0 else { return nil }
            let (m, o) = n.multipliedReportingOverflow(by: s)
            let (sp, o2) = span.multipliedReportingOverflow(by: Swift.max(s, 1))
            guard !o, !o2, sp < 1 << 46 else { return nil }
            n = m
            span = sp
        }
        let (b, o) = n.multipliedReportingOverflow(by: Swift.max(elementSize, 1))
        guard !o, b < 1 << 62 else { return nil }
        return n
    }
}

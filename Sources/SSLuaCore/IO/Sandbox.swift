import CRuntime
#if canImport(Glibc)
import Glibc
#endif

/// `sslua --sandbox`: a shared script may write files only below one directory, the
/// results directory. The Lua side removes the process and C-module escapes (`sandbox.lua`);
/// this is how every write is opened: Lua's `io.open` for writing, `io.output`, `io.tmpfile`,
/// `os.remove`, `os.rename`, and every native writer (`FileIO.writeAtomic`: `sslua.save`, PNG
/// grids, the experiment's files) and `mkdir`.
///
/// No path is checked and then opened by name (a check-then-open race lets a concurrent
/// rename swap a directory for a symlink in between). The results directory is opened once,
/// when the sandbox starts, and held; a path is mapped lexically (`.` and `..` resolved as
/// text) to components below it, and opened beneath that descriptor: with `openat2`
/// (`RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`) where the kernel has it, else one
/// `openat(O_NOFOLLOW | O_DIRECTORY)` per component, and the last component with `O_NOFOLLOW`.
/// No symbolic link below the results directory is followed, so none leads out. A regular
/// file with other hard links is not opened for writing (that would change the file behind
/// the other name); the atomic writers replace the name instead, which is safe.
public enum Sandbox {
    /// The resolved results directory while sandboxed; nil otherwise (no restriction).
    nonisolated(unsafe) public private(set) static var writeRoot: String?
    /// The results directory, open from `enable` on.
    nonisolated(unsafe) static var rootFD: Int32 = -1
    /// Absolute spellings of the root (resolved, and as given), as components.
    nonisolated(unsafe) static var rootSpellings: [[Substring]] = []
    /// Set once `openat2` answered ENOSYS (old kernel) or EPERM (a seccomp filter).
    nonisolated(unsafe) static var noOpenat2 = false

    public static var isEnabled: Bool { rootFD >= 0 }

    /// Confines writes to `root` (created, with its parents, if missing).
    public static func enable(root: String) throws {
        try require(!isEnabled, "the sandbox is already set up")
        try makeDirectories(root)
        guard let r = resolve(root) else { throw SSLuaError("cannot use '\(root)' as the sandbox's results directory") }
        let fd = open(r, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SSLuaError("cannot open the results directory '\(root)': \(reason())") }
        rootFD = fd
        writeRoot = r
        // the component-wise walk, as on kernels without openat2 (for testing that path)
        if let v = getenv("SSLUA_SANDBOX_NO_OPENAT2"), v.pointee != 0, String(cString: v) != "0" { noOpenat2 = true }
        rootSpellings = [components(r)]
        if let given = absolute(root) { rootSpellings.append(components(given)) }
    }

    static func reason(_ e: Int32 = errno) -> String { String(cString: strerror(e)) }

    // MARK: directory handles

    /// An open directory and a name in it: where a write of `path` happens.
    public final class Parent {
        public let fd: Int32
        public let name: String
        init(fd: Int32, name: String) { self.fd = fd; self.name = name }
        deinit { close(fd) }
    }

    /// The directory that holds `path`, opened (beneath the results directory when sandboxed),
    /// and the last component. Throws when `path` names no file, or lies outside the sandbox.
    public static func parent(of path: String) throws -> Parent {
        if !isEnabled {
            let (dir, name) = split(path)
            guard !path.hasSuffix("/"), !name.isEmpty, name != ".", name != ".." else {
                throw SSLuaError("cannot write '\(path)': not a file name")
            }
            let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw SSLuaError("cannot write '\(path)': \(reason())") }
            return Parent(fd: fd, name: name)
        }
        let parts = try below(path)
        guard let last = parts.last else {
            throw SSLuaError("cannot write '\(path)': it is the results directory itself")
        }
        let fd = try walk(parts.dropLast(), path: path, create: false)
        return Parent(fd: fd, name: String(last))
    }

    /// The components of `path` below the results directory (empty for the directory itself);
    /// throws when the path, made absolute and with `.`/`..` resolved as text, is outside it.
    static func below(_ path: String) throws -> [Substring] {
        guard !path.isEmpty else { throw SSLuaError("cannot write '': empty file name") }
        guard let abs = absolute(path) else { throw SSLuaError("cannot write '\(path)': \(reason())") }
        let parts = components(abs)
        for root in rootSpellings where parts.count >= root.count && Array(parts[..<root.count]) == root {
            return Array(parts[root.count...])
        }
        throw outside(path)
    }

    /// Opens the directory `parts` below the root (creating missing ones when `create`),
    /// following no link. Returns an owned descriptor.
    static func walk(_ parts: ArraySlice<Substring>, path: String, create: Bool) throws -> Int32 {
        if parts.isEmpty {
            let fd = fcntl(rootFD, F_DUPFD_CLOEXEC, 0)
            guard fd >= 0 else { throw SSLuaError("cannot write '\(path)': \(reason())") }
            return fd
        }
        if !create && !noOpenat2 {
            let rel = parts.joined(separator: "/")
            let fd = sslua_openat2_beneath(rootFD, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
            if fd >= 0 { return fd }
            let e = errno
            if e == ENOSYS || e == EPERM {
                noOpenat2 = true
            } else {
                throw failure(path, e, link: e == ELOOP || e == EXDEV)
            }
        }
        var cur = fcntl(rootFD, F_DUPFD_CLOEXEC, 0)
        guard cur >= 0 else { throw SSLuaError("cannot write '\(path)': \(reason())") }
        for c in parts {
            let name = String(c)
            var next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(cur, name, 0o777) != 0 && errno != EEXIST {
                    let e = errno
                    close(cur)
                    throw SSLuaError("cannot create directory '\(path)': \(reason(e))")
                }
                next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if next < 0 {
                let e = errno
                var st = stat()
                let isLink = e == ELOOP
                    || (e == ENOTDIR && fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFLNK)
                close(cur)
                throw failure(path, e, link: isLink)
            }
            close(cur)
            cur = next
        }
        return cur
    }

    // MARK: the operations

    /// Opens `path` for writing as Lua's `io.open` modes ask (`read`: also readable; `create`:
    /// create if missing; `truncate`; `append`), beneath the results directory when sandboxed.
    /// Refuses links, anything but a regular file, and files with other hard links.
    public static func openForWriting(_ path: String, read: Bool, create: Bool, truncate: Bool, append: Bool) throws -> Int32 {
        var flags = (read ? O_RDWR : O_WRONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK
        if create { flags |= O_CREAT }
        if append { flags |= O_APPEND }
        let fd: Int32
        if isEnabled {
            let p = try parent(of: path)
            fd = openat(p.fd, p.name, flags | O_NOFOLLOW, 0o666)
            if fd < 0 { let e = errno; throw failure(path, e, link: e == ELOOP) }
        } else {
            fd = open(path, flags, 0o666)
            if fd < 0 { throw SSLuaError("cannot open '\(path)': \(reason())") }
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = errno; close(fd); throw SSLuaError("cannot open '\(path)': \(reason(e))") }
        let regular = (st.st_mode & S_IFMT) == S_IFREG
        if isEnabled {
            guard regular else {
                close(fd)
                throw SSLuaError("cannot write '\(path)': not a regular file (--sandbox)")
            }
            guard st.st_nlink <= 1 else {
                close(fd)
                throw SSLuaError("cannot write '\(path)': it has \(st.st_nlink) hard links, so writing it would change a file elsewhere (--sandbox)")
            }
        }
        let fl = fcntl(fd, F_GETFL)
        if fl >= 0 { _ = fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) }
        if truncate && regular && ftruncate(fd, 0) != 0 {
            let e = errno
            close(fd)
            throw SSLuaError("cannot write '\(path)': \(reason(e))")
        }
        return fd
    }

    /// An anonymous read-write file (Lua's `io.tmpfile`): in the results directory when
    /// sandboxed (unnamed with `O_TMPFILE`, else created under a random name and unlinked).
    public static func temporaryFile() throws -> Int32 {
        guard isEnabled else {
            guard let f = tmpfile() else { throw SSLuaError("cannot create a temporary file: \(reason())") }
            defer { fclose(f) }
            let fd = fcntl(fileno(f), F_DUPFD_CLOEXEC, 0)
            guard fd >= 0 else { throw SSLuaError("cannot create a temporary file: \(reason())") }
            return fd
        }
        let fd = sslua_open_tmpfile(rootFD)
        if fd >= 0 { return fd }
        for _ in 0..<16 {
            let name = ".tmpfile-" + randomSuffix()
            let fd = openat(rootFD, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 { unlinkat(rootFD, name, 0); return fd }
            if errno != EEXIST { break }
        }
        throw SSLuaError("cannot create a temporary file in the results directory: \(reason())")
    }

    /// Lua's `os.remove`: a file or an empty directory.
    public static func remove(_ path: String) throws {
        let p = try parent(of: path)
        if unlinkat(p.fd, p.name, 0) == 0 { return }
        if errno == EISDIR && unlinkat(p.fd, p.name, AT_REMOVEDIR) == 0 { return }
        throw SSLuaError("cannot remove '\(path)': \(reason())")
    }

    /// Lua's `os.rename`.
    public static func rename(_ from: String, _ to: String) throws {
        let a = try parent(of: from), b = try parent(of: to)
        guard renameat(a.fd, a.name, b.fd, b.name) == 0 else {
            throw SSLuaError("cannot rename '\(from)' to '\(to)': \(reason())")
        }
    }

    /// `mkdir` (with its missing parents when `parents`); in the sandbox every directory is
    /// made beneath the results directory. Returns false when `path` existed already (and
    /// `parents` is off).
    @discardableResult
    public static func mkdir(_ path: String, parents: Bool) throws -> Bool {
        if !isEnabled {
            if parents { try makeDirectories(path); return true }
            if Glibc.mkdir(path, 0o777) == 0 { return true }
            if errno == EEXIST { return false }
            throw SSLuaError("cannot create directory '\(path)': \(reason())")
        }
        let parts = try below(path)
        guard let last = parts.last else { return parents }
        if parents {
            close(try walk(parts[...], path: path, create: true))
            return true
        }
        let dir = try walk(parts.dropLast(), path: path, create: false)
        defer { close(dir) }
        if mkdirat(dir, String(last), 0o777) == 0 { return true }
        if errno == EEXIST { return false }
        throw SSLuaError("cannot create directory '\(path)': \(reason())")
    }

    /// 16 hex digits from the system's random source (never predictable, unlike a pid).
    public static func randomSuffix() -> String {
        var g = SystemRandomNumberGenerator()
        let s = String(g.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    // MARK: paths

    /// `mkdir -p` without a sandbox (used by `enable` for the root itself).
    static func makeDirectories(_ path: String) throws {
        guard !path.isEmpty else { throw SSLuaError("empty directory name") }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            var st = stat()
            if stat(prefix, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFDIR else { throw SSLuaError("'\(prefix)' is not a directory") }
                continue
            }
            if Glibc.mkdir(prefix, 0o777) != 0 && errno != EEXIST {
                throw SSLuaError("cannot create directory '\(prefix)': \(reason())")
            }
        }
    }

    /// (directory, last component) of a path; the directory of a bare name is ".".
    static func split(_ path: String) -> (String, String) {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return (".", String(p)) }
        let dir = p[..<slash]
        return (dir.isEmpty ? "/" : String(dir), String(p[p.index(after: slash)...]))
    }

    /// `path` made absolute against the working directory (nil if that cannot be read).
    static func absolute(_ path: String) -> String? {
        if path.hasPrefix("/") { return path }
        guard let cwd = getcwd(nil, 0) else { return nil }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }

    /// The components of an absolute path with `.` and `..` resolved as text.
    static func components(_ abs: String) -> [Substring] {
        var out: [Substring] = []
        for c in abs.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(c)
        }
        return out
    }

    static func resolve(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    static func outside(_ path: String, _ why: String = "") -> SSLuaError {
        SSLuaError("'\(path)' is outside the results directory \(writeRoot ?? "")\(why) (--sandbox)")
    }

    static func failure(_ path: String, _ e: Int32, link: Bool) -> SSLuaError {
        link ? outside(path, ": a symbolic link on the way is not followed") : SSLuaError("cannot write '\(path)': \(reason(e))")
    }
}

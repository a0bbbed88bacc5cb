#if canImport(Glibc)
import Glibc
#endif

/// `sslua --sandbox` (SPEC §2): a shared script may write files only below one directory, the
/// results directory. The Lua side removes the process and C-module escapes (`sandbox.lua`);
/// this is the check every native writer (`sslua.save`, PNG grids) and the wrapped `io.open`,
/// `os.remove` and `os.rename` make. Paths are resolved through symlinks and `..` before the
/// comparison, so neither leads out.
public enum Sandbox {
    /// The resolved results directory while sandboxed; nil otherwise (no restriction).
    nonisolated(unsafe) public private(set) static var writeRoot: String?

    /// Confines writes to `root` (created, with its parents, if missing).
    public static func enable(root: String) throws {
        try makeDirectories(root, checked: false)
        guard let r = resolve(root) else { throw SSLuaError("cannot use '\(root)' as the sandbox's results directory") }
        writeRoot = r
    }

    /// Throws unless `path` may be written: its directory must exist and resolve inside the
    /// root, and an existing file there must not be a link to somewhere outside it.
    public static func checkWrite(_ path: String) throws {
        guard let root = writeRoot else { return }
        let (dir, name) = split(path)
        guard !name.isEmpty, name != ".", name != ".." else { throw outside(path, root) }
        guard let d = resolve(dir) else { throw SSLuaError("cannot write '\(path)': no directory '\(dir)'") }
        guard inside(d, root) else { throw outside(path, root) }
        var st = stat()
        if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
            guard let target = resolve(path), inside(target, root) else { throw outside(path, root) }
        }
    }

    /// `mkdir` (with its missing parents when `parents`); in the sandbox each new directory must
    /// lie inside the root. Returns false when `path` existed already (and `parents` is off).
    @discardableResult
    public static func mkdir(_ path: String, parents: Bool) throws -> Bool {
        if parents { try makeDirectories(path, checked: true); return true }
        try checkWrite(path)
        if Glibc.mkdir(path, 0o777) == 0 { return true }
        if errno == EEXIST { return false }
        throw SSLuaError("cannot create directory '\(path)': \(String(cString: strerror(errno)))")
    }

    static func makeDirectories(_ path: String, checked: Bool) throws {
        guard !path.isEmpty else { throw SSLuaError("empty directory name") }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            var st = stat()
            if stat(prefix, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFDIR else { throw SSLuaError("'\(prefix)' is not a directory") }
                continue
            }
            if checked { try checkWrite(prefix) }
            if Glibc.mkdir(prefix, 0o777) != 0 && errno != EEXIST {
                throw SSLuaError("cannot create directory '\(prefix)': \(String(cString: strerror(errno)))")
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

    static func resolve(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    static func inside(_ p: String, _ root: String) -> Bool {
        p == root || p.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    static func outside(_ path: String, _ root: String) -> SSLuaError {
        SSLuaError("'\(path)' is outside the results directory \(root) (--sandbox)")
    }
}

import CLua
import CLuaShim
import SSLuaCore
#if canImport(Glibc)
import Glibc
#endif

/// `sslua.save(path, x_or_table[, {metadata=}])` and `sslua.load(path[, {dtype=}])`: `.npy`
/// for one tensor, `.safetensors` for a table of named tensors.
enum IOBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua", functions), LuaLibrary("sslua._fs", fs)] }

    /// Private file-system natives for `sslua.experiment` and `sslua.sandbox` (`--sandbox`).
    /// Failures of the file system come back as `nil, message` (the convention of Lua's `io`
    /// and `os`); bad arguments are errors. Under `--sandbox` every one of them opens beneath
    /// the results directory (`Sandbox`).
    static let fs: [(String, LuaFunction)] = [
        // mkdir(path[, parents]) -> true, or false when it existed (without parents)
        ("mkdir", { a in
            a.push(try Sandbox.mkdir(try a.string(1), parents: a.boolean(2)))
        }),
        // open(path, mode) -> a Lua file handle, or nil and the reason: io.open for a mode
        // that writes ("w", "a", "r+", "w+", "a+", with "b"s)
        ("open", { a in
            let path = try a.string(1), mode = try a.string(2)
            guard let m = WriteMode(mode) else { throw a.bad(2, "invalid mode '\(mode)' (one that writes expected)") }
            do {
                let fd = try Sandbox.openForWriting(path, read: m.read, create: m.create, truncate: m.truncate, append: m.append)
                return try pushFile(a, fd, mode: mode, path: path)
            } catch let e as SSLuaError { return fileFailure(a, e) }
        }),
        // tmpfile() -> io.tmpfile's handle (in the results directory under --sandbox)
        ("tmpfile", { a in
            do { return try pushFile(a, try Sandbox.temporaryFile(), mode: "w+b", path: "(temporary file)") }
            catch let e as SSLuaError { return fileFailure(a, e) }
        }),
        // remove(path) -> true, or nil and the reason (os.remove)
        ("remove", { a in
            let path = try a.string(1)
            do { try Sandbox.remove(path); return a.push(true) } catch let e as SSLuaError { return fileFailure(a, e) }
        }),
        // rename(from, to) -> true, or nil and the reason (os.rename)
        ("rename", { a in
            let from = try a.string(1), to = try a.string(2)
            do { try Sandbox.rename(from, to); return a.push(true) } catch let e as SSLuaError { return fileFailure(a, e) }
        }),
        // write_atomic(path, text) -> true, or nil and the reason: a new random temporary file
        // beside path, synced, then renamed over it (never a partial file under path)
        ("write_atomic", { a in
            let path = try a.string(1)
            guard a.isString(2) else { throw a.bad(2, "string expected, got \(a.typeName(2))") }
            var len = 0
            guard let p = lua_tolstring(a.L, 2, &len) else { throw a.bad(2, "string expected") }
            do {
                try FileIO.writeAtomic(path, bytes: UnsafeRawBufferPointer(start: p, count: len))
                return a.push(true)
            } catch let e as SSLuaError { return fileFailure(a, e) }
        }),
        // isatty(fd) -> whether the descriptor is a terminal (progress bars)
        ("isatty", { a in a.push(isatty(Int32(truncatingIfNeeded: try a.integer(1))) != 0) }),
        // realpath(path) -> the absolute path with links resolved, or nil
        ("realpath", { a in
            guard let r = realpath(try a.string(1), nil) else { return a.pushNil() }
            defer { free(r) }
            return a.push(String(cString: r))
        }),
        // sandbox(root): confine native and wrapped writes to root; once per process
        ("sandbox", { a in
            let root = try a.string(1)
            try Sandbox.enable(root: root)
            return a.push(Sandbox.writeRoot ?? "")
        }),
    ]

    /// A Lua `io.open` mode that writes: `[rwa]+?b*`, except a plain "r".
    struct WriteMode {
        var read = false, create = false, truncate = false, append = false
        init?(_ mode: String) {
            var u = Array(mode.utf8)
            guard let first = u.first, "rwa".utf8.contains(first) else { return nil }
            u.removeFirst()
            let plus = u.first == UInt8(ascii: "+")
            if plus { u.removeFirst() }
            guard u.allSatisfy({ $0 == UInt8(ascii: "b") }) else { return nil }
            switch first {
            case UInt8(ascii: "r"): guard plus else { return nil }; read = true
            case UInt8(ascii: "w"): read = plus; create = true; truncate = true
            default: read = plus; create = true; append = true
            }
        }
    }

    /// Pushes a Lua file handle over `fd` (closed on failure).
    static func pushFile(_ a: LuaArgs, _ fd: Int32, mode: String, path: String) throws -> Int32 {
        let st = sslua_push_file(a.L, fd, mode)
        if st == LUA_OK { return 1 }
        if st < 0 { throw SSLuaError("cannot open '\(path)': \(String(cString: strerror(errno)))") }
        let msg = a.L.string(at: -1)
        sslua_pop(a.L, 1)
        throw SSLuaError("cannot open '\(path)': \(msg)")
    }

    /// `nil, message`: how Lua's io and os functions fail.
    static func fileFailure(_ a: LuaArgs, _ e: SSLuaError) -> Int32 {
        a.pushNil()
        return 1 + a.push(e.message)
    }

    enum Format { case npy, safetensors }

    static func format(_ path: String) throws -> Format {
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") { return .npy }
        if lower.hasSuffix(".safetensors") { return .safetensors }
        throw SSLuaError("'\(path)': unknown file extension (use .npy or .safetensors)")
    }

    /// The string-keyed tensors of the table at `i`.
    static func namedTensors(_ a: LuaArgs, _ i: Int32) throws -> [(String, Tensor)] {
        let L = a.L, idx = lua_absindex(L, i)
        var out: [(String, Tensor)] = []
        lua_pushnil(L)
        while lua_next(L, idx) != 0 {
            defer { sslua_pop(L, 1) }
            guard lua_type(L, -2) == LUA_TSTRING else {
                sslua_pop(L, 2)
                throw a.bad(2, "table keys must be tensor names (strings)")
            }
            let name = String(cString: lua_tolstring(L, -2, nil))
            guard let t = try TensorBox.get(L, -1) else {
                sslua_pop(L, 2)
                throw a.bad(2, "value of '\(name)' is not a tensor")
            }
            out.append((name, t))
        }
        return out
    }

    static let functions: [(String, LuaFunction)] = [
        ("save", { a in
            let path = try a.string(1)
            let fmt = try format(path)
            var meta: [String: String] = [:]
            if a.isTable(3) {
                let o = try a.table(3).checked(keys: ["metadata"])
                lua_pushstring(a.L, "metadata")
                let t = lua_rawget(a.L, o.index)
                defer { sslua_pop(a.L, 1) }
                if t == LUA_TTABLE {
                    let m = lua_absindex(a.L, -1)
                    lua_pushnil(a.L)
                    while lua_next(a.L, m) != 0 {
                        defer { sslua_pop(a.L, 1) }
                        guard lua_type(a.L, -2) == LUA_TSTRING, lua_type(a.L, -1) == LUA_TSTRING else {
                            sslua_pop(a.L, 2)
                            throw SSLuaError("option 'metadata' must map strings to strings")
                        }
                        meta[String(cString: lua_tolstring(a.L, -2, nil))] = String(cString: lua_tolstring(a.L, -1, nil))
                    }
                } else if t > 0 {
                    throw SSLuaError("option 'metadata' must be a table of strings")
                }
            } else if !a.isNone(3) {
                throw a.bad(3, "options table expected, got \(a.typeName(3))")
            }
            switch fmt {
            case .npy:
                guard let t = try TensorBox.get(a.L, 2) else {
                    throw a.bad(2, ".npy holds one tensor: tensor expected, got \(a.typeName(2))")
                }
                try require(meta.isEmpty, ".npy files have no metadata (use .safetensors)")
                try NPY.save(t.detach(), to: path)
            case .safetensors:
                guard a.isTable(2) else {
                    throw a.bad(2, ".safetensors holds named tensors: table expected, got \(a.typeName(2))")
                }
                try SafeTensors.save(try namedTensors(a, 2).map { ($0.0, $0.1.detach()) }, metadata: meta, to: path)
            }
            return 0
        }),
        ("load", { a in
            let path = try a.string(1)
            var dt: DType? = nil
            if let s = try a.options(at: 2, keys: ["dtype"])?.string("dtype") {
                guard let d = DType(rawValue: s) else { throw SSLuaError("unknown dtype '\(s)' (float32 or float64)") }
                dt = d
            }
            if let plain = torchFormat(path) { return try pushTorch(a, path, dtype: dt, plain: plain) }
            switch try format(path) {
            case .npy:
                return a.push(try NPY.load(path, dtype: dt))
            case .safetensors:
                let (list, meta) = try SafeTensors.load(path)
                try a.newTable(nrec: list.count)
                for (name, t) in list {
                    TensorBox.push(a.L, try dt.map { try t.to($0) } ?? t)
                    lua_setfield(a.L, -2, name)
                    try checkLuaMemory()
                }
                try a.newTable(nrec: meta.count)
                for (k, v) in meta { lua_pushstring(a.L, v); lua_setfield(a.L, -2, k); try checkLuaMemory() }
                return 2
            }
        }),
    ]
}

import CLua
import CShim
import SSLuaCore
#if canImport(Glibc)
import Glibc
#endif

/// `sslua.save(path, x_or_table[, {metadata=}])` and `sslua.load(path[, {dtype=}])`: `.npy`
/// for one tensor, `.safetensors` for a table of named tensors (SPEC §4.1).
enum IOBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua", functions), LuaLibrary("sslua._fs", fs)] }

    /// Private file-system natives for `sslua.experiment` and `sslua.sandbox` (`--sandbox`).
    static let fs: [(String, LuaFunction)] = [
        // mkdir(path[, parents]) -> true, or false when it existed (without parents)
        ("mkdir", { a in
            a.push(try Sandbox.mkdir(try a.string(1), parents: a.boolean(2)))
        }),
        // check_write(path) -> true, or false and the reason (io.open's convention)
        ("check_write", { a in
            let path = try a.string(1)
            do { try Sandbox.checkWrite(path); return a.push(true) } catch let e as SSLuaError {
                a.push(false)
                return 1 + a.push(e.message)
            }
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
            try require(Sandbox.writeRoot == nil, "the sandbox is already set up")
            try Sandbox.enable(root: try a.string(1))
            return a.push(Sandbox.writeRoot ?? "")
        }),
    ]

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
            switch try format(path) {
            case .npy:
                return a.push(try NPY.load(path, dtype: dt))
            case .safetensors:
                let (list, meta) = try SafeTensors.load(path)
                lua_createtable(a.L, 0, Int32(list.count))
                for (name, t) in list {
                    TensorBox.push(a.L, try dt.map { try t.to($0) } ?? t)
                    lua_setfield(a.L, -2, name)
                }
                lua_createtable(a.L, 0, Int32(meta.count))
                for (k, v) in meta { lua_pushstring(a.L, v); lua_setfield(a.L, -2, k) }
                return 2
            }
        }),
    ]
}

import CLua
import CLuaShim
import SSLuaCore

/// Pushes an unpickled value (`PValue`, from `TorchFile`) as plain Lua data: dicts and
/// OrderedDicts as tables, lists and tuples as sequences, tensors and NumPy arrays as tensors,
/// None as nil, and objects of other classes as inert placeholder tables
/// `{__class = "module.Name", args = {...}, state = ..., items = ...}`. Shared containers stay
/// shared (one Lua table each, so cycles are fine); nesting deeper than `maxDepth` is an error.
struct PickleToLua {
    let L: OpaquePointer
    let what: String
    let dtype: DType?
    let cache: Int32        // absolute index of a Lua table: identity -> converted table
    var ids: [ObjectIdentifier: lua_Integer] = [:]
    static let maxDepth = 200

    init(_ L: OpaquePointer, what: String, dtype: DType?) {
        self.L = L; self.what = what; self.dtype = dtype
        lua_createtable(L, 0, 0)
        cache = lua_absindex(L, -1)
    }

    func tooDeep() -> SSLuaError { SSLuaError("\(what): data nested more than \(PickleToLua.maxDepth) levels deep") }

    /// Pushes the cached table of `obj` and returns true, or reserves an id and returns false
    /// (the caller then builds the table and calls `remember`).
    mutating func cached(_ obj: AnyObject) -> Bool {
        if let id = ids[ObjectIdentifier(obj)] {
            lua_rawgeti(L, cache, id)
            return true
        }
        return false
    }
    mutating func remember(_ obj: AnyObject) {
        let id = lua_Integer(ids.count + 1)
        ids[ObjectIdentifier(obj)] = id
        lua_pushvalue(L, -1)
        lua_rawseti(L, cache, id)
    }

    mutating func push(_ v: PValue, depth: Int = 0) throws {
        guard depth < PickleToLua.maxDepth else { throw tooDeep() }
        guard lua_checkstack(L, 8) != 0 else { throw tooDeep() }
        try checkLuaMemory()   // the reserve is spent: stop before Lua's next allocation fails
        switch v {
        case .none: lua_pushnil(L)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .int(let i): lua_pushinteger(L, lua_Integer(i))
        case .float(let d): lua_pushnumber(L, d)
        case .string(let s): try pushBytes(Array(s.utf8))
        case .bytes(let b): try pushBytes(b)
        case .global(let name):
            lua_createtable(L, 0, 1)
            lua_pushstring(L, name); lua_setfield(L, -2, "__global")
        case .tensor(let t):
            TensorBox.push(L, try dtype.map { $0 == t.dtype ? t : try t.to($0) } ?? t)
        case .list(let l):
            if cached(l) { return }
            try newLuaTable(L, narr: l.items.count)
            remember(l)
            for (i, x) in l.items.enumerated() {
                try push(x, depth: depth + 1)
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
        case .dict(let d):
            if cached(d) { return }
            try newLuaTable(L, narr: 0, nrec: d.pairs.count)
            remember(d)
            try setPairs(d.pairs, depth: depth)
        case .object(let o):
            if cached(o) { return }
            if let a = o.array {
                try spend(a.data.count)
                TensorBox.push(L, try a.tensor(dtype: dtype, what: what))
                remember(o)
                return
            }
            lua_createtable(L, 0, 4)
            remember(o)
            lua_pushstring(L, o.npDescr.map { "numpy.dtype(" + $0 + ")" } ?? o.className)
            lua_setfield(L, -2, "__class")
            try pushList(o.args, depth: depth + 1); lua_setfield(L, -2, "args")
            if let s = o.state { try push(s, depth: depth + 1); lua_setfield(L, -2, "state") }
            if !o.listItems.isEmpty || !o.dictItems.isEmpty {
                try newLuaTable(L, narr: o.listItems.count, nrec: o.dictItems.count)
                for (i, x) in o.listItems.enumerated() {
                    try push(x, depth: depth + 2)
                    lua_rawseti(L, -2, lua_Integer(i + 1))
                }
                try setPairs(o.dictItems, depth: depth + 1)
                lua_setfield(L, -2, "items")
            }
        }
    }

    /// Bytes of strings and arrays pushed so far, and the most allowed: a memo reference repeated
    /// many times must not make Lua allocate without bound (a Lua memory error would unwind
    /// through Swift).
    var spent = 0
    var budget = 1 << 28

    mutating func spend(_ n: Int) throws {
        spent += n
        guard spent <= budget else {
            throw SSLuaError("\(what): the data repeats large strings or arrays more than \(budget >> 20) MB in all")
        }
    }

    mutating func pushBytes(_ b: [UInt8]) throws {
        try spend(b.count)
        if b.isEmpty { lua_pushstring(L, ""); return }
        let st = b.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(b.count, 1)) { sslua_pushlstring(L, $0, b.count) }
        }
        guard st == LUA_OK else { throw SSLuaError("out of memory: cannot make a string of \(b.count) bytes") }
    }

    mutating func pushList(_ items: [PValue], depth: Int) throws {
        try newLuaTable(L, narr: items.count)
        for (i, x) in items.enumerated() {
            try push(x, depth: depth + 1)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
    }

    /// Sets key/value pairs on the table at the top. Strings, numbers and booleans are keys as
    /// they are; other keys (tuples, None, objects) become their Python-like text, e.g. "(1, 'a')"
    /// (None values leave the key out, as Lua has no nil values).
    mutating func setPairs(_ pairs: [(PValue, PValue)], depth: Int) throws {
        for (k, v) in pairs {
            switch k {
            case .string, .bytes, .int, .bool: try push(k, depth: depth + 1)
            case .float(let d) where d.isFinite: try push(k, depth: depth + 1)
            default: try pushBytes(Array(PickleToLua.keyText(k, depth: 0).utf8))
            }
            try push(v, depth: depth + 1)
            lua_rawset(L, -3)
        }
    }

    static func keyText(_ v: PValue, depth: Int) -> String {
        guard depth < 8 else { return "..." }
        switch v {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return String(d)
        case .string(let s): return "'" + s + "'"
        case .bytes(let b): return "b'" + String(decoding: b, as: UTF8.self) + "'"
        case .global(let g): return g
        case .tensor(let t): return "tensor(" + shapeString(t.shape) + ")"
        case .dict: return "{...}"
        case .object(let o): return "<" + o.className + ">"
        case .list(let l):
            let parts = l.items.prefix(16).map { keyText($0, depth: depth + 1) }
            let body = parts.joined(separator: ", ") + (l.items.count > 16 ? ", ..." : "")
            return l.isTuple ? "(" + body + (l.items.count == 1 ? ",)" : ")") : "[" + body + "]"
        }
    }
}

extension IOBindings {
    /// For `sslua.load`: false for a PyTorch file (`.pt`, `.pth`, `.ckpt`, or any zip archive),
    /// true for a plain pickle (`.pkl`, `.pickle`), nil for the other formats.
    static func torchFormat(_ path: String) -> Bool? {
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") || lower.hasSuffix(".safetensors") { return nil }
        if [".pt", ".pth", ".ckpt"].contains(where: { lower.hasSuffix($0) }) || TorchFile.isZip(path) { return false }
        if lower.hasSuffix(".pkl") || lower.hasSuffix(".pickle") { return true }
        return nil
    }

    /// Pushes the object of a `.pt`/`.pth`/`.ckpt` (or a plain pickle with `plain`).
    static func pushTorch(_ a: LuaArgs, _ path: String, dtype: DType?, plain: Bool) throws -> Int32 {
        let (v, u) = plain ? try TorchFile.loadPickle(path) : try TorchFile.load(path, dtype: dtype)
        defer { u.dismantle() }
        let top = lua_gettop(a.L)
        var conv = PickleToLua(a.L, what: "'\(path)'", dtype: dtype)
        conv.budget = max(conv.budget, 4 * u.byteCount)
        do {
            try conv.push(v)
        } catch {
            lua_settop(a.L, top)
            throw error
        }
        lua_rotate(a.L, -2, -1)   // drop the identity cache below the result
        sslua_pop(a.L, 1)
        return 1
    }
}

import CLua
import CLuaShim
import SSLuaCore

/// Non-raising access to a Lua call's arguments and results. Every check throws an
/// `SSLuaError` with the message Lua users know: `bad argument #2 (tensor expected, got nil)`.
public struct LuaArgs {
    public let L: OpaquePointer
    public let name: String
    public let count: Int32

    init(_ L: OpaquePointer, name: String) {
        self.L = L
        self.name = name
        self.count = lua_gettop(L)
    }

    public func typeName(_ i: Int32) -> String {
        if isTensor(i) { return "tensor" }
        return String(cString: lua_typename(L, lua_type(L, i)))
    }

    public func bad(_ i: Int32, _ what: String) -> SSLuaError {
        SSLuaError("bad argument #\(i) (\(what))")
    }

    public func isNone(_ i: Int32) -> Bool { lua_type(L, i) <= 0 }
    public func isNumber(_ i: Int32) -> Bool { lua_type(L, i) == LUA_TNUMBER }
    public func isTable(_ i: Int32) -> Bool { lua_type(L, i) == LUA_TTABLE }
    public func isString(_ i: Int32) -> Bool { lua_type(L, i) == LUA_TSTRING }
    public func isTensor(_ i: Int32) -> Bool { luaL_testudata(L, i, TensorBox.metatable) != nil }

    // MARK: required arguments

    public func tensor(_ i: Int32) throws -> Tensor {
        if let t = try TensorBox.get(L, i) { return t }
        throw bad(i, "tensor expected, got \(typeName(i))")
    }

    /// A tensor, or a number promoted to a 0-d tensor of `like`'s dtype.
    public func tensorOrNumber(_ i: Int32, dtype: DType = .float32) throws -> Tensor {
        if isNumber(i) { return try Tensor.scalar(lua_tonumberx(L, i, nil), dtype: dtype) }
        if let t = try TensorBox.get(L, i) { return t }
        throw bad(i, "tensor or number expected, got \(typeName(i))")
    }

    public func number(_ i: Int32) throws -> Double {
        var ok: Int32 = 0
        let v = lua_tonumberx(L, i, &ok)
        guard ok != 0, lua_type(L, i) == LUA_TNUMBER else { throw bad(i, "number expected, got \(typeName(i))") }
        return v
    }

    public func integer(_ i: Int32) throws -> Int {
        guard lua_type(L, i) == LUA_TNUMBER else { throw bad(i, "number expected, got \(typeName(i))") }
        var ok: Int32 = 0
        let v = lua_tointegerx(L, i, &ok)
        guard ok != 0 else { throw bad(i, "number has no integer representation") }
        return Int(v)
    }

    public func string(_ i: Int32) throws -> String {
        guard lua_type(L, i) == LUA_TSTRING, let s = lua_tolstring(L, i, nil) else {
            throw bad(i, "string expected, got \(typeName(i))")
        }
        return String(cString: s)
    }

    public func boolean(_ i: Int32) -> Bool { lua_toboolean(L, i) != 0 }

    // MARK: optional arguments

    public func optNumber(_ i: Int32, _ def: Double) throws -> Double { isNone(i) ? def : try number(i) }
    public func optInteger(_ i: Int32, _ def: Int) throws -> Int { isNone(i) ? def : try integer(i) }
    public func optTensor(_ i: Int32) throws -> Tensor? { isNone(i) ? nil : try tensor(i) }
    public func optBool(_ i: Int32, _ def: Bool) -> Bool { isNone(i) ? def : boolean(i) }

    /// A 1-based dimension argument (negative counts from the end) as a 0-based axis.
    public func dim(_ i: Int32, of t: Tensor) throws -> Int {
        let d = try integer(i)
        guard d != 0 else { throw bad(i, "dimension 0 is invalid: dimensions are 1-based") }
        return try t.axis(d > 0 ? d - 1 : d)
    }

    /// Sizes given as varargs `(2, 3)` or a table `{2, 3}` starting at argument `i`;
    /// a trailing options table (with string keys) is not part of the sizes.
    public func sizes(from i: Int32) throws -> [Int] {
        if isTable(i) && !isOptionsTable(i) { return try intList(i) }
        var out: [Int] = []
        var k = i
        while k <= count && isNumber(k) {
            let v = try integer(k)
            guard v >= 0 else { throw bad(k, "size must be non-negative, got \(v)") }
            out.append(v); k += 1
        }
        if k <= count && !isOptionsTable(k) && !isNone(k) {
            throw bad(k, "size expected, got \(typeName(k))")
        }
        return out
    }

    /// A table whose keys include strings (an options table like `{rng = g}`).
    public func isOptionsTable(_ i: Int32) -> Bool {
        guard isTable(i) else { return false }
        let idx = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, idx) != 0 {
            let t = lua_type(L, -2)
            sslua_pop(L, 1)
            if t == LUA_TSTRING { sslua_pop(L, 1); return true }
        }
        return lua_rawlen(L, i) == 0
    }

    /// The options table at `i` (default: the last argument), or nil when that argument is not
    /// an options table. `keys` are the options the function reads: any other key is an error
    /// naming it and the closest valid key (`unknown option 'betta' (did you mean 'beta'?)`),
    /// and so is a positional entry (a misspelled option never silently runs with the default).
    public func options(at i: Int32? = nil, keys: [String]) throws -> LuaTable? {
        let k = i ?? count
        guard k >= 1, isTable(k), isOptionsTable(k) else { return nil }
        return try LuaTable(L: L, index: lua_absindex(L, k), owner: name).checked(keys: keys)
    }

    /// `options(at: i, keys:)` for an options argument: nil when the argument is absent, and
    /// any other value that is not an options table a bad argument.
    public func optionsArgument(_ i: Int32, keys: [String]) throws -> LuaTable? {
        if isNone(i) { return nil }
        guard let o = try options(at: i, keys: keys) else { throw bad(i, "options table expected, got \(typeName(i))") }
        return o
    }

    public func table(_ i: Int32) throws -> LuaTable {
        guard isTable(i) else { throw bad(i, "table expected, got \(typeName(i))") }
        return LuaTable(L: L, index: lua_absindex(L, i), owner: name)
    }

    /// A list of integers `{1, 2, 3}`.
    public func intList(_ i: Int32) throws -> [Int] {
        try table(i).intArray()
    }

    // MARK: results

    @discardableResult public func push(_ t: Tensor) -> Int32 { TensorBox.push(L, t); return 1 }
    @discardableResult public func push(_ v: Double) -> Int32 { lua_pushnumber(L, v); return 1 }
    @discardableResult public func push(_ v: Int) -> Int32 { lua_pushinteger(L, lua_Integer(v)); return 1 }
    @discardableResult public func push(_ v: Bool) -> Int32 { lua_pushboolean(L, v ? 1 : 0); return 1 }
    @discardableResult public func push(_ v: String) -> Int32 { lua_pushstring(L, v); return 1 }
    @discardableResult public func pushNil() -> Int32 { lua_pushnil(L); return 1 }
    @discardableResult public func push(ints: [Int]) throws -> Int32 {
        try newTable(narr: ints.count)
        for (k, v) in ints.enumerated() { lua_pushinteger(L, lua_Integer(v)); lua_rawseti(L, -2, lua_Integer(k + 1)) }
        return 1
    }
    @discardableResult public func push(doubles: [Double]) throws -> Int32 {
        try newTable(narr: doubles.count)
        for (k, v) in doubles.enumerated() { lua_pushnumber(L, v); lua_rawseti(L, -2, lua_Integer(k + 1)) }
        return 1
    }
}

/// A new table on top of `L`'s stack whose sizes may come from user data: Lua's memory error
/// for a big table is caught in C (`sslua_createtable`, a protected call) and thrown here as
/// "out of memory", never a longjmp through Swift frames. Nothing is pushed on failure.
public func newLuaTable(_ L: OpaquePointer, narr: Int, nrec: Int = 0) throws {
    guard narr >= 0, nrec >= 0, narr <= Int(Int32.max), nrec <= Int(Int32.max) else {
        throw SSLuaError("out of memory: cannot make a table of \(narr) + \(nrec) entries")
    }
    guard sslua_createtable(L, Int32(narr), Int32(nrec)) == LUA_OK else {
        throw SSLuaError("out of memory: cannot make a table of \(max(narr, nrec)) entries")
    }
}

/// Throws "out of memory" once the current Swift call has spent the emergency reserve (a
/// failed Lua allocation was retried on it): a long loop of pushes stops there instead of
/// allocating on until Lua raises through Swift.
public func checkLuaMemory() throws {
    if sslua_oom_pending() != 0 { throw SSLuaError("out of memory: Lua could not allocate the results") }
}

extension LuaArgs {
    /// `newLuaTable` on this call's state.
    public func newTable(narr: Int = 0, nrec: Int = 0) throws { try newLuaTable(L, narr: narr, nrec: nrec) }
}

/// Raw (metamethod-free, so non-raising) reads of a Lua table on the stack.
public struct LuaTable {
    public let L: OpaquePointer
    public let index: Int32
    public let owner: String

    public var length: Int { Int(lua_rawlen(L, index)) }

    /// Self, after checking that every key is one of `keys` (strings): an unknown key is an
    /// error naming the closest valid one, a non-string key an error naming the entry.
    @discardableResult public func checked(keys: [String]) throws -> LuaTable {
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            sslua_pop(L, 1)
            let kt = lua_type(L, -1)
            if kt != LUA_TSTRING {
                let what = kt == LUA_TNUMBER ? "[\(L.string(at: -1))]" : "with a \(String(cString: lua_typename(L, kt))) key"
                sslua_pop(L, 1)
                throw SSLuaError("options must be name = value pairs, got a positional entry \(what)")
            }
            let key = String(cString: lua_tolstring(L, -1, nil))
            if !keys.contains(key) {
                sslua_pop(L, 1)
                throw SSLuaError(OptionNames.unknown(key, keys))
            }
        }
        return self
    }

    /// Pushes field `key` and returns its Lua type; caller pops.
    func pushField(_ key: String) -> Int32 {
        lua_pushstring(L, key)
        return lua_rawget(L, index)
    }

    public func has(_ key: String) -> Bool {
        let t = pushField(key); sslua_pop(L, 1); return t > 0
    }

    public func number(_ key: String) throws -> Double? {
        let t = pushField(key); defer { sslua_pop(L, 1) }
        if t <= 0 { return nil }
        guard t == LUA_TNUMBER else { throw SSLuaError("option '\(key)' must be a number, got \(String(cString: lua_typename(L, t)))") }
        return lua_tonumberx(L, -1, nil)
    }

    public func integer(_ key: String) throws -> Int? {
        guard let v = try number(key) else { return nil }
        guard v == v.rounded(), Swift.abs(v) < 9e15 else { throw SSLuaError("option '\(key)' must be an integer, got \(v)") }
        return Int(v)
    }

    public func bool(_ key: String) throws -> Bool? {
        let t = pushField(key); defer { sslua_pop(L, 1) }
        if t <= 0 { return nil }
        guard t == LUA_TBOOLEAN else { throw SSLuaError("option '\(key)' must be a boolean, got \(String(cString: lua_typename(L, t)))") }
        return lua_toboolean(L, -1) != 0
    }

    public func string(_ key: String) throws -> String? {
        let t = pushField(key); defer { sslua_pop(L, 1) }
        if t <= 0 { return nil }
        guard t == LUA_TSTRING else { throw SSLuaError("option '\(key)' must be a string, got \(String(cString: lua_typename(L, t)))") }
        return String(cString: lua_tolstring(L, -1, nil))
    }

    public func tensor(_ key: String) throws -> Tensor? {
        _ = pushField(key); defer { sslua_pop(L, 1) }
        if lua_type(L, -1) <= 0 { return nil }
        guard let t = try TensorBox.get(L, -1) else { throw SSLuaError("option '\(key)' must be a tensor") }
        return t
    }

    /// A nested table field as a list of numbers (`{0.08, 1}`).
    public func doubles(_ key: String) throws -> [Double]? {
        let t = pushField(key); defer { sslua_pop(L, 1) }
        if t <= 0 { return nil }
        guard t == LUA_TTABLE else { throw SSLuaError("option '\(key)' must be a list of numbers") }
        return try LuaTable(L: L, index: lua_absindex(L, -1), owner: owner).doubleArray()
    }

    public func doubleArray() throws -> [Double] {
        try numberArray("numbers") { _ in lua_tonumberx(L, -1, nil) }
    }

    /// Integers at positions 1...length, by the rule of `LuaArgs.integer`: a Lua integer, or
    /// a float with an exact integer value (2.0); 2.5, NaN and out-of-range floats are errors.
    public func intArray() throws -> [Int] {
        try numberArray("integers") { k in
            var ok: Int32 = 0
            let v = lua_tointegerx(L, -1, &ok)
            guard ok != 0 else { throw SSLuaError("expected an integer at position \(k), got \(lua_tonumberx(L, -1, nil))") }
            return Int(v)
        }
    }

    /// The numbers at positions 1...length, each read by `read(position)` while on top of the stack.
    private func numberArray<T>(_ what: String, _ read: (Int) throws -> T) throws -> [T] {
        var out: [T] = []
        let n = length
        try Memory.reserve(n, of: T.self, "a list of \(n) \(what)")
        out.reserveCapacity(n)
        for k in 1...max(n, 1) where n > 0 {
            let t = lua_rawgeti(L, index, lua_Integer(k)); defer { sslua_pop(L, 1) }
            guard t == LUA_TNUMBER else { throw SSLuaError("expected a number at position \(k), got \(String(cString: lua_typename(L, t)))") }
            out.append(try read(k))
        }
        return out
    }

    /// Tensors at positions 1...length.
    public func tensorArray() throws -> [Tensor] {
        var out: [Tensor] = []
        for k in 0..<length {
            lua_rawgeti(L, index, lua_Integer(k + 1)); defer { sslua_pop(L, 1) }
            guard let t = try TensorBox.get(L, -1) else { throw SSLuaError("expected a tensor at position \(k + 1)") }
            out.append(t)
        }
        return out
    }
}

extension OpaquePointer {
    /// The value at `i` as a string (Lua's `tostring` rules for numbers; a type name otherwise).
    public func string(at i: Int32) -> String {
        if let p = lua_tolstring(self, i, nil) { return String(cString: p) }
        return "(error object is a \(String(cString: lua_typename(self, lua_type(self, i)))) value)"
    }
}

/// The wording of option-key errors, shared with `lua/sslua/util.lua` (same rule there).
public enum OptionNames {
    /// `unknown option 'k' (did you mean 'x'?)`, or the list of valid options when none is close.
    public static func unknown(_ key: String, _ keys: [String]) -> String {
        let shown = key.count > 60 ? String(key.prefix(60)) + "..." : key
        if let c = closest(key, keys) { return "unknown option '\(shown)' (did you mean '\(c)'?)" }
        if keys.isEmpty { return "unknown option '\(shown)' (this function takes no options)" }
        return "unknown option '\(shown)' (valid options: \(keys.sorted().joined(separator: ", ")))"
    }

    /// The valid key nearest to `key` (case-insensitive optimal-string-alignment distance,
    /// i.e. edits and adjacent transpositions), if it is close: at most 1 edit for keys of up
    /// to 5 characters, len/3 beyond (at most 3). Ties go to the first in sorted order.
    public static func closest(_ key: String, _ keys: [String]) -> String? {
        let a = Array(key.lowercased().unicodeScalars)
        guard !a.isEmpty, a.count <= 64 else { return nil }
        let limit = min(3, max(1, a.count / 3))
        var best: (Int, String)? = nil
        for k in keys.sorted() {
            let d = distance(a, Array(k.lowercased().unicodeScalars))
            if d <= limit && (best == nil || d < best!.0) { best = (d, k) }
        }
        return best?.1
    }

    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev2 = [Int](repeating: 0, count: b.count + 1)
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var d = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] { d = Swift.min(d, prev2[j - 2] + 1) }
                cur[j] = d
            }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[b.count]
    }
}

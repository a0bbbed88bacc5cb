import CLua
import CLuaShim
import SSLuaCore

/// Readers for the arguments the loss, geom and lie bindings share: 1-based integer labels
/// (a tensor or a Lua list, returned 0-based), a required tensor field, and a list of numbers.
extension LuaArgs {
    /// 1-based integer labels at `i` (a 1-d tensor or a list of integers), returned 0-based.
    func labels(_ i: Int32, _ what: String = "labels") throws -> [Int] {
        if isTensor(i) { return try Labels.zeroBased(tensor(i), what) }
        guard isTable(i) else { throw bad(i, "\(what) (tensor or list of integers) expected, got \(typeName(i))") }
        return try Labels.zeroBased(intList(i), what)
    }

    /// A list of numbers from a number, a Lua list or a tensor at `i`.
    func numbers(_ i: Int32, _ what: String) throws -> [Double] {
        if isNumber(i) { return [try number(i)] }
        if isTensor(i) { return try tensor(i).toDoubles() }
        if isTable(i) { return try table(i).doubleArray() }
        throw bad(i, "\(what) (number, list or tensor) expected, got \(typeName(i))")
    }
}

extension LuaTable {
    /// 1-based integer labels in field `key` (a tensor or a list of integers), returned 0-based.
    func labels(_ key: String) throws -> [Int] {
        let t = pushField(key); defer { sslua_pop(L, 1) }
        if let x = try TensorBox.get(L, -1) { return try Labels.zeroBased(x, key) }
        guard t == LUA_TTABLE else { throw SSLuaError("field '\(key)' must be a tensor or a list of integer labels") }
        return try Labels.zeroBased(LuaTable(L: L, index: lua_absindex(L, -1), owner: owner).intArray(), key)
    }

    /// The tensor in field `key`; an error when it is missing.
    func requiredTensor(_ key: String) throws -> Tensor {
        guard let t = try tensor(key) else { throw SSLuaError("missing tensor field '\(key)'") }
        return t
    }
}

/// 1-based labels -> 0-based indices, each checked.
private enum Labels {
    static func zeroBased(_ t: Tensor, _ what: String) throws -> [Int] {
        try require(t.dim <= 1, "\(what) must be a 1-d tensor, got size \(shapeString(t.shape))")
        let values = try t.toDoubles()
        try Memory.reserve(values.count, of: Int.self, "\(what)")
        return try zeroBased(values.map { v in
            guard v == v.rounded(), Swift.abs(v) < 1e15 else { throw SSLuaError("\(what) must hold integers, got \(v)") }
            return Int(v)
        }, what)
    }

    static func zeroBased(_ v: [Int], _ what: String) throws -> [Int] {
        try Memory.reserve(v.count, of: Int.self, "\(what)")
        return try v.enumerated().map { k, x in
            guard x >= 1 else { throw SSLuaError("\(what) are 1-based: got \(x) at position \(k + 1)") }
            return x - 1
        }
    }
}

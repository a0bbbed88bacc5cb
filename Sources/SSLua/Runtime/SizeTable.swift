import CLua
import CLuaShim
import SSLuaCore

/// `t:size()` / `t:shape()`: a plain sequence of integers (`s[1]`, `#s`, `ipairs`,
/// `table.unpack` and `intList` readers all see an ordinary table) whose metatable
/// `sslua.Size` only adds printing, as `torch.Size`: `sslua.Size{2, 3}`.
extension LuaArgs {
    static let sizeMetatable = "sslua.Size"

    @discardableResult public func push(size: [Int]) throws -> Int32 {
        try push(ints: size)
        sslua_getregistrytable(L, LuaArgs.sizeMetatable)
        if lua_type(L, -1) != LUA_TTABLE {
            sslua_pop(L, 1)
            lua_createtable(L, 0, 2)
            lua_pushstring(L, LuaArgs.sizeMetatable)
            lua_setfield(L, -2, "__name")
            LuaRegistry.push(L, "sslua.Size.__tostring") { a in
                guard lua_type(a.L, 1) == LUA_TTABLE else { throw SSLuaError("expected a size table") }
                var parts: [String] = []
                let n = lua_rawlen(a.L, 1)
                var k: lua_Integer = 1
                while k <= n {
                    lua_rawgeti(a.L, 1, k)
                    parts.append(lua_type(a.L, -1) == LUA_TNUMBER && lua_isinteger(a.L, -1) != 0
                                 ? String(lua_tointegerx(a.L, -1, nil)) : "?")
                    sslua_pop(a.L, 1)
                    k += 1
                }
                return a.push("sslua.Size{" + parts.joined(separator: ", ") + "}")
            }
            lua_setfield(L, -2, "__tostring")
            lua_pushvalue(L, -1)
            lua_setfield(L, sslua_registryindex(), LuaArgs.sizeMetatable)
        }
        lua_setmetatable(L, -2)
        return 1
    }
}

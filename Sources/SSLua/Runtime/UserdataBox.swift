import CLua
import CLuaShim
import SSLuaCore

/// A Lua userdata holding one retained Swift object (a tensor, a generator, ...), checked by
/// metatable name without raising. `__gc`/`__close` release it; a released box is an error
/// to use, never a dangling pointer.
public enum UserdataBox {
    /// Metatables of the non-tensor userdata types (each gets `__gc` and `__name`).
    /// Binding files add theirs here.
    public static let metatables = ["sslua.Generator"]

    public static func push(_ L: OpaquePointer, _ obj: AnyObject, metatable: String) {
        let p = sslua_newuserdata(L, MemoryLayout<UnsafeMutableRawPointer?>.size)!
        p.storeBytes(of: Unmanaged.passRetained(obj).toOpaque(), as: UnsafeMutableRawPointer?.self)
        luaL_setmetatable(L, metatable)
    }

    public static func get<T: AnyObject>(_ L: OpaquePointer, _ i: Int32, metatable: String, as: T.Type) throws -> T? {
        guard let p = luaL_testudata(L, i, metatable) else { return nil }
        guard let obj = p.load(as: UnsafeMutableRawPointer?.self) else {
            throw SSLuaError("attempt to use a closed \(metatable)")
        }
        return Unmanaged<AnyObject>.fromOpaque(obj).takeUnretainedValue() as? T
    }

    public static func release(_ L: OpaquePointer, _ i: Int32, metatable: String) {
        guard let p = luaL_testudata(L, i, metatable) else { return }
        if let obj = p.load(as: UnsafeMutableRawPointer?.self) {
            p.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
            Unmanaged<AnyObject>.fromOpaque(obj).release()
        }
    }
}

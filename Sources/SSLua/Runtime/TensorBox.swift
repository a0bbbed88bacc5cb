import CLua
import CLuaShim
import SSLuaCore

/// The Lua userdata that holds one retained `Tensor`. `__gc` and `__close` release it;
/// a closed tensor is an error to use, never a dangling pointer.
public enum TensorBox {
    public static let metatable = "sslua.Tensor"

    public static func push(_ L: OpaquePointer, _ t: Tensor) { UserdataBox.push(L, t, metatable: metatable) }

    /// The tensor at stack index `i`, nil if the value is not a tensor; throws if it was closed.
    public static func get(_ L: OpaquePointer, _ i: Int32) throws -> Tensor? {
        try UserdataBox.get(L, i, metatable: metatable, as: Tensor.self)
    }

    /// `__gc` / `__close`: drops the reference (idempotent).
    static func release(_ L: OpaquePointer, _ i: Int32) { UserdataBox.release(L, i, metatable: metatable) }
}

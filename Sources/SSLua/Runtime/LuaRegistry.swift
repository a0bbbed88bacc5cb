import CLua
import CLuaShim
import SSLuaCore

/// A Swift function callable from Lua. It reads its arguments through `LuaArgs`, pushes its
/// results and returns their count; it reports misuse by throwing, never by raising.
public typealias LuaFunction = (LuaArgs) throws -> Int32

/// Every Swift function exposed to Lua, by index. The C trampoline (CLuaShim) stores the index as
/// an upvalue and calls `sslua_dispatch`; errors travel back as a message and a -1 sentinel, and
/// the trampoline raises them after this Swift frame has returned (a longjmp
/// must never cross a Swift frame).
public enum LuaRegistry {
    nonisolated(unsafe) static var functions: [(name: String, fn: LuaFunction)] = []

    /// Registers `fn` under its Lua-visible `name` (used to prefix error messages).
    public static func add(_ name: String, _ fn: @escaping LuaFunction) -> Int32 {
        functions.append((name, fn))
        return Int32(functions.count - 1)
    }

    /// Pushes `fn` as a Lua function.
    public static func push(_ L: OpaquePointer, _ name: String, _ fn: @escaping LuaFunction) {
        sslua_pushfunction(L, add(name, fn))
    }
}

@_cdecl("sslua_dispatch")
public func sslua_dispatch(_ L: OpaquePointer?, _ index: Int32) -> Int32 {
    guard let L = L else { return 0 }
    guard index >= 0 && Int(index) < LuaRegistry.functions.count else {
        lua_pushstring(L, "sslua: unknown native function \(index)")
        return -1
    }
    let entry = LuaRegistry.functions[Int(index)]
    do {
        return try entry.fn(LuaArgs(L, name: entry.name))
    } catch let e as SSLuaError {
        lua_settop(L, 0)
        lua_pushstring(L, e.message.hasPrefix("\u{1}") ? String(e.message.dropFirst()) : "\(entry.name): \(e.message)")
        return -1
    } catch {
        lua_settop(L, 0)
        lua_pushstring(L, "\(entry.name): \(error)")
        return -1
    }
}

/// Thrown to pass a Lua error value (already formatted, e.g. from a Lua callback) unchanged.
public func passThroughError(_ message: String) -> SSLuaError { SSLuaError("\u{1}" + message) }

/// `fn` with its errors reported as `<publicName>: message` instead of under the table it is
/// registered in: for the natives of a private table (`sslua._nn.conv2d` is what
/// `sslua.nn.functional.conv2d` calls). Errors passed through (from Lua callbacks) stay as they are.
public func reportingErrors(as publicName: String, _ fn: @escaping LuaFunction) -> LuaFunction {
    { a in
        do { return try fn(a) } catch let e as SSLuaError {
            if e.message.hasPrefix("\u{1}") { throw e }
            throw passThroughError("\(publicName): \(e.message)")
        }
    }
}

/// Makes room for `n` more values on `L`'s stack, throwing "stack overflow" (a Lua error
/// for the caller) when Lua cannot grow it. A native function may push only `LUA_MINSTACK`
/// (20) values without asking: every binding that pushes in a loop or a recursion (nested
/// tables, variable result counts, callbacks with many arguments) reserves first, so a deep
/// or long input ends in an error instead of writing past the stack.
public func reserveLuaStack(_ L: OpaquePointer, _ n: Int) throws {
    guard n >= 0 && n < 1_000_000 && lua_checkstack(L, Int32(n)) != 0 else {
        throw SSLuaError("stack overflow (\(n) more Lua stack slots needed)")
    }
}

extension LuaArgs {
    /// `reserveLuaStack` on this call's state.
    public func reserve(_ n: Int) throws { try reserveLuaStack(L, n) }
}

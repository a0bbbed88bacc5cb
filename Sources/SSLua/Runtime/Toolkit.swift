import CLua
import CLuaShim
import CRuntime
import SSLuaCore
import Foundation

/// A group of Swift functions that becomes one Lua table: `sslua`, `sslua.linalg`, the tensor
/// methods, ... Each binding file (`Modules/Lua+*.swift`) contributes its libraries.
public struct LuaLibrary {
    /// Dotted path of the table: "sslua", "sslua.linalg", or "Tensor" for methods.
    public let table: String
    public let functions: [(String, LuaFunction)]
    public init(_ table: String, _ functions: [(String, LuaFunction)]) {
        self.table = table
        self.functions = functions
    }
}

/// Opens the whole toolkit in a Lua state: `require "sslua"` and the global `sslua`.
public enum Toolkit {
    public static let version = "0.1.0"

    /// Every library, in load order. Binding files add theirs here.
    static var libraries: [LuaLibrary] {
        [TensorBindings.libraries,
         AutogradBindings.libraries,
         IOBindings.libraries,
         LinalgBindings.libraries,
         LossBindings.libraries,
         GeomBindings.libraries,
         LieBindings.libraries,
         NNBindings.libraries,
         DataBindings.libraries,
         AugBindings.libraries,
         CheckpointBindings.libraries,
         DistBindings.libraries,
        ].flatMap { $0 }
    }

    /// Directories searched for the pure-Lua half of the toolkit (`lua/sslua/*.lua`).
    static func luaDirectories() -> [String] {
        var dirs: [String] = []
        if let env = ProcessInfo.processInfo.environment["SSLUA_LUA_DIR"] { dirs.append(env) }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        var dir = exe
        for _ in 0..<5 {
            dirs.append(dir.appendingPathComponent("lua").path)
            dirs.append(dir.appendingPathComponent("share/sslua/lua").path)
            dir = dir.deletingLastPathComponent()
        }
        return dirs.filter { FileManager.default.fileExists(atPath: $0 + "/sslua") }
    }

    /// Creates the tables, registers the functions, runs the Lua prelude and sets `package`
    /// up so that `require "sslua"` and `require "sslua.nn"` work without any setup.
    /// Returns nil on success, or an error message.
    public static func open(_ L: OpaquePointer) -> String? {
        luaL_openlibs(L)
        sslua_tune_allocator()
        // Tensor metatable, filled by the prelude; other userdata only need `__gc`.
        luaL_newmetatable(L, TensorBox.metatable)
        sslua_pop(L, 1)
        for meta in UserdataBox.metatables {
            luaL_newmetatable(L, meta)
            LuaRegistry.push(L, "__gc") { a in UserdataBox.release(a.L, 1, metatable: meta); return 0 }
            lua_setfield(L, -2, "__gc")
            lua_pushstring(L, meta)
            lua_setfield(L, -2, "__name")
            sslua_pop(L, 1)
        }
        // Native functions go into one table of tables: natives[table][name].
        lua_createtable(L, 0, 8)
        for lib in libraries {
            lua_getfield(L, -1, lib.table)
            if lua_type(L, -1) != LUA_TTABLE {
                sslua_pop(L, 1)
                lua_createtable(L, 0, Int32(lib.functions.count))
                lua_pushvalue(L, -1)
                lua_setfield(L, -3, lib.table)
            }
            for (name, fn) in lib.functions {
                LuaRegistry.push(L, lib.table == "Tensor" ? "sslua.\(name)" : "\(lib.table).\(name)", fn)
                lua_setfield(L, -2, name)
            }
            sslua_pop(L, 1)
        }
        // `__gc`/`__close` must not go through the trampoline's error path: plain C-level semantics.
        lua_getfield(L, -1, "Tensor")
        LuaRegistry.push(L, "__gc") { a in TensorBox.release(a.L, 1); return 0 }
        lua_setfield(L, -2, "__gc")
        sslua_pop(L, 1)
        // package.path: the toolkit's Lua directory first.
        let dirs = luaDirectories()
        var path = dirs.map { "\($0)/?.lua;\($0)/?/init.lua" }.joined(separator: ";")
        if !path.isEmpty { path += ";" }
        lua_getglobal(L, "package")
        lua_getfield(L, -1, "path")
        let old = String(cString: lua_tolstring(L, -1, nil))
        sslua_pop(L, 1)
        lua_pushstring(L, path + old)
        lua_setfield(L, -2, "path")
        sslua_pop(L, 1)
        // The prelude builds `sslua` from the natives and registers it as a loaded module.
        if sslua_loadbuffer(L, Prelude.source, strlen(Prelude.source), "=sslua.prelude") != LUA_OK {
            return String(cString: lua_tolstring(L, -1, nil))
        }
        sslua_insert(L, -2)
        lua_pushstring(L, version)
        if sslua_docall(L, 2, 0) != LUA_OK {
            return String(cString: lua_tolstring(L, -1, nil))
        }
        return nil
    }
}

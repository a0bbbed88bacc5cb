import CLua
import CLuaShim
import Foundation
import SSLua

/// Writes to the C `stderr` stream (unbuffered), the stream Lua's own messages use, so that
/// ordering with Lua's output is preserved.
func writeError(_ s: String) {
    fputs(s, stderr)
    fflush(stderr)
}

/// Runs chunks the way `lua.c` does: every call goes through `sslua_docall` (a message handler
/// that appends a traceback, and the SIGINT hook), and every failure is reported on stderr as
/// `sslua: <message>`. Nothing here raises a Lua error: globals are read with raw accesses and
/// anything that could run a metamethod is itself called under `lua_pcall`.
final class Runner {
    let L: OpaquePointer
    /// `luaL_loadfilex`'s mode for scripts: nil (text or binary), "t" under `--sandbox`.
    var chunkMode: String?
    /// Prefix of error messages; nil inside the REPL (as `lua.c`).
    var progname: String? = "sslua"

    init(_ L: OpaquePointer) { self.L = L }

    // MARK: reporting

    /// Prints the error on top of the stack (if `status` is not OK) and pops it.
    @discardableResult
    func report(_ status: Int32) -> Int32 {
        if status != LUA_OK {
            let msg = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER
                ? String(cString: lua_tolstring(L, -1, nil)) : "(error message not a string)"
            message(msg)
            sslua_pop(L, 1)
        }
        return status
    }

    func message(_ msg: String) {
        if let p = progname { writeError("\(p): \(msg)\n") } else { writeError("\(msg)\n") }
    }

    // MARK: globals without metamethods

    func pushGlobals() { lua_rawgeti(L, sslua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS)) }

    /// Pushes `_G[name]` read raw (never runs `__index`).
    @discardableResult
    func rawGlobal(_ name: String) -> Int32 {
        pushGlobals()
        lua_pushstring(L, name)
        let t = lua_rawget(L, -2)
        sslua_remove(L, -2)
        return t
    }

    /// Pops a value and stores it raw in `_G[name]` (used before any user code has run).
    func setRawGlobal(_ name: String) {
        pushGlobals()
        sslua_insert(L, -2)           // globals value
        lua_pushstring(L, name)
        sslua_insert(L, -2)           // globals name value
        lua_rawset(L, -3)
        sslua_pop(L, 1)
    }

    /// Pops a value and runs `_ENV[name] = value` under the message handler, as `lua_setglobal`
    /// would (a `__newindex` on `_G` runs and may fail without raising through Swift).
    func setGlobal(_ name: String) -> Int32 {
        let code = "local k, v = ...; _ENV[k] = v"
        let st = sslua_loadbuffer(L, code, strlen(code), "=(command line)")
        if st != LUA_OK { sslua_remove(L, -2); return st }
        sslua_insert(L, -2)           // f value
        lua_pushstring(L, name)
        sslua_insert(L, -2)           // f name value
        return sslua_docall(L, 2, 0)
    }

    // MARK: chunks

    func docall(_ nargs: Int32, _ nresults: Int32) -> Int32 { sslua_docall(L, nargs, nresults) }

    func dochunk(_ status: Int32) -> Int32 {
        var st = status
        if st == LUA_OK { st = docall(0, 0) }
        return report(st)
    }

    /// Runs a file (`nil`: standard input); a first line starting with `#` is skipped.
    func dofile(_ path: String?) -> Int32 { dochunk(luaL_loadfilex(L, path, chunkMode)) }

    func dostring(_ code: String, name: String) -> Int32 {
        dochunk(sslua_loadbuffer(L, code, strlen(code), name))
    }

    /// `-l g=mod` / `-l mod` (Lua 5.4.4+): `g = require(mod)`; without `=`, a `-suffix`
    /// (a version mark) is cut from the global's name.
    func dolibrary(_ spec: String) -> Int32 {
        var global = spec, module = spec
        if let eq = spec.firstIndex(of: "=") {
            global = String(spec[..<eq])
            module = String(spec[spec.index(after: eq)...])
        } else if let dash = spec.firstIndex(of: "-") {
            global = String(spec[..<dash])
        }
        rawGlobal("require")
        lua_pushstring(L, module)
        var st = docall(1, 1)
        if st == LUA_OK { st = setGlobal(global) }
        return report(st)
    }

    // MARK: the command line

    /// `arg`: the script at index 0, its arguments at 1..n, the interpreter and its options at
    /// negative indices. Without a script, the interpreter's name is at 0.
    func createArgTable(_ argv: [String], script: Int) {
        lua_createtable(L, Int32(max(0, argv.count - script - 1)), Int32(script + 1))
        for (i, a) in argv.enumerated() {
            lua_pushstring(L, a)
            lua_rawseti(L, -2, lua_Integer(i - script))
        }
        setRawGlobal("arg")
    }

    /// `SSLUA_INIT`, else `LUA_INIT_5_4`, else `LUA_INIT`: Lua code, or `@file` to run a file.
    func handleInit() -> Int32 {
        let env = ProcessInfo.processInfo.environment
        for name in ["SSLUA_INIT", "LUA_INIT_5_4", "LUA_INIT"] {
            guard let code = env[name] else { continue }
            if code.hasPrefix("@") { return dofile(String(code.dropFirst())) }
            return dostring(code, name: "=" + name)
        }
        return LUA_OK
    }

    /// Runs `-e`, `-l` and `-W` in command-line order; false when one of them fails.
    func runOptions(_ argv: [String], limit: Int) -> Bool {
        var i = 1
        while i < limit {
            let a = argv[i]
            let option = a.dropFirst().first
            if option == "e" || option == "l" {
                var extra = String(a.dropFirst(2))
                if extra.isEmpty, i + 1 < argv.count { i += 1; extra = argv[i] }
                let st = option == "e" ? dostring(extra, name: "=(command line)") : dolibrary(extra)
                if st != LUA_OK { return false }
            } else if option == "W" {
                lua_warning(L, "@on", 0)
            }
            i += 1
        }
        return true
    }

    /// Pushes `arg[1..#arg]` (read raw) as the script's `...`; returns their count or nil.
    func pushScriptArguments() -> Int32? {
        guard rawGlobal("arg") == LUA_TTABLE else {
            sslua_pop(L, 1)
            lua_pushstring(L, "'arg' is not a table")
            return nil
        }
        let len = lua_rawlen(L, -1)
        guard len <= 1_000_000, lua_checkstack(L, Int32(len) + 3) != 0 else {
            sslua_pop(L, 1)
            lua_pushstring(L, "too many arguments to script")
            return nil
        }
        let n = Int32(len)
        var i: Int32 = 1
        while i <= n { lua_rawgeti(L, -i, lua_Integer(i)); i += 1 }   // the table sinks as we push
        sslua_remove(L, -n - 1)
        return n
    }

    /// Loads and runs the script at `argv[script]` (`-` is stdin unless it follows `--`).
    func handleScript(_ argv: [String], script: Int) -> Int32 {
        var path: String? = argv[script]
        if path == "-" && argv[script - 1] != "--" { path = nil }
        var st = luaL_loadfilex(L, path, chunkMode)
        if st == LUA_OK {
            if let n = pushScriptArguments() {
                st = docall(n, LUA_MULTRET)
            } else {
                sslua_remove(L, -2)   // the loaded chunk
                st = LUA_ERRRUN
            }
        }
        if st != LUA_OK { notifyFailure() }
        return report(st)
    }

    /// A failed script: `package.loaded["sslua.experiment"]._on_error(message)` (if loaded)
    /// marks its run directory failed. Everything runs inside a protected call; the error
    /// message stays on the stack for `report`.
    func notifyFailure() {
        let code = "local m = package.loaded['sslua.experiment']; "
            + "if type(m) == 'table' and type(m._on_error) == 'function' then m._on_error(...) end"
        let top = lua_gettop(L)
        if sslua_loadbuffer(L, code, strlen(code), "=on_error") == LUA_OK {
            lua_pushvalue(L, top)
            _ = lua_pcallk(L, 1, 0, 0, 0, nil)
        }
        lua_settop(L, top)
    }

    // MARK: `sslua sweep`

    /// `sslua sweep file.lua ...`: `require("sslua.sweep").main({file.lua, ...})`. The exit
    /// status is the integer `main` returns, 1 if it returns `false`, else 0.
    func sweep(_ rest: [String]) -> Int32 {
        let code = "local args = ...; return require('sslua.sweep').main(args)"
        var st = sslua_loadbuffer(L, code, strlen(code), "=sweep")
        guard st == LUA_OK else { report(st); return 1 }
        lua_createtable(L, Int32(rest.count), 0)
        for (i, a) in rest.enumerated() {
            lua_pushstring(L, a)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
        st = docall(1, 1)
        guard st == LUA_OK else { report(st); return 1 }
        defer { sslua_pop(L, 1) }
        if lua_type(L, -1) == LUA_TBOOLEAN { return lua_toboolean(L, -1) != 0 ? 0 : 1 }
        var isInt: Int32 = 0
        let status = sslua_tointeger(L, -1, &isInt)
        if lua_type(L, -1) == LUA_TNUMBER && isInt != 0 { return Int32(truncatingIfNeeded: status) }
        return 0
    }
}

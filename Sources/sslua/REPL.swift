import CLua
import CLuaShim
import Foundation
import SSLuaCore

/// The read-eval-print loop of `lua.c`: a line is first tried as `return <line>;` and its
/// values printed with `print`; otherwise it is a statement, continued over more lines while
/// the parser stops at `<eof>`. Errors print and the session goes on; Ctrl-C interrupts the
/// running statement (the SIGINT hook installed by `sslua_docall`) and returns to the prompt;
/// at the prompt it drops the line (or the unfinished statement) and prompts again; Ctrl-D
/// on an empty line ends the session. Values print through `sslua.help.repr` (nested tables
/// readably, truncated, cycles marked); `help(f)` and `?name` print documentation.
struct REPL {
    /// Registry key of the value formatter (`sslua.help.repr`), when `sslua.help` loads.
    static let formatterKey = "sslua.repl.format"

    let run: Runner
    let reader: LineReader
    var L: OpaquePointer { run.L }

    func loop() {
        let saved = run.progname
        run.progname = nil            // no program name on errors in interactive mode
        defer { run.progname = saved }
        setUp()
        while let loaded = loadLine() {
            guard let loaded = loaded else {          // Ctrl-C at the prompt
                lua_settop(L, 0)
                continue
            }
            var status = loaded
            if status == LUA_OK { status = run.docall(0, LUA_MULTRET) }
            if status == LUA_OK { printResults() } else { run.report(status) }
        }
        lua_settop(L, 0)
        fputs("\n", stdout)
        fflush(stdout)
    }

    /// `_PROMPT` / `_PROMPT2` (read raw, converted with `tostring` under `lua_pcall`), or the
    /// defaults `> ` and `>> `.
    func prompt(first: Bool) -> String {
        let fallback = first ? "> " : ">> "
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        let t = run.rawGlobal(first ? "_PROMPT" : "_PROMPT2")
        if t == LUA_TNIL { return fallback }
        if t == LUA_TSTRING || t == LUA_TNUMBER {
            lua_pushvalue(L, -1)      // convert a copy: lua_tolstring changes numbers in place
            return String(cString: lua_tolstring(L, -1, nil))
        }
        run.rawGlobal("tostring")
        sslua_insert(L, -2)
        guard sslua_pcall(L, 1, 1, 0) == LUA_OK, lua_type(L, -1) == LUA_TSTRING else { return fallback }
        return String(cString: lua_tolstring(L, -1, nil))
    }

    /// Loads `sslua.help` (under `lua_pcall`): its formatter goes to the registry and it
    /// defines the global `help` unless the user has one. Without it, values print with `print`.
    func setUp() {
        let code = """
            local ok, h = pcall(require, "sslua.help")
            if not ok then return nil end
            if rawget(_G, "help") == nil then rawset(_G, "help", h.print) end
            return h.repr
            """
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard sslua_loadbuffer(L, code, strlen(code), "=sslua.repl") == LUA_OK,
              sslua_pcall(L, 0, 1, 0) == LUA_OK, lua_type(L, -1) == LUA_TFUNCTION else { return }
        lua_setfield(L, sslua_registryindex(), REPL.formatterKey)
    }

    /// What reading gave: a line, or Ctrl-C (`.interrupted`), or the end of input (nil).
    enum Read { case line(String), interrupted }

    /// Reads a line; on the first line, `=expr` means `return expr` (as Lua 5.2's REPL) and
    /// `?name` means `help(name)` (a dotted name or any expression naming a function).
    func readLine(first: Bool) -> Read? {
        switch reader.read(prompt: prompt(first: first)) {
        case .end: return nil
        case .interrupted: return .interrupted
        case .line(let line):
            if first && line.hasPrefix("=") { return .line("return " + line.dropFirst()) }
            if first && line.hasPrefix("?") {
                let name = line.dropFirst().trimmingCharacters(in: .whitespaces)
                return .line("require('sslua.help').print(\(luaQuoted(name.isEmpty ? "sslua" : name)), true)")
            }
            return .line(line)
        }
    }

    /// `s` as a Lua string literal.
    func luaQuoted(_ s: String) -> String { StringLiteral.lua(s) }

    func load(_ code: String) -> Int32 { sslua_loadbuffer(L, code, strlen(code), "=stdin") }

    /// A syntax error at the end of the input means the statement is incomplete.
    func incomplete(_ status: Int32) -> Bool {
        guard status == LUA_ERRSYNTAX, let msg = lua_tolstring(L, -1, nil) else { return false }
        return String(cString: msg).hasSuffix("<eof>")
    }

    /// Leaves a compiled chunk (status OK) or an error message on an empty stack; nil at the
    /// end of the input; `.some(nil)` when Ctrl-C dropped the line or unfinished statement.
    func loadLine() -> Int32?? {
        lua_settop(L, 0)
        guard let read = readLine(first: true) else { return nil }
        guard case .line(let line) = read else { return .some(nil) }
        var status = load("return \(line);")
        if status == LUA_OK {
            reader.save(line)
            return status
        }
        sslua_pop(L, 1)
        var statement = line
        while true {
            status = load(statement)
            guard incomplete(status), let read = readLine(first: false) else { break }
            sslua_pop(L, 1)
            guard case .line(let more) = read else { return .some(nil) }
            statement += "\n" + more
        }
        reader.save(statement)
        return status
    }

    /// Prints every value left on the stack with the global `print`, each first turned into
    /// a string by the formatter (a failing formatter leaves the value as it is).
    func printResults() {
        let n = lua_gettop(L)
        guard n > 0 else { return }
        guard lua_checkstack(L, LUA_MINSTACK) != 0 else {
            run.message("too many results to print")
            return
        }
        sslua_getregistrytable(L, REPL.formatterKey)
        if lua_type(L, -1) == LUA_TFUNCTION {
            for i in 1...n {
                lua_pushvalue(L, -1)
                lua_pushvalue(L, i)
                if sslua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING {
                    sslua_replace(L, i)
                } else {
                    sslua_pop(L, 1)
                }
            }
        }
        sslua_pop(L, 1)
        run.rawGlobal("print")
        sslua_insert(L, 1)
        if sslua_pcall(L, n, 0, 0) != LUA_OK {
            let err = lua_type(L, -1) == LUA_TSTRING ? String(cString: lua_tolstring(L, -1, nil)) : "?"
            run.message("error calling 'print' (\(err))")
        }
    }
}

import CLua
import CShim
import Foundation

/// The read-eval-print loop of `lua.c`: a line is first tried as `return <line>;` and its
/// values printed with `print`; otherwise it is a statement, continued over more lines while
/// the parser stops at `<eof>`. Errors print and the session goes on; Ctrl-C interrupts the
/// running statement (the SIGINT hook installed by `sslua_docall`) and returns to the prompt.
struct REPL {
    let run: Runner
    let reader: LineReader
    var L: OpaquePointer { run.L }

    func loop() {
        let saved = run.progname
        run.progname = nil            // no program name on errors in interactive mode
        defer { run.progname = saved }
        while let loaded = loadLine() {
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

    /// Reads a line; on the first line, `=expr` means `return expr` (as Lua 5.2's REPL).
    func readLine(first: Bool) -> String? {
        guard let line = reader.read(prompt: prompt(first: first)) else { return nil }
        if first && line.hasPrefix("=") { return "return " + line.dropFirst() }
        return line
    }

    func load(_ code: String) -> Int32 { sslua_loadbuffer(L, code, strlen(code), "=stdin") }

    /// A syntax error at the end of the input means the statement is incomplete.
    func incomplete(_ status: Int32) -> Bool {
        guard status == LUA_ERRSYNTAX, let msg = lua_tolstring(L, -1, nil) else { return false }
        return String(cString: msg).hasSuffix("<eof>")
    }

    /// Leaves a compiled chunk (status OK) or an error message on an empty stack; nil at the
    /// end of the input.
    func loadLine() -> Int32? {
        lua_settop(L, 0)
        guard let line = readLine(first: true) else { return nil }
        var status = load("return \(line);")
        if status == LUA_OK {
            reader.save(line)
            return status
        }
        sslua_pop(L, 1)
        var statement = line
        while true {
            status = load(statement)
            guard incomplete(status), let more = readLine(first: false) else { break }
            sslua_pop(L, 1)
            statement += "\n" + more
        }
        reader.save(statement)
        return status
    }

    /// Prints every value left on the stack with the global `print`.
    func printResults() {
        let n = lua_gettop(L)
        guard n > 0 else { return }
        guard lua_checkstack(L, LUA_MINSTACK) != 0 else {
            run.message("too many results to print")
            return
        }
        run.rawGlobal("print")
        sslua_insert(L, 1)
        if sslua_pcall(L, n, 0, 0) != LUA_OK {
            let err = lua_type(L, -1) == LUA_TSTRING ? String(cString: lua_tolstring(L, -1, nil)) : "?"
            run.message("error calling 'print' (\(err))")
        }
    }
}

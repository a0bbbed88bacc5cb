import CLua
import CLuaShim
import CRuntime
import Foundation
import SSLua

/// The Lua half of `sslua kernel`: one Lua state for the kernel's life, cells run with the
/// REPL's semantics (a cell whose last line is an expression returns its value), through
/// `sslua_docall` (traceback, and the SIGINT hook that interrupts a running cell). Everything
/// here runs on the main thread, and only under protected calls: no raising Lua API.
final class KernelExec {
    let run: Runner
    var L: OpaquePointer { run.L }
    /// `t` under `--sandbox` (no binary chunks), else nil.
    var chunkMode: String?

    /// Where `sslua.display(x)` sends its MIME bundle: (bundle, display id, update).
    nonisolated(unsafe) static var displaySink: (([String: String], String?, Bool) -> Void)?

    /// What the frontend answered to an `input_request`.
    enum Input { case value(String), unavailable, interrupted }
    /// Where `sslua._kernel.input(prompt, password)` asks the frontend for a line (the stdin
    /// channel); it blocks until the `input_reply`, an interrupt or shutdown.
    nonisolated(unsafe) static var inputSink: ((String, Bool) -> Input)?

    init(_ run: Runner) { self.run = run }

    /// Opens the toolkit, the kernel's natives (`sslua._kernel`), the REPL's formatter and
    /// `help`, and the sandbox; nil on success, else the message.
    func setUp(argv: [String], sandbox: Bool) -> String? {
        setenv("SSLUA_PROGRESS", "1", 0)       // progress bars redraw with \r, as in a terminal
        if let err = Toolkit.open(L) { return err }
        run.createArgTable(argv, script: 0)
        sslua_gc_generational(L)
        run.progname = nil
        installNatives()
        REPL(run: run, reader: PlainLineReader()).setUp()
        if !runQuiet("require('sslua.kernelio')(sslua._kernel.input)", name: "=kernelio") {
            return "cannot route io.read to the stdin channel"
        }
        if sandbox {
            chunkMode = "t"
            run.chunkMode = "t"
            if !runQuiet("require('sslua.sandbox')()", name: "=--sandbox") { return "cannot apply --sandbox" }
        }
        if run.handleInit() != LUA_OK { return "the init code (SSLUA_INIT / LUA_INIT) failed" }
        return nil
    }

    /// `sslua._kernel.display(id, update, mime1, data1, ...)`: the native behind
    /// `sslua.display` (`lua/sslua/display.lua`) inside a kernel.
    private func installNatives() {
        lua_createtable(L, 0, 1)
        LuaRegistry.push(L, "sslua.display") { a in
            let id = a.isString(1) ? try a.string(1) : nil
            let update = a.boolean(2)
            var bundle: [String: String] = [:]
            var i: Int32 = 3
            while i + 1 <= a.count {
                bundle[try a.string(i)] = try a.string(i + 1)
                i += 2
            }
            KernelExec.displaySink?(bundle, id, update)
            return 0
        }
        lua_setfield(L, -2, "display")          // a new plain table: no metamethod runs
        // `sslua._kernel.input(prompt, password)`: one line from the frontend, without its
        // newline (behind io.read / io.lines / io.stdin:read, lua/sslua/kernelio.lua).
        LuaRegistry.push(L, "io.read") { a in
            let prompt = a.isString(1) ? try a.string(1) : ""
            let password = a.boolean(2)
            switch KernelExec.inputSink?(prompt, password) ?? .unavailable {
            case .value(let v):
                v.utf8CString.withUnsafeBufferPointer { b in
                    _ = lua_pushlstring(a.L, b.baseAddress, max(b.count - 1, 0))
                }
                return 1
            case .unavailable:
                throw passThroughError("io.read: stdin is not available in this kernel's frontend "
                                       + "(the execute_request did not allow stdin)")
            case .interrupted:
                sslua_clear_interrupt()
                throw passThroughError("io.read: interrupted!")
            }
        }
        lua_setfield(L, -2, "input")
        run.rawGlobal("sslua")
        if lua_type(L, -1) == LUA_TTABLE {
            lua_pushstring(L, "_kernel")
            lua_pushvalue(L, -3)
            lua_rawset(L, -3)
        }
        sslua_pop(L, 2)
    }

    /// Runs `code` under `lua_pcall`; false when it failed (the message is logged).
    @discardableResult
    func runQuiet(_ code: String, name: String) -> Bool {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard luaL_loadbufferx(L, code, strlen(code), name, chunkMode) == LUA_OK,
              sslua_docall(L, 0, 0) == LUA_OK else {
            kernelLog("\(name): \(stringAt(-1) ?? "?")")
            return false
        }
        return true
    }

    func stringAt(_ i: Int32) -> String? {
        let t = lua_type(L, i)
        guard t == LUA_TSTRING || t == LUA_TNUMBER else { return nil }
        lua_pushvalue(L, i)                // lua_tolstring changes a number in place
        defer { sslua_pop(L, 1) }
        var n = 0
        guard let p = lua_tolstring(L, -1, &n) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    private func load(_ code: String, name: String) -> Int32 {
        code.utf8CString.withUnsafeBufferPointer { b in        // always holds the final NUL
            luaL_loadbufferx(L, b.baseAddress, max(b.count - 1, 0), name, chunkMode)
        }
    }

    enum Outcome {
        case ok(bundle: [String: String]?)
        case error(ename: String, evalue: String, traceback: [String])
    }

    /// Compiles a cell: `return <cell>`, else the cell with `return` before one of its last lines, else
    /// the cell as statements. Leaves the chunk (or the syntax error) on top.
    private func compile(_ code: String, name: String) -> Int32 {
        var text = code
        while let last = text.last, last.isWhitespace { text.removeLast() }
        if text.hasPrefix("?") && !text.contains("\n") {        // `?name`, as in the REPL
            let target = text.dropFirst().trimmingCharacters(in: .whitespaces)
            let q = REPL(run: run, reader: PlainLineReader()).luaQuoted(target.isEmpty ? "sslua" : target)
            return load("require('sslua.help').print(\(q), true)", name: name)
        }
        if load("return " + text + "\n;", name: name) == LUA_OK { return LUA_OK }
        sslua_pop(L, 1)
        // The last expression may span lines (a figure's options table): try `return` before
        // each of the last lines, nearest first.
        var end = text.endIndex
        for _ in 0..<64 {
            guard let nl = text[..<end].lastIndex(of: "\n") else { break }
            let head = text[..<nl], tail = text[text.index(after: nl)...]
            if !tail.trimmingCharacters(in: .whitespaces).isEmpty {
                if load(head + "\nreturn " + tail + "\n;", name: name) == LUA_OK { return LUA_OK }
                sslua_pop(L, 1)
            }
            end = nl
        }
        return load(text, name: name)
    }

    /// Runs one cell; its values (if any) come back as a MIME bundle.
    func execute(_ code: String, count: Int) -> Outcome {
        lua_settop(L, 0)
        defer { lua_settop(L, 0) }
        var status = compile(code, name: "=In[\(count)]")
        if status == LUA_OK { status = sslua_docall(L, 0, LUA_MULTRET) }
        if status != LUA_OK { return failure() }
        let n = lua_gettop(L)
        if n == 0 { return .ok(bundle: nil) }
        if n == 1 { return .ok(bundle: bundle(at: 1)) }
        var texts: [String] = []
        for i in 1...n { texts.append(bundle(at: i)["text/plain"] ?? "?") }
        return .ok(bundle: ["text/plain": texts.joined(separator: "\t")])
    }

    /// The error on top: its message and the traceback `sslua_docall` appended.
    private func failure() -> Outcome {
        let full = stringAt(-1) ?? "(error object is a \(String(cString: lua_typename(L, lua_type(L, -1)))) value)"
        let marker = "\nstack traceback:"
        let message = full.range(of: marker).map { String(full[..<$0.lowerBound]) } ?? full
        let interrupted = message.hasSuffix("interrupted!")
        return .error(ename: interrupted ? "KeyboardInterrupt" : "LuaError", evalue: message,
                      traceback: full.components(separatedBy: "\n"))
    }

    /// The MIME bundle of the value at `index`: `require('sslua.display').bundle(v)`, under
    /// `lua_pcall`; plain `tostring` when that fails.
    func bundle(at index: Int32) -> [String: String] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        let code = "local v = ...; return require('sslua.display').bundle(v)"
        guard lua_checkstack(L, 8) != 0 else { return ["text/plain": "?"] }
        lua_pushvalue(L, index)
        guard luaL_loadbufferx(L, code, strlen(code), "=display", chunkMode) == LUA_OK else {
            return ["text/plain": "?"]
        }
        sslua_insert(L, -2)
        guard sslua_pcall(L, 1, 1, 0) == LUA_OK, lua_type(L, -1) == LUA_TTABLE else {
            kernelLog("display: \(stringAt(-1) ?? "no bundle")")
            return ["text/plain": "?"]
        }
        var out: [String: String] = [:]
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            if lua_type(L, -2) == LUA_TSTRING, lua_type(L, -1) == LUA_TSTRING,
               let k = stringAt(-2), let v = stringAt(-1) {
                out[k] = v
            }
            sslua_pop(L, 1)
        }
        if out["text/plain"] == nil { out["text/plain"] = "?" }
        return out
    }

    // MARK: completion, inspection, is_complete

    /// The dotted/colon name ending at `cursor` (a count of Unicode scalars, as the protocol
    /// says for 5.2+), and where it starts.
    func word(in code: String, cursor: Int, extendRight: Bool = false) -> (String, Int, Int) {
        let scalars = Array(code.unicodeScalars)
        let end0 = min(max(cursor, 0), scalars.count)
        func part(_ c: Unicode.Scalar) -> Bool {
            c == "_" || c == "." || c == ":" || (c.isASCII && (CharacterSet.alphanumerics.contains(c)))
        }
        var start = end0
        while start > 0 && part(scalars[start - 1]) { start -= 1 }
        var end = end0
        if extendRight { while end < scalars.count && part(scalars[end]) { end += 1 } }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[start..<end])
        return (String(s), start, end)
    }

    func complete(_ code: String, cursor: Int) -> (matches: [String], start: Int, end: Int) {
        let (w, start, end) = word(in: code, cursor: cursor)
        let matches = Completion.candidates(L, w)
        return (matches, start, end)
    }

    /// `sslua.help`'s text for the name at the cursor (a documented name, or a value the
    /// dotted name evaluates to), or nil.
    func inspect(_ code: String, cursor: Int) -> String? {
        var (w, _, _) = word(in: code, cursor: cursor, extendRight: true)
        while w.hasSuffix(".") || w.hasSuffix(":") { w.removeLast() }
        guard !w.isEmpty else { return nil }
        let lua = """
            local name = ...
            local h = require('sslua.help')
            local t = h.text(name)
            if not t then
              local f = load('return ' .. name:gsub(':', '.'), '=?', 't')
              if f then
                local ok, v = pcall(f)
                if ok and v ~= nil then t = h.text(v) or ('(no documentation)\\n' .. h.repr(v)) end
              end
            end
            return t
            """
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard luaL_loadbufferx(L, lua, strlen(lua), "=inspect", chunkMode) == LUA_OK else { return nil }
        lua_pushstring(L, w)
        guard sslua_docall(L, 1, 1) == LUA_OK else { return nil }
        return stringAt(-1)
    }

    /// "complete", "incomplete" (the parser stopped at the end) or "invalid".
    func isComplete(_ code: String) -> String {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        if load("return " + code + "\n;", name: "=check") == LUA_OK { return "complete" }
        sslua_pop(L, 1)
        let st = load(code, name: "=check")
        if st == LUA_OK { return "complete" }
        if st == LUA_ERRSYNTAX, let m = stringAt(-1), m.hasSuffix("<eof>") { return "incomplete" }
        return "invalid"
    }
}

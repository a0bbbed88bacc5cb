import CEdit
import CLua
import CLuaShim
import Foundation

/// Tab completion for the REPL: `sslua.ze<TAB>` -> `sslua.zeros`, `x:nar<TAB>` -> `x:narrow`.
///
/// It runs inside libedit's callback, outside any protected call, so it runs no user code:
/// it walks tables with `lua_rawget`/`lua_next` and follows metatables with
/// `lua_getmetatable`: a table `__index` is searched like the table itself, and a tensor's
/// methods are found in `sslua.Tensor` (its `__index` is a function that is not called here).
/// The one Lua call it makes is `require` of a toolkit submodule that loads lazily
/// (`sslua.nn.Lin<TAB>`), under `lua_pcall`.
enum Completion {
    /// The state whose globals are completed.
    nonisolated(unsafe) static var state: OpaquePointer?
    nonisolated(unsafe) private static var matches: [String] = []
    nonisolated(unsafe) private static var nextMatch = 0

    /// How far `__index` chains are followed.
    private static let maxDepth = 8
    private static let keywords = ["and", "break", "do", "else", "elseif", "end", "false", "for",
                                   "function", "goto", "if", "in", "local", "nil", "not", "or",
                                   "repeat", "return", "then", "true", "until", "while"]

    /// Hooks the completer into libedit. A word ends at any character that cannot be part of
    /// a dotted name, so `print(sslua.ze` completes `sslua.ze`.
    static func install() {
        let breaks = " \t\n\"\\'`@$><=;|&{}()[]+-*/%^~#,"
        rl_basic_word_break_characters = UnsafePointer(strdup(breaks))
        rl_completer_word_break_characters = strdup(breaks)
        rl_completion_append_character = 0
        rl_attempted_completion_function = attempt
    }

    private static let attempt: @convention(c) (UnsafePointer<CChar>?, Int32, Int32)
        -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, _, _ in
        rl_attempted_completion_over = 1   // never fall back to file names
        guard let text = text, let L = Completion.state else { return nil }
        Completion.matches = Completion.candidates(L, String(cString: text))
        Completion.nextMatch = 0
        guard !Completion.matches.isEmpty else { return nil }
        return completion_matches(UnsafeMutablePointer(mutating: text), generator)
    }

    /// libedit's generator protocol: called with state 0, then 1, 2, ... until it returns nil;
    /// each string is `malloc`ed and freed by libedit.
    private static let generator: @convention(c) (UnsafePointer<CChar>?, Int32)
        -> UnsafeMutablePointer<CChar>? = { _, st in
        if st == 0 { Completion.nextMatch = 0 }
        guard Completion.nextMatch < Completion.matches.count else { return nil }
        defer { Completion.nextMatch += 1 }
        return strdup(Completion.matches[Completion.nextMatch])
    }

    // MARK: finding names

    /// Every completion of `text`, a dotted/colon name such as `sslua.linalg.sv` or `x:nar`.
    static func candidates(_ L: OpaquePointer, _ text: String) -> [String] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard lua_checkstack(L, 16) != 0 else { return [] }
        let sepIndex = text.lastIndex(where: { $0 == "." || $0 == ":" })
        let partial = sepIndex.map { String(text[text.index(after: $0)...]) } ?? text
        guard partial.isEmpty || isIdentifier(partial) else { return [] }
        lua_rawgeti(L, sslua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        var prefix = ""
        var methodsOnly = false
        if let sep = sepIndex {
            let path = text[..<sep]
            prefix = String(text[...sep])
            methodsOnly = text[sep] == ":"
            for name in path.split(separator: ".", omittingEmptySubsequences: false) {
                let key = String(name)
                guard isIdentifier(key), pushField(L, key) || pushLazySubmodule(L, key) else { return [] }
                sslua_remove(L, -2)
            }
        }
        var names = Set<String>()
        collectKeys(L, prefix: partial, methodsOnly: methodsOnly, into: &names)
        if !methodsOnly {
            if isTensor(L, -1) && "grad".hasPrefix(partial) { names.insert("grad") }
            for name in lazySubmodules(L) where name.hasPrefix(partial) && !hidden(name, partial) {
                names.insert(name)
            }
        }
        if sepIndex == nil {
            for k in keywords where k.hasPrefix(partial) { names.insert(k) }
        }
        return names.sorted().map { prefix + $0 }
    }

    /// Private names (`_nn`) are offered only once the user has typed the underscore.
    private static func hidden(_ name: String, _ prefix: String) -> Bool {
        name.hasPrefix("_") && !prefix.hasPrefix("_")
    }

    private static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return s.utf8.allSatisfy { c in
            c == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
        }
    }

    /// Whether the value at `idx` is a tensor (its metatable is the registry's `sslua.Tensor`).
    private static func isTensor(_ L: OpaquePointer, _ idx: Int32) -> Bool {
        guard lua_getmetatable(L, idx) != 0 else { return false }
        sslua_getregistrytable(L, "sslua.Tensor")
        defer { sslua_pop(L, 2) }
        return lua_rawequal(L, -1, -2) != 0
    }

    /// With a module table on top that loads `key` lazily (`sslua` and `nn`), pushes
    /// `require "<module>.<key>"`, run under `lua_pcall`; returns false (pushing nothing) when
    /// the table is no such module, `key` is no submodule file, or loading it fails.
    private static func pushLazySubmodule(_ L: OpaquePointer, _ key: String) -> Bool {
        let top = lua_gettop(L)
        guard let (module, _) = lazyModule(L), lazySubmodules(L).contains(key) else { return false }
        lua_rawgeti(L, sslua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        guard rawField(L, "require") == LUA_TFUNCTION else { lua_settop(L, top); return false }
        lua_pushstring(L, module + "." + key)
        guard sslua_pcall(L, 1, 1, 0) == LUA_OK, lua_type(L, -1) == LUA_TTABLE else {
            lua_settop(L, top)
            return false
        }
        return true
    }

    /// When the table on top is `package.loaded[M]` and indexes through a function (as the
    /// prelude's lazy loader), `M` and `package.path`; nil otherwise.
    private static func lazyModule(_ L: OpaquePointer) -> (String, String)? {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard lua_type(L, top) == LUA_TTABLE, lua_getmetatable(L, top) != 0,
              rawField(L, "__index") == LUA_TFUNCTION else { return nil }
        sslua_pop(L, 1)
        lua_rawgeti(L, sslua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        guard rawField(L, "package") == LUA_TTABLE else { return nil }
        lua_pushvalue(L, -1)
        guard rawField(L, "path") == LUA_TSTRING, let p = lua_tolstring(L, -1, nil) else { return nil }
        let path = String(cString: p)
        sslua_pop(L, 1)
        guard rawField(L, "loaded") == LUA_TTABLE else { return nil }
        var module: String?
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            if lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, top) != 0,
               let k = lua_tolstring(L, -2, nil) {
                module = String(cString: k)
            }
            sslua_pop(L, 1)
        }
        return module.map { ($0, path) }
    }

    /// Submodules a module table loads on first access (`sslua.nn` comes from
    /// `lua/sslua/nn.lua` through a function `__index`): the `M.*` modules that
    /// `package.path` would find, listed from the file system.
    private static func lazySubmodules(_ L: OpaquePointer) -> [String] {
        guard let (m, path) = lazyModule(L) else { return [] }
        let fm = FileManager.default
        var names: [String] = []
        for template in path.split(separator: ";") {
            guard let q = template.firstIndex(of: "?") else { continue }
            let dir = template[..<q] + m.replacingOccurrences(of: ".", with: "/") + "/"
            let suffix = String(template[template.index(after: q)...])
            for entry in (try? fm.contentsOfDirectory(atPath: String(dir))) ?? [] {
                if suffix.hasPrefix("/") {
                    if fm.fileExists(atPath: dir + entry + suffix) { names.append(entry) }
                } else if entry.hasSuffix(suffix) && entry.count > suffix.count {
                    names.append(String(entry.dropLast(suffix.count)))
                }
            }
        }
        return names.filter(isIdentifier)
    }

    /// With a value on top, pushes the table its indexing continues in: `sslua.Tensor` for a
    /// tensor, else the metatable's `__index` when that is a table. Pushes nothing and
    /// returns false otherwise.
    private static func pushIndexTarget(_ L: OpaquePointer, _ idx: Int32) -> Bool {
        let abs = lua_absindex(L, idx)
        if isTensor(L, abs) {
            lua_rawgeti(L, sslua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
            if rawField(L, "sslua") == LUA_TTABLE && rawField(L, "Tensor") == LUA_TTABLE { return true }
            sslua_pop(L, 1)
            return false
        }
        guard lua_getmetatable(L, abs) != 0 else { return false }
        if rawField(L, "__index") == LUA_TTABLE { return true }
        sslua_pop(L, 1)
        return false
    }

    /// Replaces the table on top with `t[key]` read raw (nil when the top is not a table).
    private static func rawField(_ L: OpaquePointer, _ key: String) -> Int32 {
        guard lua_type(L, -1) == LUA_TTABLE else {
            sslua_pop(L, 1)
            lua_pushnil(L)
            return LUA_TNIL
        }
        lua_pushstring(L, key)
        let t = lua_rawget(L, -2)
        sslua_remove(L, -2)
        return t
    }

    /// With a value on top, pushes `value[key]` as Lua would find it through table `__index`
    /// chains and tensor methods; returns false (pushing nothing) when it is not found.
    private static func pushField(_ L: OpaquePointer, _ key: String) -> Bool {
        lua_pushvalue(L, -1)
        for _ in 0..<maxDepth {
            if lua_type(L, -1) == LUA_TTABLE {
                lua_pushstring(L, key)
                if lua_rawget(L, -2) != LUA_TNIL {
                    sslua_remove(L, -2)
                    return true
                }
                sslua_pop(L, 1)
            }
            guard pushIndexTarget(L, -1) else { break }
            sslua_remove(L, -2)
        }
        sslua_pop(L, 1)
        return false
    }

    /// Adds the identifier keys starting with `prefix` of the value on top and of everything
    /// it indexes through; with `methodsOnly`, only keys holding functions.
    private static func collectKeys(_ L: OpaquePointer, prefix: String, methodsOnly: Bool,
                                    into names: inout Set<String>) {
        lua_pushvalue(L, -1)
        for _ in 0..<maxDepth {
            if lua_type(L, -1) == LUA_TTABLE {
                lua_pushnil(L)
                while lua_next(L, -2) != 0 {
                    // Only string keys are read, so lua_tolstring never converts the key in place.
                    if lua_type(L, -2) == LUA_TSTRING, let k = lua_tolstring(L, -2, nil) {
                        let name = String(cString: k)
                        if name.hasPrefix(prefix), isIdentifier(name), !hidden(name, prefix),
                           !methodsOnly || lua_type(L, -1) == LUA_TFUNCTION {
                            names.insert(name)
                        }
                    }
                    sslua_pop(L, 1)
                }
            }
            guard pushIndexTarget(L, -1) else { break }
            sslua_remove(L, -2)
        }
        sslua_pop(L, 1)
    }
}

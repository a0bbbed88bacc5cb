import Foundation
import Testing

/// The `sslua` program (its options, `arg`, exit codes and REPL as Lua 5.4's `lua`), driven as a user would: the real binary with options,
/// scripts, environment variables and standard input; the REPL through piped `-i` and through
/// a pseudo-terminal (`ptySession`, a Python helper) for line editing, completion, history and Ctrl-C.
@Suite struct ProgramTests {
    /// A fresh directory for the files of one test. Its path is short so that chunk names
    /// (at most 60 characters in messages) are not abbreviated with `...`.
    static func tempDir() throws -> URL {
        let dir = URL(fileURLWithPath: "/tmp/sslua-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes `text` to `name` in `dir` and returns its path.
    static func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Environment that neutralises any init variables of the machine running the tests.
    static let cleanInit = ["SSLUA_INIT": "", "LUA_INIT_5_4": "", "LUA_INIT": ""]

    static func lines(_ s: String) -> [String] {
        s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    // MARK: scripts and `arg`

    @Test func argTableAndVarargs() throws {
        let dir = try Self.tempDir()
        let script = try Self.write("""
        for i = -3, #arg do print(i, arg[i]) end
        print("n", select("#", ...), ...)
        """, "args.lua", in: dir)
        let r = try runSSLua(["-e", "x=1", script, "a", "b c"], env: Self.cleanInit)
        #expect(r.status == 0, "\(r.stderr)")
        let out = Self.lines(r.stdout)
        #expect(out[0] == "-3\t" + Paths.binary.path)
        #expect(out[1] == "-2\t-e")
        #expect(out[2] == "-1\tx=1")
        #expect(out[3] == "0\t" + script)
        #expect(out[4] == "1\ta")
        #expect(out[5] == "2\tb c")
        #expect(out[6] == "n\t2\ta\tb c")
    }

    @Test func argWithoutScriptHasInterpreterAtZero() throws {
        // as in `lua`: with no script, the options are the positive indices
        let r = try runSSLua(["-e", "print(arg[0], arg[1], arg[-1], #arg)"], env: Self.cleanInit)
        #expect(r.status == 0)
        #expect(r.stdout == "\(Paths.binary.path)\t-e\tnil\t2\n")
    }

    @Test func shebangLineIsSkipped() throws {
        let dir = try Self.tempDir()
        let script = try Self.write("#!/usr/bin/env sslua\nprint('shebang ok', 6 * 7)\n", "sh.lua", in: dir)
        let r = try runSSLua([script], env: Self.cleanInit)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "shebang ok\t42\n")
    }

    @Test func scriptReturnValuesAreIgnoredAndStatusIsZero() throws {
        let dir = try Self.tempDir()
        let script = try Self.write("return 1, 2", "ret.lua", in: dir)
        let r = try runSSLua([script], env: Self.cleanInit)
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty && r.stderr.isEmpty)
    }

    // MARK: options

    @Test func executeRunsInOrderBeforeTheScript() throws {
        let dir = try Self.tempDir()
        let script = try Self.write("print('script', x)", "s.lua", in: dir)
        let r = try runSSLua(["-e", "x = 1", "-e", "x = x * 10 print('e', x)", "-ex = x + 1", script],
                             env: Self.cleanInit)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "e\t10\nscript\t11\n")
    }

    @Test func libraryOptionAssignsGlobals() throws {
        let dir = try Self.tempDir()
        _ = try Self.write("return { value = 42, name = ... }", "mymod.lua", in: dir)
        _ = try Self.write("return { version = 2 }", "vmod-2.lua", in: dir)
        let env = Self.cleanInit.merging(["LUA_PATH": dir.path + "/?.lua;;"]) { $1 }
        let r = try runSSLua(["-l", "mymod", "-l", "g=mymod", "-lvmod-2",
                              "-e", "print(mymod.value, g.value, mymod == g, g.name, vmod.version)"],
                             env: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "42\t42\ttrue\tmymod\t2\n")
    }

    @Test func libraryOptionFailureExitsWithOne() throws {
        let r = try runSSLua(["-l", "no_such_module_xyz", "-e", "print('not reached')"], env: Self.cleanInit)
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("sslua: module 'no_such_module_xyz' not found"))
        #expect(r.stderr.contains("stack traceback:"))
        #expect(!r.stdout.contains("not reached"))
    }

    @Test func versionOption() throws {
        let r = try runSSLua(["-v"], env: Self.cleanInit)
        #expect(r.status == 0)
        #expect(r.stdout == "sslua 0.1.0  Lua 5.4.4\n" || r.stdout.hasPrefix("sslua 0.1.0  Lua 5.4."))
        // -v with a script prints the version, then runs it (no REPL).
        let r2 = try runSSLua(["-v", "-e", "print('after')"], env: Self.cleanInit)
        #expect(Self.lines(r2.stdout).dropFirst().first == "after")
    }

    @Test func warningsOption() throws {
        let on = try runSSLua(["-W", "-e", "warn('careful')"], env: Self.cleanInit)
        #expect(on.stderr == "Lua warning: careful\n")
        let off = try runSSLua(["-e", "warn('careful')"], env: Self.cleanInit)
        #expect(off.stderr.isEmpty)
    }

    @Test func doubleDashEndsOptions() throws {
        let dir = try Self.tempDir()
        let script = try Self.write("print('ran', ...)", "dd.lua", in: dir)
        let r = try runSSLua(["-e", "print('e')", "--", script, "-x"], env: Self.cleanInit)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "e\nran\t-x\n")
        // after `--`, a name starting with `-` is a script, not an option
        let odd = try runSSLua(["--", "-odd-name.lua"], env: Self.cleanInit)
        #expect(odd.status == 1)
        #expect(odd.stderr.hasPrefix("sslua: cannot open -odd-name.lua"))
        let asOption = try runSSLua(["-odd-name.lua"], env: Self.cleanInit)
        #expect(asOption.stderr.hasPrefix("sslua: unrecognized option '-odd-name.lua'"))
        // `--` alone: no script, standard input (not a terminal) runs as a file
        let r2 = try runSSLua(["--"], stdin: "print('from stdin')", env: Self.cleanInit)
        #expect(r2.status == 0)
        #expect(r2.stdout == "from stdin\n")
    }

    @Test func dashRunsStandardInput() throws {
        let r = try runSSLua(["-", "a", "b"], stdin: "#!shebang too\nprint(arg[0], ...)\n", env: Self.cleanInit)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "-\ta\tb\n")
        let bad = try runSSLua(["-"], stdin: "error('from stdin')", env: Self.cleanInit)
        #expect(bad.status == 1)
        #expect(bad.stderr.hasPrefix("sslua: stdin:1: from stdin\nstack traceback:"))
        // no arguments and stdin not a terminal: stdin is the script (an error exits with 1)
        let plain = try runSSLua([], stdin: "print('piped', #arg)", env: Self.cleanInit)
        #expect(plain.stdout == "piped\t0\n")
        let plainBad = try runSSLua([], stdin: "print('x')\nerror('piped error')", env: Self.cleanInit)
        #expect(plainBad.status == 1)
        #expect(plainBad.stderr.hasPrefix("sslua: stdin:2: piped error"))
    }

    @Test func unknownOptionPrintsUsage() throws {
        for args in [["-x"], ["-vx"], ["--foo"], ["-Ex", "f.lua"]] {
            let r = try runSSLua(args, env: Self.cleanInit)
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("sslua: unrecognized option '\(args[0])'\nusage: sslua [options] [script [args]]"))
            #expect(r.stdout.isEmpty)
        }
        for opt in ["-e", "-l"] {
            let r = try runSSLua([opt], env: Self.cleanInit)
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("sslua: '\(opt)' needs argument\n"))
            let r2 = try runSSLua([opt, "-v"], env: Self.cleanInit)
            #expect(r2.stderr.hasPrefix("sslua: '\(opt)' needs argument\n"))
        }
    }

    // MARK: init variables

    @Test func initVariables() throws {
        let both = Self.cleanInit.merging(["SSLUA_INIT": "print('sslua init')",
                                           "LUA_INIT_5_4": "print('lua 5.4 init')",
                                           "LUA_INIT": "print('lua init')"]) { $1 }
        #expect(try runSSLua(["-e", "print('e')"], env: both).stdout == "sslua init\ne\n")
        var noSSLua = both
        noSSLua.removeValue(forKey: "SSLUA_INIT")
        #expect(try runSSLua(["-e", "print('e')"], env: noSSLua).stdout == "lua 5.4 init\ne\n")
        noSSLua.removeValue(forKey: "LUA_INIT_5_4")
        #expect(try runSSLua(["-e", "print('e')"], env: noSSLua).stdout == "lua init\ne\n")
        // an error in the init code stops everything, with the variable's name as chunk name
        let bad = try runSSLua(["-e", "print('e')"], env: Self.cleanInit.merging(["SSLUA_INIT": "error('init failed')"]) { $1 })
        #expect(bad.status == 1)
        #expect(bad.stderr.hasPrefix("sslua: SSLUA_INIT:1: init failed"))
        #expect(!bad.stdout.contains("e"))
    }

    @Test func initFromFile() throws {
        let dir = try Self.tempDir()
        let file = try Self.write("greeting = 'hello from init file'", "init.lua", in: dir)
        let r = try runSSLua(["-e", "print(greeting)"], env: Self.cleanInit.merging(["SSLUA_INIT": "@" + file]) { $1 })
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "hello from init file\n")
    }

    @Test func ignoreEnvironmentOption() throws {
        let dir = try Self.tempDir()
        _ = try Self.write("return { value = 7 }", "envmod.lua", in: dir)
        let env = Self.cleanInit.merging(["SSLUA_INIT": "print('init ran')",
                                          "LUA_PATH": dir.path + "/?.lua;;"]) { $1 }
        let with = try runSSLua(["-l", "envmod", "-e", "print(envmod.value)"], env: env)
        #expect(with.stdout == "init ran\n7\n")
        let without = try runSSLua(["-E", "-e", "print(package.path:find(" + "'\(dir.path)', 1, true))"], env: env)
        #expect(without.status == 0, "\(without.stderr)")
        #expect(without.stdout == "nil\n")
        let req = try runSSLua(["-E", "-l", "envmod"], env: env)
        #expect(req.status == 1)
        #expect(req.stderr.contains("module 'envmod' not found"))
        #expect(!req.stdout.contains("init ran"))
    }

    // MARK: errors

    @Test func runtimeErrorHasLocationTracebackAndStatusOne() throws {
        let dir = try Self.tempDir()
        let script = try Self.write("""
        local function inner() error("something broke") end
        local function outer() inner() end
        print("before")
        outer()
        print("not reached")
        """, "err.lua", in: dir)
        let r = try runSSLua([script], env: Self.cleanInit)
        #expect(r.status == 1)
        #expect(r.stdout == "before\n")
        #expect(r.stderr.hasPrefix("sslua: \(script):1: something broke\nstack traceback:\n"))
        #expect(r.stderr.contains("\(script):2: in "))
        #expect(r.stderr.contains("\(script):4: in main chunk"))
    }

    @Test func errorFromNativeFunctionNamesFunctionAndLine() throws {
        let r = try runSSLua(["-e", "local a = sslua.zeros(2, 3)\nlocal b = sslua.mm(a, a)"], env: Self.cleanInit)
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("sslua: (command line):2: sslua.mm"))
        #expect(r.stderr.contains("stack traceback:"))
    }

    @Test func nonStringErrorObjects() throws {
        let r = try runSSLua(["-e", "error({})"], env: Self.cleanInit)
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("sslua: (error object is a table value)"))
        let r2 = try runSSLua(["-e", "error(setmetatable({}, {__tostring = function() return 'custom' end}))"],
                              env: Self.cleanInit)
        #expect(r2.stderr == "sslua: custom\n")
    }

    @Test func syntaxErrorIsReportedWithoutRunning() throws {
        let dir = try Self.tempDir()
        let script = try Self.write("print('no')\nlocal x = = 2\n", "syntax.lua", in: dir)
        let r = try runSSLua([script], env: Self.cleanInit)
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "sslua: \(script):2: unexpected symbol near '='\n")
        let missing = try runSSLua([dir.path + "/nope.lua"], env: Self.cleanInit)
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("sslua: cannot open \(dir.path)/nope.lua"))
    }

    @Test func osExitCodeIsKept() throws {
        let r = try runSSLua(["-e", "os.exit(7)"], env: Self.cleanInit)
        #expect(r.status == 7)
    }

    // MARK: sweep

    @Test func sweepHandsArgumentsToTheSweepModule() throws {
        // The module is provided through package.preload so the test checks the program only.
        let preload = """
        package.preload['sslua.sweep'] = function() return { main = function(a)
          print(#a, a[1], a[2], arg[0]); return 3 end } end
        """
        let r = try runSSLua(["sweep", "grid.lua", "--fast"], env: Self.cleanInit.merging(["SSLUA_INIT": preload]) { $1 })
        #expect(r.stdout == "2\tgrid.lua\t--fast\tgrid.lua\n", "\(r.stderr)")
        #expect(r.status == 3)
        let failing = "package.preload['sslua.sweep'] = function() return { main = function() error('bad grid') end } end"
        let f = try runSSLua(["sweep", "g.lua"], env: Self.cleanInit.merging(["SSLUA_INIT": failing]) { $1 })
        #expect(f.status == 1)
        #expect(f.stderr.contains("bad grid") && f.stderr.contains("stack traceback:"))
    }

    // MARK: REPL through piped -i

    /// Runs `sslua -i` with `input` on stdin.
    static func repl(_ input: String) throws -> RunResult {
        try runSSLua(["-i"], stdin: input, env: Self.cleanInit)
    }

    @Test func replPrintsExpressionValues() throws {
        let r = try Self.repl("1 + 41\n'a', nil, 3\n=10 * 2\n")
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("sslua 0.1.0"))
        #expect(r.stdout.contains("> 42\n"))
        #expect(r.stdout.contains("> a\tnil\t3\n"))
        #expect(r.stdout.contains("> 20\n"))
    }

    @Test func replKeepsGlobalsBetweenLines() throws {
        let r = try Self.repl("x = 1\nx + 1\n")
        #expect(r.stdout.contains("> > 2\n"))
    }

    @Test func replContinuesIncompleteStatements() throws {
        let r = try Self.repl("for i = 1, 3 do\nprint(i * 11)\nend\nlocal t = {\n1,\n2}; print(#t)\n")
        #expect(r.stdout.contains(">> >> 11\n22\n33\n"), "\(r.stdout)")
        #expect(r.stdout.contains(">> 2\n"))
        #expect(r.stderr.isEmpty, "\(r.stderr)")
    }

    @Test func replTrailingSemicolonSuppressesPrinting() throws {
        let r = try Self.repl("math.max(1, 12345);\nmath.max(2, 67890)\n")
        #expect(!r.stdout.contains("12345"))
        #expect(r.stdout.contains("67890"))
        #expect(r.stderr.isEmpty, "\(r.stderr)")
    }

    @Test func replErrorsPrintAndSessionGoesOn() throws {
        let r = try Self.repl("error('oops')\nprint('still here')\nx = = 1\nprint('and here')\nlocal t = {\n")
        #expect(r.status == 0)
        #expect(r.stderr.hasPrefix("stdin:1: oops\nstack traceback:"))
        #expect(r.stderr.contains("stdin:1: unexpected symbol near '='"))
        #expect(r.stderr.hasSuffix("stdin:1: unexpected symbol near <eof>\n"))
        #expect(r.stdout.contains("still here\n"))
        #expect(r.stdout.contains("and here\n"))
    }

    @Test func replPrintsTensors() throws {
        let r = try Self.repl("sslua.tensor({{1, 2, 3}, {4, 5, 6}})\n")
        let out = Self.lines(r.stdout)
        let footer = try #require(out.firstIndex(where: { $0.hasSuffix("[sslua.Tensor of size 2x3]") }))
        let rows = out[footer - 2..<footer].map { $0.split(separator: " ").compactMap { Double($0) } }
        #expect(rows == [[1, 2, 3], [4, 5, 6]], "\(r.stdout)")
    }

    @Test func replPrompts() throws {
        let r = try Self.repl("_PROMPT = 'py> '\n_PROMPT2 = setmetatable({}, {__tostring = function() return '... ' end})\nif true then\nend\n")
        #expect(r.stdout.hasSuffix("\n> py> py> ... py> \n"), "\(r.stdout)")
    }

    @Test func replRunsAfterScript() throws {
        let dir = try Self.tempDir()
        let script = try Self.write("y = 99", "pre.lua", in: dir)
        let r = try runSSLua(["-i", script], stdin: "y + 1\n", env: Self.cleanInit)
        #expect(r.stdout.contains("> 100\n"))
    }

    // MARK: REPL in a pseudo-terminal

    /// Runs `ptySession` steps against `sslua args` in a pseudo-terminal with HOME=`home`.
    static func pty(_ args: [String], home: URL, env extra: [String: String] = [:],
                    _ steps: [String]) throws -> RunResult {
        var env = cleanInit.merging(extra) { $1 }
        env["HOME"] = home.path
        env["TERM"] = "xterm"
        return try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                              ["python3", "-c", ptySession, Paths.binary.path] + args + ["--"] + steps, env: env)
    }

    @Test func terminalReplEvaluatesAndKeepsHistory() throws {
        let home = try Self.tempDir()
        let r = try Self.pty([], home: home, [
            "expect:sslua 0.1.0", "expect:> ",
            "send:1+41\\n", "expect:42",
            "expect:> ", "send:\\x04", "eof",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        #expect(r.stdout.contains("[exit 0]"))
        let history = try String(contentsOf: home.appendingPathComponent(".sslua_history"), encoding: .utf8)
        #expect(history.contains("1+41"))
        // the next session reads it back: Up-arrow recalls the line
        let r2 = try Self.pty([], home: home, [
            "expect:> ", "send:\\x1b[A\\n", "expect:42", "send:\\x04", "eof",
        ])
        #expect(r2.status == 0, "\(r2.stderr)\n\(r2.stdout)")
    }

    @Test func terminalTabCompletion() throws {
        let home = try Self.tempDir()
        let r = try Self.pty([], home: home, [
            "expect:> ",
            // ambiguous: the first TAB completes the common prefix, the second lists the choices
            "send:=type(sslua.ze\\t", "sleep:0.3", "send:\\t", "expect:sslua.zeros",
            "send:s)..'!'\\n", "expect:function!",
            // tensor methods, through the tensor's metatable
            "expect:> ", "send:x = sslua.ones(2)\\n",
            "expect:> ", "send:=type(x.narr\\t)..'?'\\n", "expect:function?",
            // a table's __index table
            "expect:> ", "send:t = setmetatable({}, {__index = {hello_world = 4241}})\\n",
            "expect:> ", "send:=t.hello\\t + 1\\n", "expect:4242",
            // nested tables from the globals
            "expect:> ", "send:=string.upp\\t('ok')\\n", "expect:OK",
            "expect:> ", "send:\\x04", "eof",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
    }

    @Test func terminalCompletesLazySubmodulesAndGrad() throws {
        // `sslua.<name>` loads lua/sslua/<name>.lua on first access; completion lists such
        // modules from package.path without loading them.
        let home = try Self.tempDir()
        let lib = home.appendingPathComponent("lib/sslua")
        try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
        _ = try Self.write("return { answer = 4241 }", "lazy_thing.lua", in: lib)
        let r = try Self.pty([], home: home, env: ["LUA_PATH": home.path + "/lib/?.lua;;"], [
            "expect:> ", "send:=package.loaded['sslua.lazy_thing']\\n", "expect:nil",
            "expect:> ", "send:=sslua.lazy_t\\t.answer + 1\\n", "expect:4242",
            "expect:> ", "send:x = sslua.ones(2):requires_grad_()\\n",
            "expect:> ", "send:x:sum():backward()\\n",
            "expect:> ", "send:=x.gra\\t:sum():item() * 1000 + 7\\n", "expect:2007",
            "expect:> ", "send:\\x04", "eof",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
    }

    @Test func terminalCtrlCInterruptsStatement() throws {
        let home = try Self.tempDir()
        let r = try Self.pty([], home: home, [
            "expect:> ", "send:while true do end\\n", "sleep:0.5", "send:\\x03",
            "expect:interrupted!", "expect:> ",
            "send:print('after' .. 'wards')\\n", "expect:afterwards",
            "expect:> ", "send:\\x04", "eof",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        #expect(r.stdout.contains("[exit 0]"))
    }

    /// A long native kernel (kNN over 50k x 10k) polls the cancel flag and raises
    /// "interrupted!" itself; the Lua hook armed by the same Ctrl-C must not fire again in the
    /// next statement.
    @Test func terminalCtrlCInterruptsNativeKernel() throws {
        let home = try Self.tempDir()
        let r = try Self.pty([], home: home, [
            "expect:> ",
            "send:tr, te = sslua.randn(50000, 256), sslua.randn(10000, 256); lt, le = sslua.randint(1, 10, 50000), sslua.randint(1, 10, 10000)\\n",
            "expect:> ",
            "send:acc = sslua.geom.knn_accuracy{train=tr, train_labels=lt, test=te, test_labels=le}\\n",
            "sleep:0.8", "send:\\x03", "expect:interrupted!", "expect:> ",
            "send:print(40 + 2)\\n", "expect:42", "expect:> ",
            "send:print(41 + 2)\\n", "expect:43", "expect:> ", "send:\\x04", "eof",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        #expect(r.stdout.contains("[exit 0]"))
        #expect(!r.stdout.contains("42\r\ninterrupted!") && r.stdout.components(separatedBy: "interrupted!").count == 2)
    }

    /// Ctrl-C at the prompt drops the line typed so far (and an unfinished statement) and
    /// keeps the session, as python and `th`; before, libedit re-sent SIGINT and it died.
    @Test func terminalCtrlCAtPromptKeepsSession() throws {
        let home = try Self.tempDir()
        let r = try Self.pty([], home: home, [
            "expect:> ", "send:print('dropped')", "sleep:0.2", "send:\\x03",
            "expect:> ", "send:for i = 1, 2 do\\n", "expect:>> ", "send:\\x03",
            "expect:> ", "send:print('still' .. 'here')\\n", "expect:stillhere",
            "expect:> ", "send:\\x04", "eof",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        #expect(r.stdout.contains("[exit 0]"))
        #expect(!r.stdout.contains("dropped\r\n"))
    }

    /// `?name` prints documentation; tables print nested; sizes print as sizes; lazily loaded
    /// submodules complete on Tab.
    @Test func terminalHelpTablesSizesAndLazyCompletion() throws {
        let home = try Self.tempDir()
        let r = try Self.pty([], home: home, [
            "expect:> ", "send:?sslua.geom.rank\\n", "expect:geom.rank(M [, opts])", "expect:Options (strict",
            "expect:> ", "send:help(sslua.nn.Linear)\\n", "expect:nn.Linear(in_features",
            "expect:> ", "send:{a = 1, b = {1, 2, 3}}\\n", "expect:{a = 1, b = {1, 2, 3}}",
            "expect:> ", "send:sslua.zeros(2, 3):size()\\n", "expect:sslua.Size{2, 3}",
            "expect:> ", "send:=sslua.nn.Lin\\t(2, 3).weight:size(1) + 40\\n", "expect:43",
            "expect:> ", "send:\\x04", "eof",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
    }

    @Test func helpOptionPrintsUsage() throws {
        let r = try runSSLua(["--help"], env: Self.cleanInit)
        #expect(r.status == 0)
        #expect(r.stdout.contains("usage: sslua [options] [script [args]]"))
        #expect(r.stderr.isEmpty)
    }

    @Test func terminalCtrlCStopsScript() throws {
        let home = try Self.tempDir()
        let r = try Self.pty(["-e", "print('looping') while true do end"], home: home, [
            "expect:looping", "sleep:0.3", "send:\\x03", "expect:interrupted!", "eof",
        ])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        #expect(r.stdout.contains("sslua: "))
        #expect(r.stdout.hasSuffix("[exit 1]"))
    }
}

/// The pseudo-terminal driver, in Python (standard library only), kept inline so the test
/// target holds only Swift sources.
let ptySession = #"""
#!/usr/bin/env python3
"""Drives a program in a pseudo-terminal, for the REPL tests in ProgramTests.swift.

usage: python3 -c "$PTY_SESSION" PROGRAM [ARGS...] -- STEP...

Steps run in order:
  send:TEXT     write TEXT to the terminal (backslash escapes: \\n \\t \\x03 ...), once the
                output has been quiet for 0.2 s: keys typed before libedit has put the
                terminal in raw mode would be read in cooked mode (a ^D there is lost)
  expect:TEXT   wait (at most 10 s) until TEXT appears in the output after the last match
  sleep:SECONDS wait
  eof           wait (at most 10 s) for the program to exit; appends "[exit N]" to the
                transcript (N is the exit status, or -SIGNAL)
On success prints the transcript and exits 0; if an expectation fails, prints the
transcript and the failed step on stderr and exits 1. Only the standard library is used.
"""
import codecs
import os
import pty
import select
import signal
import sys
import time


def main():
    argv = sys.argv[1:]
    split = argv.index("--")
    command, steps = argv[:split], argv[split + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        # A test runner may start us with signals blocked or ignored, and both survive exec:
        # give the program the terminal defaults a shell would.
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execv(command[0], command)
    output = b""
    seen = 0  # expectations search after the previous match

    def pump(timeout):
        nonlocal output
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:  # the child has closed the terminal
            return False
        if not data:
            return False
        output += data
        return True

    def fail(step):
        sys.stdout.write(output.decode("utf-8", "replace"))
        sys.stderr.write("pty session: step failed: %s\n" % step)
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        sys.exit(1)

    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "send":
            settle = time.time() + 2
            before = len(output) + 1
            while len(output) != before and time.time() < settle:
                before = len(output)
                pump(0.2)
            os.write(fd, codecs.decode(arg, "unicode_escape").encode("utf-8"))
        elif kind == "sleep":
            end = time.time() + float(arg)
            while time.time() < end and pump(max(0.0, end - time.time())):
                pass
        elif kind == "expect":
            want = codecs.decode(arg, "unicode_escape").encode("utf-8")
            end = time.time() + 10
            while want not in output[seen:]:
                if time.time() > end or not pump(0.1):
                    fail(step)
            seen = output.index(want, seen) + len(want)
        elif kind == "eof":
            end = time.time() + 10
            while pump(0.1):
                if time.time() > end:
                    fail(step)
            _, status = os.waitpid(pid, 0)
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
            output += b"[exit %d]" % code
        else:
            fail("unknown step " + step)
    sys.stdout.write(output.decode("utf-8", "replace"))
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except OSError:
        pass


if __name__ == "__main__":
    main()
"""#

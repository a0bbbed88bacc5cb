import CLua
import CLuaShim
import Foundation
import SSLua

/// `sslua`: Lua 5.4's `lua` program with the toolkit preloaded. The steps follow
/// `lua.c`'s `pmain`: read the options, print the version, open the libraries (after `-E`
/// told them to ignore `LUA_PATH`), build `arg`, run the init variable, `-e`/`-l`/`-W` in
/// order, the script, then the REPL. `sslua [--sandbox] sweep ...` hands over to `sslua.sweep`.

/// Runs the program and returns its exit status.
func sslua(_ argv: [String]) -> Int32 {
    guard let L = sslua_newstate() else {
        writeError("sslua: cannot create state: not enough memory\n")
        return 1
    }
    defer { lua_close(L) }
    let run = Runner(L)

    // `sslua [--sandbox] sweep file.lua ...`: the launcher runs unsandboxed (it starts the
    // runs), and `--sandbox`, before `sweep` or among the sweep's options, sandboxes every run.
    var lead = 1
    while lead < argv.count && argv[lead] == "--sandbox" { lead += 1 }
    if lead < argv.count && argv[lead] == "sweep" {
        if let err = Toolkit.open(L) { run.message(err); return 1 }
        run.createArgTable(argv, script: argv.count > lead + 1 ? lead + 1 : lead)
        sslua_gc_generational(L)
        if run.handleInit() != LUA_OK { return 1 }
        return run.sweep((lead > 1 ? ["--sandbox"] : []) + Array(argv.dropFirst(lead + 1)))
    }

    // `sslua [--sandbox] kernel ...`: a Jupyter kernel, or `kernel install` (Kernel.swift).
    if lead < argv.count && argv[lead] == "kernel" {
        return KernelCommand.main(L, Array(argv[lead...]), sandbox: lead > 1, argv: argv)
    }

    let options = Options(argv)
    if let bad = options.badOption {
        writeError(Options.usage(badOption: bad))
        return 1
    }
    if options.help { fputs(Options.usageText, stdout); return 0 }
    if options.version { printVersion() }
    if options.ignoreEnvironment {
        lua_pushboolean(L, 1)      // tells the package library to ignore LUA_PATH / LUA_CPATH
        lua_setfield(L, sslua_registryindex(), "LUA_NOENV")
    }
    if let err = Toolkit.open(L) { run.message(err); return 1 }
    run.createArgTable(argv, script: options.script)
    sslua_gc_generational(L)   // as lua.c's pmain
    if options.sandbox {
        run.chunkMode = "t"
        if run.dostring("require('sslua.sandbox')()", name: "=--sandbox") != LUA_OK { return 1 }
    }
    if !options.ignoreEnvironment && run.handleInit() != LUA_OK { return 1 }
    if !run.runOptions(argv, limit: options.optionLimit(argc: argv.count)) { return 1 }
    if options.script > 0 && run.handleScript(argv, script: options.script) != LUA_OK { return 1 }

    if options.interactive {
        startREPL(run)
    } else if options.script == 0 && !options.hasExecute && !options.version {
        if isatty(0) != 0 {
            printVersion()
            startREPL(run)
        } else if run.dofile(nil) != LUA_OK {
            return 1
        }
    }
    return 0
}

/// `sslua 0.1.0  Lua 5.4.4` (the Lua release sslua was built against).
func printVersion() {
    print("sslua \(Toolkit.version)  Lua \(LUA_VERSION_MAJOR).\(LUA_VERSION_MINOR).\(LUA_VERSION_RELEASE)")
    fflush(stdout)
}

/// libedit when standard input is a terminal, plain lines otherwise.
func startREPL(_ run: Runner) {
    let reader: LineReader
    if isatty(0) != 0 {
        Completion.state = run.L
        reader = EditLineReader()
    } else {
        reader = PlainLineReader()
    }
    REPL(run: run, reader: reader).loop()
}

exit(sslua(CommandLine.arguments))

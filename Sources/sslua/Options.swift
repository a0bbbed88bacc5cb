/// The command line, read the way Lua 5.4's `lua` reads it (`collectargs` in `lua.c`): options
/// come first and stop at the first non-option (the script), at `--`, or at `-` (stdin).
/// Only the options that matter before any Lua code runs are collected here; `-e`, `-l` and
/// `-W` are run in order later by `Runner.runOptions`, over `argv[1..<optionLimit]`.
struct Options {
    /// `-i`: enter the REPL after the script.
    var interactive = false
    /// `-v` (also implied by `-i`): print the version first.
    var version = false
    /// `-e` was given: no REPL or stdin script by default.
    var hasExecute = false
    /// `-E`: ignore `SSLUA_INIT`/`LUA_INIT*`, `LUA_PATH` and `LUA_CPATH`.
    var ignoreEnvironment = false
    /// Index in argv of the script (`-` included), 0 when there is none.
    var script = 0
    /// `--sandbox`: run with no processes, no native code and writes confined to the results
    /// directory (`lua/sslua/sandbox.lua`).
    var sandbox = false
    /// `--help`: print the usage on stdout and exit 0.
    var help = false
    /// The offending argument when the command line is invalid.
    var badOption: String?

    /// argv indices below this are options.
    func optionLimit(argc: Int) -> Int { script > 0 ? script : argc }

    init(_ argv: [String]) {
        var i = 1
        while i < argv.count {
            let a = Array(argv[i].utf8)
            script = i
            guard a.first == UInt8(ascii: "-") else { return }     // the script name
            if argv[i] == "--sandbox" { sandbox = true; i += 1; continue }
            if argv[i] == "--help" { help = true; i += 1; continue }
            let option = a.count > 1 ? a[1] : 0
            let alone = a.count == 2
            switch option {
            case UInt8(ascii: "-"):                                  // `--`
                guard alone else { badOption = argv[i]; return }
                script = i + 1 < argv.count ? i + 1 : 0
                return
            case 0:                                                  // `-`: stdin is the script
                return
            case UInt8(ascii: "E"):
                guard alone else { badOption = argv[i]; return }
                ignoreEnvironment = true
            case UInt8(ascii: "W"):
                guard alone else { badOption = argv[i]; return }
            case UInt8(ascii: "i"), UInt8(ascii: "v"):
                guard alone else { badOption = argv[i]; return }
                if option == UInt8(ascii: "i") { interactive = true }
                version = true
            case UInt8(ascii: "e"), UInt8(ascii: "l"):
                if option == UInt8(ascii: "e") { hasExecute = true }
                if alone {                                           // argument in the next word
                    i += 1
                    guard i < argv.count, !argv[i].hasPrefix("-") else { badOption = argv[i - 1]; return }
                }
            default:
                badOption = argv[i]; return
            }
            i += 1
        }
        script = 0
    }

    /// `lua.c`'s usage text, preceded by what was wrong with `badOption`.
    static func usage(badOption: String) -> String {
        let b = Array(badOption.utf8)
        let needsArgument = b.count == 2 && (b[1] == UInt8(ascii: "e") || b[1] == UInt8(ascii: "l"))
        let problem = needsArgument ? "'\(badOption)' needs argument" : "unrecognized option '\(badOption)'"
        return "sslua: \(problem)\n" + usageText
    }

    /// The usage text, printed alone by `--help`.
    static let usageText = """
        usage: sslua [options] [script [args]]
               sslua [--sandbox] sweep file.lua [args]
               sslua [--sandbox] kernel -f CONNECTION_FILE   (a Jupyter kernel)
               sslua kernel install [--user | --prefix DIR]
        Available options are:
          -e stat   execute string 'stat'
          -i        enter interactive mode after executing 'script'
          -l mod    require library 'mod' into global 'mod'
          -l g=mod  require library 'mod' into global 'g'
          -v        show version information
          -E        ignore environment variables
          -W        turn warnings on
          --sandbox no processes or native code; files written only under results/
          --        stop handling options
          --help    show this help and exit
          -         stop handling options and execute stdin
        In the REPL, help(f) or ?name prints the documentation of a function
        (sslua.help(f) returns it); docs/API.md is the reference.

        """
}

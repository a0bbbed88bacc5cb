import CEdit
import Foundation

/// What reading a line gave.
enum LineInput {
    case line(String)
    /// Ctrl-C at the prompt: the line typed so far is dropped and the session goes on.
    case interrupted
    /// Ctrl-D on an empty line, or the end of piped input.
    case end
}

/// Where the REPL gets its lines: libedit on a terminal, plain `stdin` otherwise (so that
/// `sslua -i < file` and tests can pipe input).
protocol LineReader {
    /// Shows `prompt` and reads one line without its newline.
    func read(prompt: String) -> LineInput
    /// Remembers a complete statement in the history.
    func save(_ line: String)
}

/// Line editing, completion and a persistent history (`~/.sslua_history`) through libedit's
/// readline interface.
///
/// Ctrl-C at the prompt (as python, IPython and `th`): libedit's own signal handling is off
/// (`rl_catch_signals = 0`; it would restore the default action and re-send SIGINT, killing
/// the session), and while `readline` waits, SIGINT has a handler that does nothing but,
/// installed without `SA_RESTART`, makes the `read` in `getc` fail with `EINTR`. `getc` then
/// notes the interruption and hands libedit a newline, so `readline` returns at once; the
/// line it returns is dropped.
final class EditLineReader: LineReader {
    private let historyPath: String?
    nonisolated(unsafe) fileprivate static var interrupted = false

    init() {
        rl_readline_name = UnsafePointer(strdup("sslua"))
        rl_catch_signals = 0
        rl_getc_function = editGetc
        using_history()
        stifle_history(1000)
        if let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty {
            historyPath = home + "/.sslua_history"
            if let path = historyPath, FileManager.default.fileExists(atPath: path) {
                _ = read_history(path)
            }
        } else {
            historyPath = nil
        }
        Completion.install()
    }

    func read(prompt: String) -> LineInput {
        EditLineReader.interrupted = false
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0                       // no SA_RESTART: read() returns EINTR
        var previous = sigaction()
        sigaction(SIGINT, &action, &previous)
        let p = readline(prompt)
        sigaction(SIGINT, &previous, nil)
        defer { free(p) }
        if EditLineReader.interrupted {
            EditLineReader.interrupted = false
            return .interrupted
        }
        guard let p = p else { return .end }
        return .line(String(cString: p))
    }

    /// Adds the line and rewrites the history file at once, so a killed session keeps it.
    func save(_ line: String) {
        guard !line.isEmpty else { return }
        _ = add_history(line)
        if let path = historyPath { _ = write_history(path) }
    }
}

/// libedit's character source: one UTF-8 character from the terminal as a code point, -1 at
/// the end of input; a newline when SIGINT interrupted the wait (see `EditLineReader`).
private let editGetc: @convention(c) (UnsafeMutablePointer<FILE>?) -> Int32 = { stream in
    let fd = stream.map { fileno($0) } ?? 0
    func byte() -> Int32? {
        var c: UInt8 = 0
        while true {
            let n = Foundation.read(fd, &c, 1)
            if n == 1 { return Int32(c) }
            if n < 0 && errno == EINTR {
                EditLineReader.interrupted = true
                return nil
            }
            return -1
        }
    }
    guard let first = byte() else { return 10 }
    guard first >= 0xC0 && first < 0xF8 else { return first }
    let extra = first >= 0xF0 ? 3 : first >= 0xE0 ? 2 : 1
    var code = first & (0x3F >> Int32(extra))
    for _ in 0..<extra {
        guard let b = byte() else { return 10 }
        guard b >= 0x80 && b < 0xC0 else { return b < 0 ? -1 : b }
        code = (code << 6) | (b & 0x3F)
    }
    return code
}

/// Unedited input, as `lua.c` without readline: the prompt goes to stdout, lines come from
/// the C `stdin` stream.
final class PlainLineReader: LineReader {
    func read(prompt: String) -> LineInput {
        fputs(prompt, stdout)
        fflush(stdout)
        guard let line = readLine(strippingNewline: true) else { return .end }
        return .line(line)
    }

    func save(_ line: String) {}
}

import CEdit
import Foundation

/// Where the REPL gets its lines: libedit on a terminal, plain `stdin` otherwise (so that
/// `sslua -i < file` and tests can pipe input).
protocol LineReader {
    /// Shows `prompt` and reads one line without its newline; nil at end of input.
    func read(prompt: String) -> String?
    /// Remembers a complete statement in the history.
    func save(_ line: String)
}

/// Line editing, completion and a persistent history (`~/.sslua_history`) through libedit's
/// readline interface.
final class EditLineReader: LineReader {
    private let historyPath: String?

    init() {
        rl_readline_name = UnsafePointer(strdup("sslua"))
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

    func read(prompt: String) -> String? {
        guard let p = readline(prompt) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// Adds the line and rewrites the history file at once, so a killed session keeps it.
    func save(_ line: String) {
        guard !line.isEmpty else { return }
        _ = add_history(line)
        if let path = historyPath { _ = write_history(path) }
    }
}

/// Unedited input, as `lua.c` without readline: the prompt goes to stdout, lines come from
/// the C `stdin` stream.
final class PlainLineReader: LineReader {
    func read(prompt: String) -> String? {
        fputs(prompt, stdout)
        fflush(stdout)
        return readLine(strippingNewline: true)
    }

    func save(_ line: String) {}
}

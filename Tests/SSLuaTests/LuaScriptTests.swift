import Foundation
import Testing

/// Runs every `Tests/lua/test_*.lua` through the real `sslua` program, one test case each,
/// from the repository root (so tests find `Tests/fixtures/` by relative path).
enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The `sslua` executable built next to this test bundle.
    static var binary: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<3 {
            let cand = dir.appendingPathComponent("sslua")
            if FileManager.default.isExecutableFile(atPath: cand.path) { return cand }
            dir = dir.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/release/sslua")
    }

    static func luaTests() -> [String] {
        let dir = root.appendingPathComponent("Tests/lua")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasPrefix("test_") && $0.hasSuffix(".lua") }.sorted()
    }
}

struct RunResult { let status: Int32; let stdout: String; let stderr: String }

/// Runs sslua with `args` (and optional stdin) from the repository root.
func runSSLua(_ args: [String], stdin: String? = nil, env: [String: String] = [:]) throws -> RunResult {
    try runProcess(Paths.binary, args, stdin: stdin, env: env)
}

/// Runs `executable` with `args` (and optional stdin) from the repository root; `env` is
/// added to this process's environment.
func runProcess(_ executable: URL, _ args: [String], stdin: String? = nil,
                env: [String: String] = [:]) throws -> RunResult {
    let p = Process()
    p.executableURL = executable
    p.arguments = args
    p.currentDirectoryURL = Paths.root
    var e = ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    p.environment = e
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    // a hung program (a deadlocked worker pool, say) fails its test instead of stalling CI
    let watchdog = DispatchWorkItem { if p.isRunning { p.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + 600, execute: watchdog)
    defer { watchdog.cancel() }
    if let s = stdin { inp.fileHandleForWriting.write(s.data(using: .utf8)!) }
    try? inp.fileHandleForWriting.close()
    // read both pipes concurrently so neither fills up
    var errData = Data()
    let done = DispatchSemaphore(value: 0)
    let t = Thread { errData = err.fileHandleForReading.readDataToEndOfFile(); done.signal() }
    t.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    done.wait()  // (polling isExecuting raced with the thread's start and lost stderr)
    return RunResult(status: p.terminationStatus,
                     stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

@Test(arguments: Paths.luaTests())
func luaTestFile(_ name: String) throws {
    let r = try runSSLua(["Tests/lua/" + name])
    #expect(r.status == 0, "\(name) failed:\n\(r.stderr)\n\(r.stdout.suffix(2000))")
}

import CLua
import CLuaShim
import CRuntime
import CZMQ
import Foundation
import SSLua

/// `sslua kernel -f CONNECTION_FILE`: a Jupyter kernel (messaging protocol 5.3, docs/NOTEBOOKS.md).
///
/// Threads: the main thread owns the Lua state and the shell socket (requests run one at a
/// time, in order); the control thread answers `kernel_info`, `interrupt` and `shutdown` while
/// a cell runs; the heartbeat thread echoes; the output thread forwards what the process
/// writes on file descriptors 1 and 2 (Lua's `print`, `io.write`, native code) as `stream`
/// messages. iopub is shared, behind a lock. An interrupt raises SIGINT on the control
/// thread once the cell's handler (`sslua_docall`'s) is installed: the hook stops Lua code and
/// the flag stops native kernels, as Ctrl-C does in the REPL.

/// The kernel's log: the original standard error (fd 2 carries the cells' stderr stream).
nonisolated(unsafe) var kernelLogFD: Int32 = 2

func kernelLog(_ s: String) {
    let line = "sslua kernel: \(s)\n"
    _ = line.withCString { write(kernelLogFD, $0, strlen($0)) }
}

/// A mutex over a value.
final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
    func with<R>(_ f: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return f(&value) }
}

/// The iopub socket, with the parent of the request being served (for streams).
final class KernelIOPub: @unchecked Sendable {
    let socket: ZSocket
    let wire: KernelWire
    let lock = NSLock()
    /// The request whose outputs are being published (streams are its children); read and
    /// written under `lock` (the output thread reads it).
    private var current: KernelMessage?

    init(_ socket: ZSocket, _ wire: KernelWire) { self.socket = socket; self.wire = wire }

    var parent: KernelMessage? {
        get { lock.lock(); defer { lock.unlock() }; return current }
        set { lock.lock(); current = newValue; lock.unlock() }
    }

    func publish(_ type: String, _ content: [String: Any], parent: KernelMessage?) {
        lock.lock(); defer { lock.unlock() }
        socket.send(wire.encode(type, content: content, parent: parent, identities: [Data(type.utf8)]))
    }

    /// Publishes a child of the current request.
    func publishToCurrent(_ type: String, _ content: [String: Any]) {
        lock.lock(); defer { lock.unlock() }
        socket.send(wire.encode(type, content: content, parent: current, identities: [Data(type.utf8)]))
    }

    func status(_ s: String, parent: KernelMessage?) { publish("status", ["execution_state": s], parent: parent) }
}

/// Fds 1 and 2 go into pipes; their bytes become `stream` messages (stdout / stderr).
final class KernelOutput: @unchecked Sendable {
    let iopub: KernelIOPub
    private var fds: [(name: String, fd: Int32)] = []
    private var pending: [Int32: [UInt8]] = [:]      // an incomplete UTF-8 sequence held back
    private let lock = NSLock()

    init(_ iopub: KernelIOPub) { self.iopub = iopub }

    /// Redirects 0 (from /dev/null), 1 and 2; false if a pipe cannot be made.
    func capture() -> Bool {
        kernelLogFD = dup(2)
        if kernelLogFD < 0 { kernelLogFD = 2 }
        let null = open("/dev/null", O_RDONLY)
        if null >= 0 { dup2(null, 0); close(null) }
        for (name, target) in [("stdout", Int32(1)), ("stderr", Int32(2))] {
            var p: [Int32] = [0, 0]
            guard pipe(&p) == 0 else { return false }
            fflush(target == 1 ? stdout : stderr)
            dup2(p[1], target)
            close(p[1])
            _ = fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK)
            fds.append((name, p[0]))
        }
        setvbuf(stdout, nil, _IOLBF, 1 << 16)   // print's pieces leave as one line
        return true
    }

    /// The output thread: waits for bytes and publishes them.
    func start() {
        let t = Thread { [self] in
            var pfds = fds.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            while true {
                let n = poll(&pfds, nfds_t(pfds.count), 100)
                if n > 0 { drainPipes() } else { fflush(stdout) }   // a line not finished yet
            }
        }
        t.stackSize = 1 << 20
        t.start()
    }

    /// Publishes everything written so far (called before any other output of a cell, so
    /// that streams and results arrive in the order they were made).
    func flush() {
        fflush(stdout)
        fflush(stderr)
        drainPipes()
    }

    private func drainPipes() {
        lock.lock(); defer { lock.unlock() }
        var buf = [UInt8](repeating: 0, count: 65536)
        for (name, fd) in fds {
            var bytes = pending[fd] ?? []
            while true {
                let n = read(fd, &buf, buf.count)
                if n <= 0 { break }
                bytes.append(contentsOf: buf[0..<n])
                if bytes.count > 1 << 20 { break }
            }
            let keep = KernelOutput.incompleteTail(bytes)
            pending[fd] = Array(bytes.suffix(keep))
            let text = bytes.dropLast(keep)
            if !text.isEmpty {
                iopub.publishToCurrent("stream", ["name": name, "text": String(decoding: text, as: UTF8.self)])
            }
        }
    }

    /// How many final bytes start a UTF-8 sequence that is not complete yet (0 to 3).
    static func incompleteTail(_ b: [UInt8]) -> Int {
        var i = b.count - 1
        var back = 0
        while i >= 0 && back < 3 && b[i] & 0xC0 == 0x80 { i -= 1; back += 1 }
        guard i >= 0 else { return 0 }
        let lead = b[i]
        let need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return need > back + 1 ? back + 1 : 0
    }
}

final class KernelServer: @unchecked Sendable {
    let info: ConnectionInfo
    let wire: KernelWire
    let ctx: UnsafeMutableRawPointer
    var shell, control, stdinSocket, hb: ZSocket!
    var iopub: KernelIOPub!
    var output: KernelOutput!
    let exec: KernelExec
    var executionCount = 0
    /// The execute_request being run, and whether it allows input requests (main thread only).
    var executing: (msg: KernelMessage, allowStdin: Bool)?
    /// A cell is running / an interrupt was delivered to it / shutdown asked.
    let state = Locked((running: false, interruptSent: false, shutdown: false))

    init(info: ConnectionInfo, exec: KernelExec) throws {
        self.info = info
        wire = KernelWire(key: Array(info.key.utf8))
        guard let c = zmq_ctx_new() else { throw KernelFailure("cannot create a ZeroMQ context") }
        ctx = c
        self.exec = exec
        func make(_ type: Int32, _ channel: String) throws -> ZSocket {
            guard let s = ZSocket(ctx, type: type) else { throw KernelFailure("cannot create a socket") }
            if let err = s.bind(info.endpoint(channel)) {
                throw KernelFailure("cannot bind \(channel.dropLast(5)) to \(info.endpoint(channel)): \(err)")
            }
            return s
        }
        shell = try make(ZMQ_ROUTER, "shell_port")
        control = try make(ZMQ_ROUTER, "control_port")
        stdinSocket = try make(ZMQ_ROUTER, "stdin_port")
        hb = try make(ZMQ_REP, "hb_port")
        guard let pub = ZSocket(ctx, type: ZMQ_PUB) else { throw KernelFailure("cannot create a socket") }
        if let err = pub.bind(info.endpoint("iopub_port")) {
            throw KernelFailure("cannot bind iopub to \(info.endpoint("iopub_port")): \(err)")
        }
        iopub = KernelIOPub(pub, wire)
        output = KernelOutput(iopub)
    }

    // MARK: threads

    func startHeartbeat() {
        let t = Thread { [hb] in
            while true {
                guard let frames = hb!.receiveFrames() else { usleep(10_000); continue }
                hb!.send(frames)
            }
        }
        t.stackSize = 1 << 20
        t.start()
    }

    func startControl() {
        let t = Thread { [self] in
            while true {
                var item = zmq_pollitem_t(socket: control.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
                guard zmq_poll(&item, 1, 200) > 0, let frames = control.receiveFrames(flags: ZMQ_DONTWAIT) else { continue }
                guard let msg = decode(frames, channel: "control") else { continue }
                iopub.status("busy", parent: msg)
                switch msg.type {
                case "kernel_info_request":
                    reply(control, msg, "kernel_info_reply", kernelInfo())
                case "interrupt_request":
                    interrupt()
                    reply(control, msg, "interrupt_reply", ["status": "ok"])
                case "shutdown_request":
                    shutdown(msg, on: control)
                default:
                    kernelLog("control: ignored a message of type '\(msg.type)'")
                }
                iopub.status("idle", parent: msg)
            }
        }
        t.stackSize = 1 << 20
        t.start()
    }

    /// Stops the running cell: SIGINT on this thread once `sslua_docall`'s handler is in
    /// place (it sets the hook and the native kernels' flag), at most once a cell (the handler
    /// resets itself to the default, which would kill the process).
    func interrupt() {
        let t = Thread { [self] in
            for _ in 0..<400 {                       // up to 2 s for the cell to reach its call
                let go: Bool? = state.with { s in
                    if !s.running || s.interruptSent { return nil }
                    var current = sigaction()
                    sigaction(SIGINT, nil, &current)
                    let h = unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
                    let installed = h != unsafeBitCast(SIG_IGN, to: Int.self) && h != unsafeBitCast(SIG_DFL, to: Int.self)
                    if installed { s.interruptSent = true }
                    return installed
                }
                guard let ready = go else { return }
                if ready { raise(SIGINT); return }
                usleep(5000)
            }
        }
        t.start()
    }

    func shutdown(_ msg: KernelMessage, on socket: ZSocket) {
        let restart = msg.content["restart"] as? Bool ?? false
        reply(socket, msg, "shutdown_reply", ["status": "ok", "restart": restart])
        let wasRunning = state.with { s -> Bool in s.shutdown = true; return s.running }
        if wasRunning { interrupt() }
        // The main loop ends within a poll period; a cell that ignores the interrupt does not
        // keep the process alive.
        let t = Thread {
            sleep(3)
            kernelLog("shutdown: the running cell did not stop; exiting")
            exit(0)
        }
        t.start()
    }

    // MARK: messages

    func decode(_ frames: [Data], channel: String) -> KernelMessage? {
        switch wire.decode(frames) {
        case .success(let m): return m
        case .failure(let e):
            kernelLog("\(channel): dropped a message: \(e)")
            return nil
        }
    }

    func reply(_ socket: ZSocket, _ parent: KernelMessage, _ type: String, _ content: [String: Any]) {
        if !socket.send(wire.encode(type, content: content, parent: parent, identities: parent.identities)) {
            kernelLog("cannot send \(type)")
        }
    }

    /// Sends an `input_request` on the stdin channel to the client of the running
    /// execute_request (its shell identities, as jupyter_client's stdin socket shares them) and
    /// waits for the `input_reply`; stops on an interrupt or shutdown.
    func requestInput(_ prompt: String, password: Bool) -> KernelExec.Input {
        guard let (msg, allow) = executing, allow else { return .unavailable }
        output.flush()                                   // what the cell printed comes first
        while stdinSocket.receiveFrames(flags: ZMQ_DONTWAIT) != nil {}   // stale replies
        let req = wire.encode("input_request", content: ["prompt": prompt, "password": password],
                              parent: msg, identities: msg.identities)
        guard stdinSocket.send(req) else {
            kernelLog("cannot send input_request")
            return .unavailable
        }
        while true {
            if sslua_interrupted() != 0 || state.with({ $0.shutdown }) { return .interrupted }
            var item = zmq_pollitem_t(socket: stdinSocket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
            guard zmq_poll(&item, 1, 100) > 0, let frames = stdinSocket.receiveFrames(flags: ZMQ_DONTWAIT) else { continue }
            guard let reply = decode(frames, channel: "stdin") else { continue }
            guard reply.type == "input_reply" else {
                kernelLog("stdin: ignored a message of type '\(reply.type)'")
                continue
            }
            return .value(reply.content["value"] as? String ?? "")
        }
    }

    func kernelInfo() -> [String: Any] {
        ["status": "ok", "protocol_version": "5.3", "implementation": "sslua",
         "implementation_version": Toolkit.version,
         "language_info": ["name": "lua", "version": "\(LUA_VERSION_MAJOR).\(LUA_VERSION_MINOR)",
                           "mimetype": "text/x-lua", "file_extension": ".lua",
                           "pygments_lexer": "lua", "codemirror_mode": "lua"] as [String: Any],
         "banner": "sslua \(Toolkit.version)  Lua \(LUA_VERSION_MAJOR).\(LUA_VERSION_MINOR).\(LUA_VERSION_RELEASE)",
         "help_links": [] as [Any]]
    }

    /// The main loop: shell requests, one at a time, until shutdown.
    func serve() -> Int32 {
        KernelExec.displaySink = { [self] bundle, id, update in
            output.flush()
            var content: [String: Any] = ["data": bundle, "metadata": [String: Any]()]
            if let id = id { content["transient"] = ["display_id": id] }
            iopub.publishToCurrent(update ? "update_display_data" : "display_data", content)
        }
        KernelExec.inputSink = { [self] prompt, password in requestInput(prompt, password: password) }
        iopub.status("starting", parent: nil)
        while !state.with({ $0.shutdown }) {
            var item = zmq_pollitem_t(socket: shell.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
            guard zmq_poll(&item, 1, 200) > 0, let frames = shell.receiveFrames(flags: ZMQ_DONTWAIT) else { continue }
            guard let msg = decode(frames, channel: "shell") else { continue }
            iopub.parent = msg
            iopub.status("busy", parent: msg)
            handle(msg)
            output.flush()
            iopub.status("idle", parent: msg)
        }
        usleep(100_000)          // let the last replies leave (sockets linger 1 s at close)
        return 0
    }

    func handle(_ msg: KernelMessage) {
        let c = msg.content
        switch msg.type {
        case "kernel_info_request":
            reply(shell, msg, "kernel_info_reply", kernelInfo())
        case "execute_request":
            executeRequest(msg)
        case "complete_request":
            let code = c["code"] as? String ?? ""
            let cursor = (c["cursor_pos"] as? NSNumber)?.intValue ?? code.unicodeScalars.count
            let r = exec.complete(code, cursor: cursor)
            reply(shell, msg, "complete_reply", ["status": "ok", "matches": r.matches, "cursor_start": r.start,
                                                 "cursor_end": r.end, "metadata": [String: Any]()])
        case "inspect_request":
            let code = c["code"] as? String ?? ""
            let cursor = (c["cursor_pos"] as? NSNumber)?.intValue ?? code.unicodeScalars.count
            let text = exec.inspect(code, cursor: cursor)
            output.flush()
            reply(shell, msg, "inspect_reply", ["status": "ok", "found": text != nil,
                                                "data": text.map { ["text/plain": $0] } ?? [String: Any](),
                                                "metadata": [String: Any]()])
        case "is_complete_request":
            let status = exec.isComplete(c["code"] as? String ?? "")
            var content: [String: Any] = ["status": status]
            if status == "incomplete" { content["indent"] = "" }
            reply(shell, msg, "is_complete_reply", content)
        case "comm_info_request":
            reply(shell, msg, "comm_info_reply", ["status": "ok", "comms": [String: Any]()])
        case "history_request":
            reply(shell, msg, "history_reply", ["status": "ok", "history": [Any]()])
        case "shutdown_request":
            shutdown(msg, on: shell)
        default:
            kernelLog("shell: ignored a message of type '\(msg.type)'")
        }
    }

    func executeRequest(_ msg: KernelMessage) {
        let c = msg.content
        let code = c["code"] as? String ?? ""
        let silent = c["silent"] as? Bool ?? false
        let store = c["store_history"] as? Bool ?? !silent
        if store && !silent { executionCount += 1 }
        let count = max(executionCount, 1)
        if !silent { iopub.publish("execute_input", ["code": code, "execution_count": executionCount], parent: msg) }
        state.with { $0.running = true; $0.interruptSent = false }
        executing = (msg, c["allow_stdin"] as? Bool ?? false)
        let outcome = exec.execute(code, count: count)
        executing = nil
        state.with { $0.running = false }
        output.flush()
        switch outcome {
        case .ok(let bundle):
            if let b = bundle, !silent {
                iopub.publish("execute_result", ["execution_count": executionCount, "data": b,
                                                 "metadata": [String: Any]()], parent: msg)
            }
            reply(shell, msg, "execute_reply", ["status": "ok", "execution_count": executionCount,
                                                "user_expressions": [String: Any](), "payload": [Any]()])
        case .error(let ename, let evalue, let traceback):
            let err: [String: Any] = ["ename": ename, "evalue": evalue, "traceback": traceback]
            iopub.publish("error", err, parent: msg)
            var content = err
            content["status"] = "error"
            content["execution_count"] = executionCount
            reply(shell, msg, "execute_reply", content)
        }
    }
}

// MARK: `sslua kernel ...`

enum KernelCommand {
    static let usage = """
        usage: sslua kernel [--sandbox] -f CONNECTION_FILE
               sslua kernel install [--user | --prefix DIR] [--sandbox]

        """

    /// `sslua [--sandbox] kernel ...` (argv from the word `kernel` on).
    static func main(_ L: OpaquePointer, _ args: [String], sandbox: Bool, argv: [String]) -> Int32 {
        var rest = Array(args.dropFirst())
        if rest.first == "install" { return install(Array(rest.dropFirst()), sandbox: sandbox) }
        var file: String?
        var sandboxed = sandbox
        while !rest.isEmpty {
            let a = rest.removeFirst()
            if a == "--sandbox" { sandboxed = true }
            else if a == "-f" || a == "--f", !rest.isEmpty { file = rest.removeFirst() }
            else if a.hasPrefix("--f=") { file = String(a.dropFirst(4)) }
            else if a == "--help" { fputs(usage, stdout); return 0 }
            else { writeError("sslua kernel: unexpected argument '\(a)'\n" + usage); return 1 }
        }
        guard let path = file else { writeError("sslua kernel: -f CONNECTION_FILE is required\n" + usage); return 1 }
        let info: ConnectionInfo
        do { info = try ConnectionInfo.load(path) } catch {
            writeError("sslua kernel: \(error)\n"); return 1
        }
        let exec = KernelExec(Runner(L))
        let server: KernelServer
        do { server = try KernelServer(info: info, exec: exec) } catch {
            writeError("sslua kernel: \(error)\n"); return 1
        }
        signal(SIGINT, SIG_IGN)           // between cells; a cell's call installs its own handler
        signal(SIGPIPE, SIG_IGN)
        guard server.output.capture() else { writeError("sslua kernel: cannot redirect output\n"); return 1 }
        server.output.start()
        server.startHeartbeat()
        server.startControl()
        if let err = exec.setUp(argv: argv, sandbox: sandboxed) {
            kernelLog(err)
            return 1
        }
        server.output.flush()
        return server.serve()
    }

    /// The absolute path of this program (`/proc/self/exe`), else argv[0] made absolute.
    static func programPath() -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        let a0 = CommandLine.arguments.first ?? "sslua"
        return a0.hasPrefix("/") ? a0 : FileManager.default.currentDirectoryPath + "/" + a0
    }

    /// Writes `<data dir>/kernels/sslua/kernel.json`.
    static func install(_ args: [String], sandbox: Bool) -> Int32 {
        var base = "/usr/local/share/jupyter"
        var sandboxed = sandbox
        var rest = args
        while !rest.isEmpty {
            let a = rest.removeFirst()
            switch a {
            case "--user":
                let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
                let xdg = ProcessInfo.processInfo.environment["XDG_DATA_HOME"]
                base = (xdg.flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/share") + "/jupyter"
            case "--prefix":
                guard !rest.isEmpty else { writeError("sslua kernel install: --prefix needs a directory\n"); return 1 }
                base = rest.removeFirst() + "/share/jupyter"
            case "--sandbox": sandboxed = true
            default:
                writeError("sslua kernel install: unexpected argument '\(a)'\n" + usage); return 1
            }
        }
        let dir = base + "/kernels/sslua"
        var argvList = [programPath(), "kernel"]
        if sandboxed { argvList.append("--sandbox") }
        argvList += ["-f", "{connection_file}"]
        let spec: [String: Any] = ["argv": argvList, "display_name": "sslua (Lua 5.4)", "language": "lua",
                                   "interrupt_mode": "message", "metadata": ["debugger": false]]
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let data = try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            try data.write(to: URL(fileURLWithPath: dir + "/kernel.json"))
        } catch {
            writeError("sslua kernel install: cannot write \(dir)/kernel.json: \(error.localizedDescription)\n")
            return 1
        }
        print("Installed kernelspec sslua in \(dir)")
        return 0
    }
}

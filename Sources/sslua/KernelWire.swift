import CCrypto
import CZMQ
import Foundation

/// The Jupyter wire format (messaging protocol 5.3) over ZeroMQ: a message is
/// `[identities..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers...]`
/// where the signature is the hex HMAC-SHA256, under the connection file's key, of the four
/// JSON frames in that order. Nothing here touches Lua.

/// One ZeroMQ socket. ZeroMQ sockets are not thread-safe: each is used by one thread, except
/// iopub, whose sends go through `KernelIOPub`'s lock.
final class ZSocket {
    let handle: UnsafeMutableRawPointer

    init?(_ ctx: UnsafeMutableRawPointer, type: Int32) {
        guard let s = zmq_socket(ctx, type) else { return nil }
        handle = s
        var linger: Int32 = 1000            // at exit, give queued replies a second to leave
        zmq_setsockopt(s, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
    }

    /// Binds to `endpoint`; nil on success, else ZeroMQ's message.
    func bind(_ endpoint: String) -> String? {
        zmq_bind(handle, endpoint) == 0 ? nil : String(cString: zmq_strerror(zmq_errno()))
    }

    /// Receives every frame of one multipart message; nil when interrupted or on error.
    func receiveFrames(flags: Int32 = 0) -> [Data]? {
        var frames: [Data] = []
        while true {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            guard zmq_msg_recv(&msg, handle, flags) >= 0 else { return frames.isEmpty ? nil : frames }
            let size = zmq_msg_size(&msg)
            if size > 0, let p = zmq_msg_data(&msg) {
                frames.append(Data(bytes: p, count: size))
            } else {
                frames.append(Data())
            }
            if zmq_msg_more(&msg) == 0 { return frames }
        }
    }

    /// Sends the frames as one multipart message; false on error.
    @discardableResult
    func send(_ frames: [Data]) -> Bool {
        for (i, f) in frames.enumerated() {
            let more: Int32 = i + 1 < frames.count ? ZMQ_SNDMORE : 0
            let rc = f.withUnsafeBytes { zmq_send(handle, $0.baseAddress, f.count, more) }
            if rc < 0 { return false }
        }
        return true
    }

    func close() { zmq_close(handle) }
}

/// A decoded message: where it came from (ROUTER identities) and its four dictionaries.
struct KernelMessage {
    var identities: [Data]
    var header: [String: Any]
    var parent: [String: Any]
    var metadata: [String: Any]
    var content: [String: Any]

    var type: String { header["msg_type"] as? String ?? "" }
    var session: String { header["session"] as? String ?? "" }
}

/// Signs and checks messages, and builds replies. `key` empty means no signing (the protocol's
/// "authentication disabled").
struct KernelWire {
    static let delimiter = Data("<IDS|MSG>".utf8)
    let key: [UInt8]
    /// This kernel's session id (the `session` of every header it writes).
    let session = UUID().uuidString.lowercased()
    let username = "kernel"

    /// The hex HMAC-SHA256 of the frames concatenated (OpenSSL's one-shot `HMAC`).
    func sign(_ parts: [Data]) -> String {
        guard !key.isEmpty else { return "" }
        var joined = Data()
        for p in parts { joined.append(p) }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var outLen: UInt32 = 0
        let ok = key.withUnsafeBufferPointer { k in
            joined.withUnsafeBytes { d in
                HMAC(EVP_sha256(), k.baseAddress, Int32(clamping: k.count),
                     d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count, &out, &outLen)
            }
        }
        guard ok != nil else { return "" }
        return out.prefix(Int(outLen)).map { String(format: "%02x", $0) }.joined()
    }

    enum DecodeError: Error, CustomStringConvertible {
        case noDelimiter, tooFewFrames, badSignature, badJSON(String)
        var description: String {
            switch self {
            case .noDelimiter: return "no <IDS|MSG> delimiter"
            case .tooFewFrames: return "fewer than the 5 frames after <IDS|MSG>"
            case .badSignature: return "bad signature"
            case .badJSON(let what): return "\(what) is not a JSON object"
            }
        }
    }

    /// Splits, checks the signature (in constant time) and parses a received message.
    func decode(_ frames: [Data]) -> Result<KernelMessage, DecodeError> {
        guard let d = frames.firstIndex(of: KernelWire.delimiter) else { return .failure(.noDelimiter) }
        guard frames.count >= d + 6 else { return .failure(.tooFewFrames) }
        let sig = frames[d + 1]
        let parts = Array(frames[(d + 2)..<(d + 6)])
        if !key.isEmpty {
            let expected = Data(sign(parts).utf8)
            guard sig.count == expected.count, !expected.isEmpty else { return .failure(.badSignature) }
            let same = sig.withUnsafeBytes { a in
                expected.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) }
            }
            guard same == 0 else { return .failure(.badSignature) }
        }
        var dicts: [[String: Any]] = []
        for (i, p) in parts.enumerated() {
            guard let obj = (try? JSONSerialization.jsonObject(with: p)) as? [String: Any] else {
                return .failure(.badJSON(["header", "parent_header", "metadata", "content"][i]))
            }
            dicts.append(obj)
        }
        return .success(KernelMessage(identities: Array(frames[..<d]), header: dicts[0],
                                      parent: dicts[1], metadata: dicts[2], content: dicts[3]))
    }

    /// A header for a new message of `type`.
    func header(_ type: String) -> [String: Any] {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return ["msg_id": UUID().uuidString.lowercased(), "session": session, "username": username,
                "date": f.string(from: Date()), "msg_type": type, "version": "5.3"]
    }

    /// JSON bytes of a dictionary (invalid values have been avoided by construction; an
    /// unserialisable one gives `{}` rather than a crash).
    static func json(_ obj: [String: Any]) -> Data {
        guard JSONSerialization.isValidJSONObject(obj),
              let d = try? JSONSerialization.data(withJSONObject: obj) else { return Data("{}".utf8) }
        return d
    }

    /// The frames of a message of `type` answering `parent` (nil: no parent), to `identities`.
    func encode(_ type: String, content: [String: Any], parent: KernelMessage?,
                identities: [Data], metadata: [String: Any] = [:]) -> [Data] {
        let parts = [KernelWire.json(header(type)), KernelWire.json(parent?.header ?? [:]),
                     KernelWire.json(metadata), KernelWire.json(content)]
        return identities + [KernelWire.delimiter, Data(sign(parts).utf8)] + parts
    }
}

/// The connection file jupyter_client writes (`--f`): where to bind and how to sign.
struct ConnectionInfo {
    var transport = "tcp"
    var ip = "127.0.0.1"
    var ports: [String: Int] = [:]
    var key = ""
    var scheme = "hmac-sha256"

    static let channels = ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"]

    /// Reads and checks the file; throws a message naming the problem.
    static func load(_ path: String) throws -> ConnectionInfo {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KernelFailure("cannot read connection file '\(path)'")
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw KernelFailure("connection file '\(path)' is not a JSON object")
        }
        var info = ConnectionInfo()
        if let t = obj["transport"] as? String { info.transport = t }
        if let ip = obj["ip"] as? String { info.ip = ip }
        if let k = obj["key"] as? String { info.key = k }
        if let s = obj["signature_scheme"] as? String { info.scheme = s }
        guard info.transport == "tcp" || info.transport == "ipc" else {
            throw KernelFailure("unsupported transport '\(info.transport)' (tcp or ipc)")
        }
        guard info.key.isEmpty || info.scheme == "hmac-sha256" else {
            throw KernelFailure("unsupported signature_scheme '\(info.scheme)' (hmac-sha256)")
        }
        for c in channels {
            guard let n = obj[c] as? NSNumber, let p = Int(exactly: n.doubleValue), p >= 0, p < 65536 else {
                throw KernelFailure("connection file: '\(c)' must be a port number")
            }
            info.ports[c] = p
        }
        return info
    }

    func endpoint(_ channel: String) -> String {
        let port = ports[channel] ?? 0
        return transport == "tcp" ? "tcp://\(ip):\(port)" : "ipc://\(ip)-\(port)"
    }
}

struct KernelFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

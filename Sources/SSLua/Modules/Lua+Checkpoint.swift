import CLua
import CLuaShim
import SSLuaCore

/// Natives of the run checkpoints of `lua/sslua/experiment.lua` (`sslua._checkpoint`).
enum CheckpointBindings {
    static var libraries: [LuaLibrary] { [LuaLibrary("sslua._checkpoint", functions)] }

    static let functions: [(String, LuaFunction)] = [
        /// digest(path) -> FNV-1a 64 of the file's bytes as 16 hex digits, and its size in bytes.
        ("digest", { a in
            let (h, size) = try Digest.file(try a.string(1))
            let hex = String(h, radix: 16)
            a.push(String(repeating: "0", count: 16 - hex.count) + hex)
            a.push(size)
            return 2
        }),
    ]
}

import Foundation
import Testing

/// The layering, from the package itself: `SSLuaCore` reaches neither `CLua` nor `CLuaShim`
/// through `Package.swift` (direct or transitive dependencies), no Swift file of the core
/// imports them (or the bindings), and no C file of a module the core depends on includes a
/// Lua header. The old graph (`CShim` depending on `CLua`) is checked to be refused.
@Suite struct LayeringTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let luaModules: Set<String> = ["CLua", "CLuaShim", "SSLua", "sslua"]

    /// Target name -> the quoted names in its `dependencies: [...]` (products included: they
    /// are not targets, so they end the walk).
    static func targets(ofManifest text: String) -> [String: [String]] {
        let kinds = [".target(", ".systemLibrary(", ".executableTarget(", ".testTarget("]
        var starts: [(String.Index, String)] = []
        for kind in kinds {
            var from = text.startIndex
            while let r = text.range(of: kind + "name: \"", range: from..<text.endIndex) {
                if let end = text[r.upperBound...].firstIndex(of: "\"") {
                    starts.append((r.lowerBound, String(text[r.upperBound..<end])))
                }
                from = r.upperBound
            }
        }
        starts.sort { $0.0 < $1.0 }
        var result: [String: [String]] = [:]
        for (k, (start, name)) in starts.enumerated() {
            let end = k + 1 < starts.count ? starts[k + 1].0 : text.endIndex
            let body = text[start..<end]
            var deps: [String] = []
            if let d = body.range(of: "dependencies: [") {
                var depth = 1, i = d.upperBound
                while i < body.endIndex && depth > 0 {
                    if body[i] == "[" { depth += 1 } else if body[i] == "]" { depth -= 1 }
                    i = body.index(after: i)
                }
                let list = body[d.upperBound..<i]
                let parts = list.split(separator: "\"", omittingEmptySubsequences: false)
                for (j, part) in parts.enumerated() where j % 2 == 1 { deps.append(String(part)) }
            }
            result[name] = deps
        }
        return result
    }

    /// Every target `name` depends on, directly or not.
    static func closure(of name: String, in graph: [String: [String]]) -> Set<String> {
        var seen: Set<String> = [], stack = graph[name] ?? []
        while let n = stack.popLast() {
            if seen.insert(n).inserted { stack += graph[n] ?? [] }
        }
        return seen
    }

    @Test func coreDoesNotReachLuaInThePackageGraph() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let graph = Self.targets(ofManifest: text)
        #expect(graph["SSLuaCore"] != nil, "SSLuaCore not found in Package.swift")
        #expect(graph["CRuntime"] != nil && graph["CLuaShim"] != nil)
        let reach = Self.closure(of: "SSLuaCore", in: graph)
        #expect(reach.isDisjoint(with: Self.luaModules), "SSLuaCore reaches \(reach.intersection(Self.luaModules))")
        #expect(reach.contains("CRuntime"))
        // the core test target tests the core alone
        #expect(Self.closure(of: "SSLuaCoreTests", in: graph).isDisjoint(with: Self.luaModules))
        // the bindings and the program do use the Lua shim
        #expect(Self.closure(of: "SSLua", in: graph).contains("CLuaShim"))
    }

    @Test func theOldGraphIsRefused() {
        // Package.swift before the split: CShim, which the core imported, depended on CLua.
        let old = """
        .systemLibrary(name: "CLua", path: "Sources/CLua", pkgConfig: "lua5.4"),
        .target(name: "CShim", dependencies: ["CLua", "COpenBLAS", "CLapacke"],
                cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "CDist", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "SSLuaCore",
                dependencies: ["CShim", "CDist", "COpenBLAS", "CLapacke", "CZlib", "CPNG", "CZip",
                               .product(name: "RealModule", package: "swift-numerics")],
                swiftSettings: optimize),
        .target(name: "SSLua", dependencies: ["SSLuaCore", "CShim", "CLua"], swiftSettings: optimize),
        """
        let graph = Self.targets(ofManifest: old)
        #expect(graph["CShim"] == ["CLua", "COpenBLAS", "CLapacke"])
        #expect(Self.closure(of: "SSLuaCore", in: graph).contains("CLua"))
    }

    /// Files under `dir` (relative to the root) whose name ends with one of `suffixes`.
    static func files(under dir: String, suffixes: [String]) -> [URL] {
        let base = root.appendingPathComponent(dir)
        guard let e = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        return e.compactMap { $0 as? URL }.filter { u in suffixes.contains { u.path.hasSuffix($0) } }
    }

    @Test func noCoreSourceImportsLua() throws {
        let swift = Self.files(under: "Sources/SSLuaCore", suffixes: [".swift"])
        #expect(swift.count > 50, "Sources/SSLuaCore not found from \(Self.root.path)")
        var offenders: [String] = []
        for url in swift {
            let text = try String(contentsOf: url, encoding: .utf8)
            for line in text.split(separator: "\n") {
                // `import X`, `@testable import X`, `import func X.f`, `public import X`, ...
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "." })
                guard let k = words.firstIndex(of: "import"),
                      words[..<k].allSatisfy({ $0.hasPrefix("@") || ["public", "internal", "private", "fileprivate", "package"].contains($0) })
                else { continue }
                let rest = words[(k + 1)...].filter { !["typealias", "struct", "class", "enum", "protocol", "let", "var", "func"].contains($0) }
                if let module = rest.first, Self.luaModules.contains(String(module)) {
                    offenders.append("\(url.lastPathComponent): \(line)")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
        // the C modules the core depends on: no Lua header
        for dir in ["Sources/CRuntime", "Sources/CDist"] {
            let c = Self.files(under: dir, suffixes: [".c", ".h"])
            #expect(!c.isEmpty, "\(dir) has no C files")
            for url in c {
                let text = try String(contentsOf: url, encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("#include") {
                    let lua = ["lua.h", "lauxlib.h", "lualib.h", "luaconf.h", "CLuaShim.h"].contains { line.contains($0) }
                    #expect(!lua, "\(url.lastPathComponent): \(line)")
                }
            }
        }
    }
}

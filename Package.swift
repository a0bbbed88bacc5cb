// swift-tools-version:5.9
import PackageDescription

/// sslua: Lua 5.4 + a float tensor core on OpenBLAS/LAPACKE, for the geometry of contrastive SSL.
///
/// Layout: system libraries come in through pkg-config (one modulemap each). Two C modules of
/// our own: `CRuntime` (worker pool, memory counters, interrupt flag, CPU check; no Lua) and
/// `CLuaShim` (Lua's macros as inline functions, the error trampoline, the Lua allocator, the
/// SIGINT hook). `SSLuaCore` is pure Swift compute (tensors, autograd, kernels) and depends on
/// neither `CLua` nor `CLuaShim`: the graph, not a convention, keeps Lua out of it
/// (`Tests/SSLuaCoreTests/LayeringTests.swift` checks). `SSLua` binds it to Lua (one file per
/// Lua module); `sslua` is the program.
/// Release builds target Haswell-class x86-64 (AVX2 + FMA), which every machine this project
/// runs on has: the SIMD kernels and auto-vectorised loops are about 1.3-1.8x faster than with
/// the SSE2 baseline. `CRuntime` checks the CPU at start-up and refuses older ones with a message.
#if arch(x86_64)
let cpuFlags = ["-target-cpu", "haswell"]
#else
let cpuFlags: [String] = []
#endif
let optimize: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"] + cpuFlags, .when(configuration: .release)),
]
let optimizeC: [CSetting] = [.unsafeFlags(["-O2"])]

/// A system library: its module map in Sources/<name>, found by pkg-config, its headers from apt.
func system(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/" + name, pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let package = Package(
    name: "sslua",
    products: [
        .executable(name: "sslua", targets: ["sslua"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        system("CLua", pkgConfig: "lua5.4", apt: "liblua5.4-dev"),
        system("COpenBLAS", pkgConfig: "openblas", apt: "libopenblas-dev"),
        system("CLapacke", pkgConfig: "lapacke", apt: "liblapacke-dev"),
        system("CEdit", pkgConfig: "libedit", apt: "libedit-dev"),
        system("CZlib", pkgConfig: "zlib", apt: "zlib1g-dev"),
        system("CPNG", pkgConfig: "libpng", apt: "libpng-dev"),
        system("CZip", pkgConfig: "libzip", apt: "libzip-dev"),
        // The Jupyter kernel (`sslua kernel`): ZeroMQ sockets and HMAC-SHA256 message signing.
        system("CZMQ", pkgConfig: "libzmq", apt: "libzmq3-dev"),
        system("CCrypto", pkgConfig: "libcrypto", apt: "libssl-dev"),
        // No Lua: the C runtime of the core (pool.c calls OpenBLAS to settle its threads).
        .target(name: "CRuntime", dependencies: ["COpenBLAS"],
                cSettings: optimizeC),
        // Lua's side, for the bindings and the program only.
        .target(name: "CLuaShim", dependencies: ["CRuntime", "CLua"],
                cSettings: optimizeC),
        // MPI for sslua.dist, loaded at run time (dlopen): no link or build dependency on MPI.
        .target(name: "CDist", cSettings: optimizeC),
        .target(name: "SSLuaCore",
                dependencies: ["CRuntime", "CDist", "COpenBLAS", "CLapacke", "CZlib", "CPNG", "CZip",
                               .product(name: "RealModule", package: "swift-numerics")],
                swiftSettings: optimize),
        .target(name: "SSLua", dependencies: ["SSLuaCore", "CRuntime", "CLuaShim", "CLua"],
                swiftSettings: optimize),
        .executableTarget(name: "sslua", dependencies: ["SSLua", "CRuntime", "CLuaShim", "CLua", "CEdit", "CZMQ", "CCrypto"],
                          swiftSettings: optimize),
        .testTarget(name: "SSLuaTests", dependencies: ["sslua"]),
        // The core on its own, without Lua: kernels, autograd, linalg, readers.
        .testTarget(name: "SSLuaCoreTests", dependencies: ["SSLuaCore"]),
    ]
)

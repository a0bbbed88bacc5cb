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

let package = Package(
    name: "sslua",
    products: [
        .executable(name: "sslua", targets: ["sslua"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CLua", path: "Sources/CLua", pkgConfig: "lua5.4",
                       providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLapacke", path: "Sources/CLapacke", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CEdit", path: "Sources/CEdit", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZip", path: "Sources/CZip", pkgConfig: "libzip",
                       providers: [.apt(["libzip-dev"])]),
        // The Jupyter kernel (`sslua kernel`): ZeroMQ sockets and HMAC-SHA256 message signing.
        .systemLibrary(name: "CZMQ", path: "Sources/CZMQ", pkgConfig: "libzmq",
                       providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        // No Lua: the C runtime of the core (pool.c calls OpenBLAS to settle its threads).
        .target(name: "CRuntime", dependencies: ["COpenBLAS"],
                cSettings: [.unsafeFlags(["-O2"])]),
        // Lua's side, for the bindings and the program only.
        .target(name: "CLuaShim", dependencies: ["CRuntime", "CLua"],
                cSettings: [.unsafeFlags(["-O2"])]),
        // MPI for sslua.dist, loaded at run time (dlopen): no link or build dependency on MPI.
        .target(name: "CDist", cSettings: [.unsafeFlags(["-O2"])]),
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

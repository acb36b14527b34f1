// swift-tools-version:6.1
import PackageDescription

// Dynamic exclusivity checks cost a runtime call per class-property access on
// the data path; release builds rely on the static checks (and debug builds,
// which keep the dynamic ones, run the tests). Cross-module optimization lets
// a data-path module inline and specialize what it calls in the modules below
// it (stats counters, byte slices, header maps, timers) instead of calling
// their generic entry points.
let fastRelease: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release)),
]
// The generated API messages keep their fields in a class (`_StorageClass`):
// every field a decoder sets or a compiler reads was a dynamic exclusivity
// check, about a tenth of the CPU to apply an xDS push
// (Benchmarks/xds_bench.py, perf). Not cross-module-optimized: it would
// inline the whole API into its users.
let apiRelease: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Remora",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "remora", targets: ["remora"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    ],
    targets: [
        // System libraries: each is imported by exactly one Swift module (DESIGN.md §5).
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .target(name: "CRemoraShims"),
        .target(name: "CRE2", linkerSettings: [.linkedLibrary("re2")]),

        .target(name: "RemoraCore", dependencies: ["CRemoraShims", .product(name: "Atomics", package: "swift-atomics")], swiftSettings: fastRelease),
        .target(name: "RemoraEventLoop", dependencies: ["CLibUV", "CRemoraShims", "RemoraCore"], swiftSettings: fastRelease),
        .target(name: "RemoraTLS", dependencies: ["COpenSSL", "RemoraCore"], swiftSettings: fastRelease),
        .target(name: "RemoraHTTP", dependencies: ["CNGHTTP2", "CRemoraShims", "RemoraCore"], swiftSettings: fastRelease),
        .target(
            name: "RemoraAPI",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: [.swiftLanguageMode(.v5)] + apiRelease
        ),
        .target(name: "RemoraConfig", dependencies: [
            "RemoraCore", "RemoraAPI", "CRE2", "RemoraTLS",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: apiRelease),
        .target(name: "RemoraUpstream", dependencies: ["RemoraCore", "RemoraEventLoop", "RemoraConfig", "RemoraHTTP"], swiftSettings: fastRelease),
        .target(name: "RemoraFilters", dependencies: ["RemoraCore", "RemoraEventLoop", "RemoraConfig", "RemoraUpstream", "RemoraHTTP"], swiftSettings: fastRelease),
        .target(name: "RemoraXDS", dependencies: [
            "RemoraCore", "RemoraEventLoop", "RemoraConfig", "RemoraUpstream", "RemoraHTTP", "RemoraAPI",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .target(name: "RemoraServer", dependencies: [
            "RemoraCore", "RemoraEventLoop", "RemoraConfig", "RemoraUpstream", "RemoraFilters", "RemoraTLS", "RemoraHTTP", "RemoraXDS",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "remora", dependencies: [
            "RemoraServer", "RemoraConfig", "RemoraEventLoop",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The fuzzers' seeded PRNG and run settings, shared by the test targets.
        .target(name: "RemoraFuzzSupport", path: "Tests/RemoraFuzzSupport"),
        .testTarget(name: "RemoraCoreTests", dependencies: ["RemoraCore"]),
        .testTarget(name: "RemoraTLSTests", dependencies: ["RemoraTLS", "RemoraCore"]),
        .testTarget(name: "RemoraHTTPTests", dependencies: ["RemoraHTTP", "RemoraCore", "RemoraFuzzSupport"], exclude: ["ENVOY_BEHAVIOUR.md"]),
        .testTarget(name: "RemoraUpstreamTests", dependencies: ["RemoraUpstream", "RemoraConfig", "RemoraCore", "RemoraEventLoop", "RemoraHTTP"]),
        .testTarget(name: "RemoraFiltersTests", dependencies: ["RemoraFilters", "RemoraConfig", "RemoraCore", "RemoraHTTP", "RemoraFuzzSupport"]),
        .testTarget(name: "RemoraEventLoopTests", dependencies: ["RemoraEventLoop", "RemoraCore"]),
        .testTarget(name: "RemoraConfigTests", dependencies: ["RemoraConfig", "RemoraAPI", "RemoraFuzzSupport"]),
        .testTarget(name: "RemoraXDSTests", dependencies: ["RemoraXDS", "RemoraConfig", "RemoraAPI", "RemoraCore", "RemoraEventLoop", "RemoraUpstream"]),
        .testTarget(name: "RemoraServerTests", dependencies: ["RemoraServer", "RemoraEventLoop", "RemoraCore", "RemoraConfig"]),
    ],
    cxxLanguageStandard: .cxx17
)

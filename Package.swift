// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
]

// The numeric modules are optimised even in debug builds: unoptimised SIMD loops run a hundred times slower,
// which would make the end-to-end tests (hundreds of images through the network) take an hour.
let numeric: [SwiftSetting] = strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "trapline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trapline", targets: ["trapline"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "Inference", targets: ["Inference"]),
        .library(name: "Labels", targets: ["Labels"]),
        .library(name: "Catalog", targets: ["Catalog"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "RingWire", targets: ["RingWire"]),
        .library(name: "Ring", targets: ["Ring"]),
        .library(name: "Control", targets: ["Control"]),
        .library(name: "Appliance", targets: ["Appliance"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // No default traits: JSON and YAML parsing pull in full Foundation (docs/footprint.md); trapline reads its
        // YAML itself (Appliance/Config/YAMLSubset.swift).
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: []),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.96.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.34.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.27.0"),
        // No default traits: FullFoundation brings DateFormatter and with it ICU.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // libjpeg-turbo behind a C shim: libjpeg reports errors by longjmp, which must never cross Swift frames.
        .target(
            name: "CJPEG",
            cSettings: [.unsafeFlags(["-Wall", "-Werror"])],
            linkerSettings: [.linkedLibrary("jpeg")]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "Imaging",
            dependencies: ["CJPEG", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: numeric
        ),
        .target(
            name: "Inference",
            dependencies: ["COpenBLAS", "Imaging", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: numeric
        ),
        // What to write: the labeller (roll-up, observation types), bursts' crops and events, a site's own head. The
        // engine computes; this module decides.
        .target(
            name: "Labels",
            dependencies: [
                "COpenBLAS", "Imaging", "Inference", .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: numeric
        ),
        .target(
            name: "Catalog",
            dependencies: [
                "Imaging", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Ingest",
            dependencies: [
                "Imaging",
                "Catalog",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The ring's messages, wire encodings and the checks a node makes of them: no gRPC, so it can be fuzzed.
        .target(
            name: "RingWire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: numeric
        ),
        // The slice ring: gRPC between nodes (generated code committed; scripts/generate-grpc.sh remakes it), and a
        // framed TLS stream on SwiftNIO for activations.
        .target(
            name: "Ring",
            dependencies: [
                "Inference", "RingWire",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: numeric
        ),
        // The head's status page and Prometheus metrics (Hummingbird 2): read-only views of the catalog and the ring.
        .target(
            name: "StatusPage",
            dependencies: [
                "Catalog", "Imaging",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The pruning controller: pure logic over numbers, tested with simulated inputs (optimised in debug builds
        // too: its tests compare searches of thousands of choices with brute forces).
        .target(name: "Control", swiftSettings: numeric),
        .target(
            name: "Appliance",
            dependencies: [
                "Imaging", "Inference", "Labels", "Catalog", "Ingest", "Ring", "Control", "StatusPage",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "trapline",
            dependencies: [
                "Imaging",
                "Inference",
                "Labels",
                "Catalog",
                "Ingest",
                "Appliance",
                "Ring",
                "Control",
                "StatusPage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The ring's two candidate transports for activations, measured side by side (Benchmarks/RingTransport).
        .executableTarget(
            name: "ring-transport-bench",
            dependencies: [
                "Ring", "Inference",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ],
            path: "Benchmarks/RingTransport",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // libFuzzer targets (scripts/fuzz.sh); built normally, it replays the committed corpus.
        .executableTarget(
            name: "trapline-fuzz", dependencies: ["Imaging", "Inference", "RingWire"], path: "Fuzz",
            exclude: ["corpus"],
            swiftSettings: strict
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "IngestTests",
            dependencies: ["Ingest", "Catalog", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ApplianceTests",
            dependencies: ["Appliance", "Control", "Inference", "Labels", "Ring", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "InferenceTests", dependencies: ["Inference", "Imaging", "TestSupport"], exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RingTests",
            dependencies: [
                "Ring", "Inference", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LabelsTests", dependencies: ["Labels", "Inference", "Imaging", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "ControlTests", dependencies: ["Control"], swiftSettings: strict),
        .testTarget(
            name: "StatusPageTests", dependencies: ["StatusPage", "Catalog", "Imaging", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "TraplineTests", dependencies: ["trapline", "Inference", "Labels", "TestSupport"],
            swiftSettings: strict),
    ]
)

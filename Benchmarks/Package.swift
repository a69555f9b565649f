// swift-tools-version: 6.2
import PackageDescription

// Benchmarks live in their own package so the main build and CI never compile them.
let package = Package(
    name: "trapline-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "imaging-bench",
            dependencies: [.product(name: "Imaging", package: "main")],
            path: "Sources/imaging-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "inference-bench",
            dependencies: [.product(name: "Inference", package: "main")],
            path: "Sources/inference-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "control-bench",
            dependencies: [.product(name: "Control", package: "main")],
            path: "Sources/control-bench",
            swiftSettings: [.swiftLanguageMode(.v6)],
            // Control uses libm's round and nothing that links it in (no Foundation).
            linkerSettings: [.linkedLibrary("m")]
        ),
        // The ring on simulated time, driving the real controller (docs/simulator.md).
        .executableTarget(
            name: "ring-sim",
            dependencies: [.product(name: "Control", package: "main")],
            path: "Sources/ring-sim",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "EngineMallocs",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Inference", package: "main"),
            ],
            path: "Benchmarks/EngineMallocs",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)

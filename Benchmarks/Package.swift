// swift-tools-version: 6.2
import PackageDescription

// Benchmarks live in their own package so the main build and CI never compile them.
let package = Package(
    name: "trapline-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../")
    ],
    targets: [
        .executableTarget(
            name: "imaging-bench",
            dependencies: [.product(name: "Imaging", package: "main")],
            path: "Sources/imaging-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)

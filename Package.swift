// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "trapline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trapline", targets: ["trapline"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "Inference", targets: ["Inference"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // libjpeg-turbo behind a C shim: libjpeg reports errors by longjmp, which must never cross Swift frames.
        .target(
            name: "CJPEG",
            cSettings: [.unsafeFlags(["-Wall", "-Werror"])],
            linkerSettings: [.linkedLibrary("jpeg")]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "Imaging",
            dependencies: ["CJPEG", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        .target(
            name: "Inference",
            dependencies: ["COpenBLAS", "Imaging", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "trapline",
            dependencies: [
                "Imaging",
                "Inference",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "InferenceTests", dependencies: ["Inference", "Imaging", "TestSupport"], exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(name: "TraplineTests", dependencies: ["trapline", "TestSupport"], swiftSettings: strict),
    ]
)

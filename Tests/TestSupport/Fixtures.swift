import Foundation

/// Test inputs from Debian's packages (installed by scripts/setup.sh) and helpers around them.
public enum Fixtures {
    /// The repository root, found from this file's place in it.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let flowerFolder = "/usr/share/libjxl-testdata/jxl/flower"
    public static let wallpapers = "/usr/share/wallpapers"

    /// A file that must exist; throws a message saying how to get it when it does not.
    public static func system(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FixtureError("missing test input \(path): run scripts/setup.sh (it installs the test packages)")
        }
        return path
    }

    /// A wallpaper photo by its folder name, at its 2560x1600 or named size.
    public static func wallpaper(_ name: String, _ file: String = "2560x1600.jpg") throws -> String {
        try system("\(wallpapers)/\(name)/contents/images/\(file)")
    }

    /// Every JPEG of libjxl-testdata's flower set, sorted.
    public static func flowerJPEGs() throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: try system(flowerFolder))
        return names.filter { $0.hasSuffix(".jpg") }.sorted().map { "\(flowerFolder)/\($0)" }
    }

    /// A reference script under Tests/Reference.
    public static func referenceScript(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/Reference/\(name)").path
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh folder for one test, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init() throws {
        var template = Array((NSTemporaryDirectory() + "trapline-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp failed") }
        path = String(cString: made)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` with a fresh temporary folder and removes it afterwards.
public func withTemporaryDirectory<R>(_ body: (TemporaryDirectory) throws -> R) throws -> R {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    return try body(directory)
}

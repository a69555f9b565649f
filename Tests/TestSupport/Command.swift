import Foundation

/// The outcome of running a program.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: Data

    public var output: String { String(decoding: stdout, as: UTF8.self) }
    public var errorOutput: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs a program found on PATH (or by absolute path) and collects its output.
@discardableResult
public func runCommand(_ program: String, _ arguments: [String], check: Bool = true) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [program] + arguments
    // A TRAPLINE_* override in the caller's environment would change the config under test.
    process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TRAPLINE_") }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes concurrently so neither fills up and blocks the child.
    let errorBox = DataBox()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        errorBox.data = err.fileHandleForReading.readDataToEndOfFile()
        done.signal()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    process.waitUntilExit()
    let errData = errorBox.data
    let result = CommandResult(status: process.terminationStatus, stdout: outData, stderr: errData)
    if check && result.status != 0 {
        throw FixtureError(
            "\(program) \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.errorOutput)")
    }
    return result
}

private final class DataBox: @unchecked Sendable {
    var data = Data()
}

/// A PPM (P6) or PGM (P5) image with 8-bit samples.
public struct PNMImage: Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public let samples: [UInt8]

    /// Reads a binary PNM file.
    public init(path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var fields: [String] = []
        var index = 0
        while fields.count < 4 && index < bytes.count {
            while index < bytes.count && (bytes[index] == 0x20 || (0x09...0x0D).contains(bytes[index])) { index += 1 }
            var token = ""
            while index < bytes.count && !(bytes[index] == 0x20 || (0x09...0x0D).contains(bytes[index])) {
                token.append(Character(UnicodeScalar(bytes[index])))
                index += 1
            }
            fields.append(token)
        }
        index += 1  // the single whitespace after maxval
        guard fields.count == 4, let width = Int(fields[1]), let height = Int(fields[2]), fields[3] == "255" else {
            throw FixtureError("\(path): not an 8-bit PNM")
        }
        let channels = fields[0] == "P6" ? 3 : 1
        guard bytes.count - index == width * height * channels else { throw FixtureError("\(path): short PNM") }
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = Array(bytes[index...])
    }

    /// The samples as RGB (gray repeated three times).
    public var rgb: [UInt8] {
        channels == 3 ? samples : samples.flatMap { [$0, $0, $0] }
    }
}

/// Largest absolute difference and mean absolute difference between two equal-length byte arrays.
public func differences(_ a: [UInt8], _ b: [UInt8]) -> (max: Int, mean: Double) {
    precondition(a.count == b.count)
    var largest = 0
    var total = 0
    for i in 0..<a.count {
        let d = abs(Int(a[i]) - Int(b[i]))
        largest = max(largest, d)
        total += d
    }
    return (largest, a.isEmpty ? 0 : Double(total) / Double(a.count))
}

/// An RGB image written by Tests/Reference/pillow_reference.py: a "width height" line, then the bytes.
public struct RawRGB: Sendable {
    public let width: Int
    public let height: Int
    public let pixels: [UInt8]

    public init(path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard let newline = bytes.firstIndex(of: 0x0A) else { throw FixtureError("\(path): no header") }
        let header = String(decoding: bytes[..<newline], as: UTF8.self).split(separator: " ").compactMap { Int($0) }
        guard header.count == 2 else { throw FixtureError("\(path): bad header") }
        width = header[0]
        height = header[1]
        pixels = Array(bytes[(newline + 1)...])
        guard pixels.count == width * height * 3 else { throw FixtureError("\(path): short data") }
    }

    /// Runs the Pillow reference script and reads what it wrote.
    public static func fromPillow(_ arguments: [String], in directory: TemporaryDirectory) throws -> RawRGB {
        let output = directory.file("pillow-\(UUID().uuidString).raw")
        var args = arguments
        args.insert(output, at: 2)
        try runCommand("python3", [Fixtures.referenceScript("pillow_reference.py")] + args)
        return try RawRGB(path: output)
    }
}

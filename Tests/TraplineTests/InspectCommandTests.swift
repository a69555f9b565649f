import Foundation
import TestSupport
import Testing

/// The built `trapline` binary, run as a user would run it.
@Suite struct InspectCommandTests {
    static func binary() throws -> String {
        // The test bundle sits in the build products folder, next to the executable.
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [products, products.deletingLastPathComponent()].map {
            $0.appendingPathComponent("trapline").path
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw FixtureError("trapline binary not found near \(products.path): run `swift build` first")
        }
        return found
    }

    @Test func versionAndHelp() throws {
        let version = try runCommand(Self.binary(), ["--version"])
        let lines = version.output.split(separator: "\n")
        #expect(lines.first == "0.1.0")
        // Then the kernel line, checked in BLASKernelCommandTests.
        #expect(lines.count == 3 && lines[1].hasPrefix("OpenBLAS: OpenBLAS 0.3"))
        let help = try runCommand(Self.binary(), ["--help"])
        #expect(help.output.contains("inspect"))
        let usage = try runCommand(Self.binary(), ["inspect"], check: false)
        #expect(usage.status == 64)
    }

    @Test func jsonReportsEveryImageInOrderAndFailsOnBadOnes() throws {
        try withTemporaryDirectory { dir in
            let good = try Fixtures.wallpaper("FallenLeaf")
            let truncated = dir.file("cut.jpg")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
            let result = try runCommand(
                Self.binary(), ["inspect", "--json", good, truncated, dir.file("missing.jpg")], check: false)
            #expect(result.status == 1)
            #expect(result.errorOutput.isEmpty, "nothing from libjpeg on stderr: \(result.errorOutput)")
            let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
            let images = try #require(json["images"] as? [[String: Any]])
            #expect(images.count == 3)
            #expect(images[0]["ok"] as? Bool == true)
            #expect(images[0]["width"] as? Int == 2560)
            #expect(images[0]["subsampling"] as? String == "4:2:0")
            let exif = try #require(images[0]["exif"] as? [String: Any])
            #expect(exif["captureTime"] as? String == "2015-10-29T15:44:44.52")
            #expect(exif["captureTimeHasOffset"] as? Bool == false)
            #expect(exif["serialNumber"] as? String == "033021010924")
            #expect((images[1]["error"] as? [String: Any])?["code"] as? String == "truncated")
            #expect((images[2]["error"] as? [String: Any])?["code"] as? String == "not-found")
        }
    }

    @Test func textOutputForAGoodImage() throws {
        let result = try runCommand(Self.binary(), ["inspect", try Fixtures.wallpaper("FallenLeaf")])
        #expect(result.output.contains("2560x1600"))
        #expect(result.output.contains("Canon EOS 70D"))
        #expect(result.output.contains("status       ok"))
    }
}

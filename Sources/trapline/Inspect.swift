import ArgumentParser
import FoundationEssentials
import Imaging
import SystemPackage

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the size, JPEG layout and EXIF fields of images, and whether each one decodes.",
        discussion: """
            Each file is decoded (at 1/8 scale, which still reads all of its data) to find truncated or \
            corrupt images. Capture times are printed in ISO 8601; a time without a UTC offset is the \
            camera's local time. Exits with status 1 when any image cannot be used.
            """
    )

    @Argument(help: "JPEG files to inspect.", completion: .file(extensions: ["jpg", "jpeg", "JPG", "JPEG"]))
    var images: [String]

    @Flag(help: "Print one JSON document with a result per image, in the order given.")
    var json = false

    @Option(help: "Refuse images whose header declares more pixels than this (decompression bombs).")
    var maxPixels = DecodeLimits().maxPixels

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("Name at least one image.") }
        guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive.") }
    }

    func run() throws {
        let limits = DecodeLimits(maxPixels: maxPixels)
        let results = images.map { ImageInspection.inspect(FilePath($0), limits: limits) }
        if json {
            print(try InspectReport(results).jsonText())
        } else {
            for result in results { print(InspectText.describe(result)) }
        }
        if results.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}

import Appliance
import ArgumentParser
import Catalog

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the catalog for other camera-trap tools.",
        subcommands: [MegaDetectorCommand.self]
    )
}

struct MegaDetectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "megadetector",
        abstract: "Write the catalog as a MegaDetector batch output file (format 1.4).",
        discussion: """
            Each labelled image with an animal gets one whole-frame detection (trapline does not locate animals) \
            whose confidence is the animal probability and whose classifications are the top classes; blank \
            images have no detections; failed images carry `failure`. Pending images are left out. File paths \
            under the watch folder are written relative to it.
            """
    )

    @Argument(help: "The JSON file to write.")
    var file: String

    @OptionGroup var options: ApplianceOptions

    func run() async throws {
        let config = try await options.load(extra: [:])
        do {
            let catalog = try Catalog(path: config.catalogPath)
            let count = try catalog.exportMegaDetector(to: file, root: config.watchFolder)
            print("wrote \(file): \(count) images")
        } catch let error as CatalogError {
            throw CLIError(error.description)
        }
    }
}

import Appliance
import ArgumentParser
import Catalog

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the catalog for other camera-trap tools.",
        subcommands: [CamtrapDPCommand.self, MegaDetectorCommand.self]
    )
}

struct MegaDetectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "megadetector",
        abstract: "Write the catalog as a MegaDetector batch output file (format 1.4).",
        discussion: """
            Each labelled image with an animal, a person or a vehicle gets one whole-frame detection of that \
            category (trapline does not locate animals yet). An animal's detection has the animal probability as \
            its confidence; its classifications are the written taxon first (a category named by its scientific \
            name, such as Vulpes vulpes or Canidae), then the model's top classes. Blank images have no \
            detections; failed images carry `failure`. Pending images are left out. File paths under the watch \
            folder are written relative to it.
            """
    )

    @Argument(help: "The JSON file to write.")
    var file: String

    @OptionGroup var options: ApplianceOptions

    func run() async throws {
        let config = try await options.load(extra: [:])
        do {
            let catalog = try CLISupport.existingCatalog(config.catalogPath)
            let count = try catalog.exportMegaDetector(to: file, root: config.watchFolder)
            print("wrote \(file): \(count) images")
        } catch let error as CatalogError {
            throw CLIError(error.description)
        }
    }
}

struct CamtrapDPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "camtrap-dp",
        abstract: "Write the catalog as a Camtrap DP 1.0.2 data package (datapackage.json and three CSV files).",
        discussion: """
            Camtrap DP requires each deployment's coordinates: set them in the catalog first, for example \
            sqlite3 catalog.db "UPDATE deployments SET latitude = 4.21, longitude = -71.35 WHERE deploymentID = 'A05'". \
            Capture times must carry a UTC offset: give the cameras' offset with --utc-offset when they wrote none. \
            Observations carry the written taxon's scientificName (a Latin name at the rank in the package's \
            taxonomic list, with its vernacular name) and observationType animal, human, vehicle or blank. \
            Media paths are relative to the watch folder (or, for files outside it, to the folder they share).
            """
    )

    @Argument(help: "The folder to write the package into.")
    var folder: String

    @Option(help: "UTC offset of cameras that recorded none, as +HH:MM or -HH:MM.")
    var utcOffset: String?

    @Option(help: "The package and project title.")
    var title = "trapline camera-trap labels"

    @Option(help: "The contact person or organisation.")
    var contact = "trapline appliance"

    @OptionGroup var options: ApplianceOptions

    func validate() throws {
        if let offset = utcOffset,
            offset.count != 6 || !(offset.hasPrefix("+") || offset.hasPrefix("-")) || Array(offset)[3] != ":"
        {
            throw ValidationError("--utc-offset must look like +02:00 or -05:00")
        }
    }

    func run() async throws {
        let config = try await options.load(extra: [:])
        do {
            let catalog = try CLISupport.existingCatalog(config.catalogPath)
            let counts = try catalog.exportCamtrapDP(
                to: folder,
                options: CamtrapDPOptions(
                    utcOffset: utcOffset, title: title, contact: contact, root: config.watchFolder)
            )
            print(
                "wrote \(folder): \(counts.deployments) deployments, \(counts.media) media, "
                    + "\(counts.observations) observations of media and \(counts.eventObservations) of events"
            )
        } catch let error as CatalogError {
            throw CLIError(error.description)
        }
    }
}

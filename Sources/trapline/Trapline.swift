import ArgumentParser
import Inference

@main
struct Trapline: AsyncParsableCommand {
    /// The OpenBLAS kernel in use: chosen before anything else runs (it may re-execute the program).
    nonisolated(unsafe) static var blasKernel: BLASKernel.Selection?

    static func main() async {
        blasKernel = BLASKernel.selectBeforeStart()
        await main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "trapline",
        abstract: "A camera-trap labelling appliance: watch a folder of JPEGs, classify them, catalog the labels.",
        discussion: """
            trapline runs a pruning-aware CNN pipelined across a ring of small nodes and writes labels to a \
            SQLite catalog. See `trapline help <subcommand>`.
            """,
        version: TraplineVersion.string,
        subcommands: [
            Run.self, IngestCommand.self, Status.self, Timings.self, Export.self, Classify.self, Bursts.self,
            Inspect.self,
            ModelCommand.self, Learn.self, RelabelCommand.self,
            RingCommand.self, Profile.self, PasswordHashCommand.self,
        ]
    )
}

enum TraplineVersion {
    static let number = "0.1.0"

    /// The version with the OpenBLAS build and kernel: a kernel is part of what a given run computes with.
    static var string: String {
        let kernel = Trapline.blasKernel.map { "\n\($0)" } ?? ""
        return "\(number)\nOpenBLAS: \(BLASKernel.configuration)\(kernel)"
    }
}

import ArgumentParser

@main
struct Trapline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trapline",
        abstract: "A camera-trap labelling appliance: watch a folder of JPEGs, classify them, catalog the labels.",
        discussion: """
            trapline runs a pruning-aware CNN pipelined across a ring of small nodes and writes labels to a \
            SQLite catalog. See `trapline help <subcommand>`.
            """,
        version: TraplineVersion.string,
        subcommands: [
            Run.self, IngestCommand.self, Status.self, Export.self, Classify.self, Inspect.self, ModelCommand.self,
            RingCommand.self, Profile.self,
        ]
    )
}

enum TraplineVersion {
    static let string = "0.1.0"
}

import Appliance
import ArgumentParser
import Inference
import Ring

struct RingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring",
        abstract: "Set up and inspect a ring of nodes.",
        subcommands: [RingInit.self, RingStatus.self]
    )
}

struct RingInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the ring's certificate authority and a certificate and key for every node in ring.nodes.",
        discussion: """
            Writes ca.pem and ca.key (the CA: keep ca.key off the nodes once every certificate is made), and \
            <node>.pem and <node>.key for each node, into the folder (ring.credentials, or --out). Existing files \
            are kept: run it again after adding a node to issue only that node's certificate. Copy ca.pem, \
            <node>.pem and <node>.key to each node's ring.credentials folder (docs/ring.md shows how).
            """
    )

    @OptionGroup var options: ApplianceOptions

    @Option(help: "Folder for the files (default: ring.credentials).")
    var out: String?

    func run() async throws {
        let config = try await options.load(extra: [:])
        guard !config.ringNodes.isEmpty else { throw CLIError("ring.nodes is empty: list the ring's nodes first") }
        let members: [RingMember]
        do {
            members = try config.ringNodes.map { try RingMember(parsing: $0) }
        } catch let error as RingError {
            throw CLIError("bad configuration: configuration key ring.nodes: \(error.message)")
        }
        let folder = out ?? config.ringCredentials
        do {
            let outcome = try RingAuthority.create(members: members, folder: folder)
            for path in outcome.created { print("created \(path)") }
            for path in outcome.kept { print("kept    \(path)") }
        } catch let error as RingError {
            throw CLIError(error.message)
        }
    }
}

struct RingStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Ask every node of the ring for its levels, queue, service time and temperature."
    )

    @OptionGroup var options: ApplianceOptions

    @Option(help: "The identity to present (ring.node; default: the host name).")
    var node: String?

    func run() async throws {
        let config = try await options.load(extra: ["ring.node": node].compactMapValues { $0 })
        let (model, _, _) = try ModelLocator.load(
            config.modelPath, environment: CLISupport.environment, executable: CommandLine.arguments[0])
        let ring: RingConfig
        do {
            guard let configured = try RingSetup.config(config, model: model) else {
                throw CLIError("ring.nodes is empty: this node runs alone")
            }
            ring = configured
        } catch let error as ConfigError {
            throw CLIError("bad configuration: \(error.description)")
        }
        let results: [(member: RingMember, stats: Result<Trapline_Ring_V1_NodeStats, any Error>)]
        do {
            results = try await RingQuery.stats(ring)
        } catch let error as RingError {
            throw CLIError(error.message)
        }
        print("node        address               levels     queue  batches  service ms  prepared  temp C")
        for (member, result) in results {
            let address = "\(member.host):\(member.port)"
            switch result {
            case .success(let stats):
                let levels = stats.levels.map(String.init).joined(separator: ",")
                let temperature = stats.hasTemperature_p ? String(format1(stats.temperatureCelsius)) : "-"
                print(
                    pad(member.name, 12) + pad(address, 22) + pad(levels, 11)
                        + pad("\(stats.queueLength)/\(stats.queueCapacity)", 7)
                        + pad("\(stats.batches)", 9) + pad(format1(stats.meanServiceMs), 12)
                        + pad("\(stats.prepared)", 10) + temperature)
            case .failure(let error):
                print(pad(member.name, 12) + pad(address, 22) + "not answering: \(error)")
            }
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }
}

import Appliance
import ArgumentParser
import FoundationEssentials
import Logging
import ServiceLifecycle

/// Options shared by the commands that build the appliance from its configuration.
struct ApplianceOptions: ParsableArguments {
    @Option(help: "YAML config file (default: /etc/trapline/trapline.yaml when it exists, else the embedded defaults).")
    var config: String?

    @Option(help: "SQLite catalog file (catalog.path).")
    var catalog: String?

    @Option(help: "Model file (model.path).")
    var model: String?

    @Option(help: "Prune level of this node's slice (model.level).")
    var level: Double?

    @Option(help: "Log level: trace, debug, info, notice, warning, error (log.level).")
    var logLevel: String?

    static let systemConfig = "/etc/trapline/trapline.yaml"

    func load(extra: [String: String]) async throws -> ApplianceConfig {
        var overrides = extra
        overrides["catalog.path"] = catalog
        overrides["model.path"] = model
        overrides["model.level"] = level.map { "\($0)" }
        overrides["log.level"] = logLevel
        let file = config ?? (access(Self.systemConfig, R_OK) == 0 ? Self.systemConfig : nil)
        do {
            return try await ConfigLoader.load(file: file, overrides: overrides, environment: CLISupport.environment)
        } catch let error as ConfigError {
            throw CLIError("bad configuration: \(error.description)")
        }
    }

    static func logger(_ config: ApplianceConfig) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
            return handler
        }
        return Logger(label: "trapline")
    }

    static func services(_ config: ApplianceConfig, logger: Logger) throws -> [any Service] {
        do {
            return try ApplianceServices.make(
                config: config, environment: CLISupport.environment, executable: CommandLine.arguments[0],
                logger: logger)
        } catch let error as ConfigError {
            throw CLIError("bad configuration: \(error.description)")
        }
    }

    static func runtime(_ config: ApplianceConfig, logger: Logger) throws -> ApplianceRuntime {
        do {
            return try ApplianceRuntime(
                config: config, environment: CLISupport.environment, executable: CommandLine.arguments[0],
                logger: logger
            )
        } catch let error as ConfigError {
            throw CLIError("bad configuration: \(error.description)")
        }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the appliance: watch a folder, label every JPEG that lands in it, write the catalog.",
        discussion: """
            Configuration comes from, highest priority first: these flags, TRAPLINE_* environment variables \
            (TRAPLINE_BATCH_MAX_SIZE for batch.maxSize), the YAML file, the embedded defaults (see \
            Configs/trapline.yaml). SIGTERM or SIGINT finishes the batch in flight and exits 0; images not yet \
            labelled stay pending and are labelled at the next start. Under systemd (Type=notify) it reports \
            READY=1 once the model is loaded and the watch is up, and feeds the watchdog when WatchdogSec is set.

            In a ring (ring.nodes lists the nodes in pipeline order), run it on every node with that node's name \
            (--node, or the host name): the first node is the head, which watches the folder, keeps the catalog and \
            runs the first slice; the others serve their slices over gRPC (see docs/ring.md).
            """
    )

    @OptionGroup var options: ApplianceOptions

    @Option(help: "Folder to watch (watch.folder); a folder per camera under it names its deployment.")
    var watch: String?

    @Option(help: "inotify, or poll for network mounts (watch.mode).")
    var watchMode: String?

    @Option(
        help: "This node's name in the ring (ring.node; default: the host name). The ring's first node is the head.")
    var node: String?

    func run() async throws {
        var extra: [String: String] = [:]
        extra["watch.folder"] = watch
        extra["watch.mode"] = watchMode
        extra["ring.node"] = node
        let config = try await options.load(extra: extra)
        let logger = ApplianceOptions.logger(config)
        if let kernel = Trapline.blasKernel {
            logger.info(
                "blas kernel",
                metadata: [
                    "blas.kernel": "\(kernel.kernel)", "blas.source": "\(kernel.source.rawValue)",
                    "blas.detail": "\(kernel.detail)",
                ])
        }
        let services = try ApplianceOptions.services(config, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}

#if canImport(Glibc)
    import Glibc
#endif

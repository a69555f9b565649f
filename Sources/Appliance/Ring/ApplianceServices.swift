import Catalog
import FoundationEssentials
import Inference
import Logging
import Ring
import ServiceLifecycle

/// Assembles what `trapline run` runs: the single-node pipeline; or, in a ring, the head (pipeline plus ring
/// node and head) or a worker (ring node only: no watch folder, no catalog).
public enum ApplianceServices {
    /// The services for this node, in start order (the last is shut down first).
    /// - Parameters:
    ///   - config: The validated configuration.
    ///   - environment: The process environment.
    ///   - executable: `argv[0]`, to find a developer build's model.
    ///   - logger: Where to log.
    /// - Returns: The services.
    /// - Throws: `ConfigError` naming the key, or a catalog error.
    public static func make(config: ApplianceConfig, environment: [String: String], executable: String, logger: Logger)
        throws -> [any Service]
    {
        guard !config.ringNodes.isEmpty else {
            let runtime = try ApplianceRuntime(
                config: config, environment: environment, executable: executable, logger: logger)
            return [try runtime.pipeline(environment: environment, logger: logger)]
        }
        let (model, _, sha) = try ModelLocator.load(config.modelPath, environment: environment, executable: executable)
        guard let ring = try RingSetup.config(config, model: model) else { return [] }
        if !ring.isHead {
            let node = try makeNode(ring, model: model, modelID: sha, config: config, logger: logger)
            logger.info("ring worker", metadata: ["node.name": "\(ring.node)", "ring.plan": "\(ring.plan)"])
            return [RingNodeService(node: node, head: nil, notifier: SystemdNotifier(environment: environment))]
        }
        let runtime = try ApplianceRuntime(
            config: config, environment: environment, executable: executable, logger: logger)
        let node = try makeNode(ring, model: runtime.model, modelID: runtime.modelID, config: config, logger: logger)
        try node.setLevels(Array(repeating: runtime.labeling.levelIndex, count: ring.plan.count - 1))
        let catalog = runtime.catalog
        let head = RingHead(node: node) { event in
            do {
                try catalog.recordControllerEvent(
                    kind: event.kind, node: event.node, levels: nil, reason: event.reason,
                    at: Date().timeIntervalSince1970)
            } catch {
                logger.error("controller event not recorded", metadata: ["error": "\(error)"])
            }
        }
        let stage = RingLabelingStage(
            head: head, model: runtime.model, modelID: runtime.modelID, config: runtime.config)
        let pipeline = try runtime.pipeline(environment: environment, logger: logger, labeling: stage)
        logger.info(
            "ring head",
            metadata: [
                "node.name": "\(ring.node)", "ring.nodes": "\(ring.members.map(\.name))", "ring.plan": "\(ring.plan)",
            ])
        return [RingNodeService(node: node, head: head), pipeline]
    }

    static func makeNode(_ ring: RingConfig, model: Model, modelID: String, config: ApplianceConfig, logger: Logger)
        throws -> RingNode
    {
        do {
            return try RingNode(
                config: ring, model: model, modelID: modelID, threads: config.threads, maxBatch: config.batchMaxSize,
                logger: logger)
        } catch let error as RingError {
            throw ConfigError(key: error.code == .credentials ? "ring.credentials" : "ring.nodes", error.message)
        }
    }
}

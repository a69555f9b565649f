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
                config: config, environment: environment, executable: executable, logger: logger, serving: true)
            let status = try statusServer(runtime, ring: nil, logger: logger)
            return [try runtime.pipeline(environment: environment, logger: logger)] + (status.map { [$0] } ?? [])
        }
        let loaded = try ModelLocator.load(config.modelPath, environment: environment, executable: executable)
        let (model, sha) = (loaded.model, loaded.sha256)
        guard let ring = try RingSetup.config(config, model: model) else { return [] }
        let profile = try ownProfile(config, modelID: sha, plan: ring.plan, logger: logger)
        if !ring.isHead {
            let node = try makeNode(ring, model: model, modelID: sha, config: config, logger: logger)
            if let profile { node.setProfile(profile.entries) }
            let worker = RemotePreparation.Worker(model: model, config: config)
            node.preparer.withLock { $0 = { try await worker.prepare($0) } }
            logger.info("ring worker", metadata: ["node.name": "\(ring.node)", "ring.plan": "\(ring.plan)"])
            return [RingNodeService(node: node, head: nil, notifier: SystemdNotifier(environment: environment))]
        }
        let runtime = try ApplianceRuntime(
            config: config, environment: environment, executable: executable, logger: logger, loaded: loaded,
            serving: true)
        let node = try makeNode(ring, model: runtime.model, modelID: runtime.modelID, config: config, logger: logger)
        if let profile { node.setProfile(profile.entries) }
        try node.setLevels(try startLevels(config, model: runtime.model, slices: ring.plan.count - 1))
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
        let load = LoadMeter()
        let control =
            ["adaptive", "repartition"].contains(config.controlPolicy)
            ? PruningControl(
                head: head, catalog: catalog, model: runtime.model, plan: ring.plan, config: config,
                ownProfile: profile.map { $0.slices + ($0.units ?? []) }, load: load, logger: logger) : nil
        let stage = try RingLabelingStage(
            head: head, model: runtime.model, modelID: runtime.modelID, config: runtime.config, control: control,
            thumbnails: runtime.thumbnails)
        let pipeline = try runtime.pipeline(environment: environment, logger: logger, labeling: stage, load: load)
        logger.info(
            "ring head",
            metadata: [
                "node.name": "\(ring.node)", "ring.nodes": "\(ring.members.map(\.name))", "ring.plan": "\(ring.plan)",
            ])
        let status = try statusServer(runtime, ring: (ring, head), logger: logger)
        return [RingNodeService(node: node, head: head), pipeline] + (status.map { [$0] } ?? [])
    }

    /// The levels the ring starts at: `model.level` everywhere, or the static policy's vector.
    static func startLevels(_ config: ApplianceConfig, model: Model, slices: Int) throws -> [Int] {
        let levels = model.metadata.pruneLevels
        func index(_ fraction: Double, key: String) throws -> Int {
            guard let found = levels.firstIndex(where: { abs($0 - fraction) < 1e-9 }) else {
                throw ConfigError(key: key, "\(fraction) is not one of the model's levels: \(levels)")
            }
            return found
        }
        guard config.controlPolicy == "static" else {
            return Array(repeating: try index(config.level, key: "model.level"), count: slices)
        }
        guard config.controlStaticLevels.count == slices else {
            throw ConfigError(
                key: "control.staticLevels",
                "needs \(slices) levels (one per slice), not \(config.controlStaticLevels.count)")
        }
        return try config.controlStaticLevels.map { try index($0, key: "control.staticLevels") }
    }

    /// This node's stored profile, if it was measured for this model and plan.
    static func ownProfile(_ config: ApplianceConfig, modelID: String, plan: [Int], logger: Logger) throws
        -> ProfileStore.Document?
    {
        guard let document = try ProfileStore.load(config.controlProfile) else { return nil }
        guard document.modelID == modelID, document.plan == plan else {
            logger.warning(
                "profile ignored: measured for another model or plan; run `trapline profile` again",
                metadata: ["control.profile": "\(config.controlProfile)"])
            return nil
        }
        return document
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

import Catalog
import Control
import FoundationEssentials
import Inference
import Logging
import Ring

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the adaptive controller on the head: after every batch it turns the ring's trace into an observation,
/// asks the controller for the next levels, pushes a change to every node and records it with its reason.
/// It starts once a profile is known for every slice (from each node's stats, or this node's own as a stand-in
/// for a node that has none: the ring's Pis are alike).
public actor PruningControl {
    let head: RingHead
    let catalog: Catalog
    let accuracy: AccuracyTable
    let metadata: ModelMetadata
    let settings: ControllerSettings
    let load: LoadMeter
    let batchMaxSize: Int
    let budgetMs: Double
    let ownProfile: [SliceProfile]?
    let policy: Policy
    let throttleCelsius: Double
    let throttleSlowdown: Double
    let logger: Logger
    private var controller: Controller?
    private var waitingLogged = false

    /// Creates the control.
    /// - Parameters:
    ///   - head: The ring's head.
    ///   - catalog: Where decisions are recorded.
    ///   - model: The model (levels and accuracy curves).
    ///   - plan: The ring's slice plan.
    ///   - config: The `control.*` and `batch.*` keys.
    ///   - ownProfile: This node's profile, if measured: its slices' and units' entries.
    ///   - load: The pipeline's load meter.
    ///   - logger: Where to log.
    public init(
        head: RingHead, catalog: Catalog, model: Model, plan: [Int], config: ApplianceConfig,
        ownProfile: [SliceProfile]?, load: LoadMeter, logger: Logger
    ) {
        self.head = head
        self.catalog = catalog
        metadata = model.metadata
        accuracy = Self.accuracyTable(model.metadata, plan: plan)
        var settings = ControllerSettings()
        settings.accuracyFloor = config.controlAccuracyFloor
        settings.relaxAfter = config.controlRelaxAfter
        settings.utilisation = config.controlUtilisation
        settings.drainBatches = config.controlDrainBatches
        self.settings = settings
        self.load = load
        batchMaxSize = config.batchMaxSize
        // The ring's share of the SLO: what is left after the batch has waited to fill.
        budgetMs = max(1, (config.sloSeconds - config.batchMaxWaitSeconds) * 1000)
        self.ownProfile = ownProfile
        policy = config.controlPolicy == "repartition" ? .repartition : .adaptive
        throttleCelsius = config.controlThrottleCelsius
        throttleSlowdown = config.controlThrottleSlowdown
        self.logger = logger
    }

    /// Feeds the controller one finished batch; pushes and records a change of levels.
    /// - Parameters:
    ///   - result: The ring's result for the batch.
    ///   - batchSize: Images in it.
    ///   - decodeMs: Time the head spent decoding its JPEGs (part of the latency).
    ///   - headOverheadMs: The head's own work per image outside the ring (reading, decoding, localising,
    ///     normalising), which competes with its units for its CPU.
    ///   - headContentionMs: How much of the head's hop that work took (its time overlapping the head's
    ///     preparation of other batches, shared): taken off the hop before it measures the head's speed, since the
    ///     overhead is counted on its own.
    public func observe(
        _ result: RingResult, batchSize: Int, decodeMs: Double, headOverheadMs: Double = 0,
        headContentionMs: Double = 0
    ) async {
        guard let controller = await ready() else { return }
        var placement: [Int] = []
        for (stage, hop) in result.hops.enumerated() { placement += hop.slices.map { _ in stage } }
        let members = head.node.config.members
        var observation = BatchObservation(
            batchSize: batchSize, sliceMs: result.sliceMs, sliceLevels: result.sliceLevels, placement: placement,
            linkMs: result.hops.dropFirst().map { $0.linkMs + $0.decodeMs },
            arrivalRate: settings.drainBatches > 0 ? load.sustainedRate() : load.arrivalRate(),
            backlogBatches: Double(load.waiting) / Double(batchMaxSize),
            deadlineMs: budgetMs - decodeMs)
        observation.hops = result.hops.enumerated().compactMap { index, hop in
            guard let member = members.firstIndex(where: { $0.name == hop.node }) else { return nil }
            let compute = hop.sliceMs.reduce(0, +)
            return HopSample(
                node: member, units: hop.units,
                computeMs: member == 0 ? max(compute / 2, compute - headContentionMs) : compute,
                linkMs: index == 0 ? 0 : hop.linkMs + hop.decodeMs)
        }
        observation.overheadMs = members.indices.map { $0 == 0 ? headOverheadMs : 0 }
        observation.anticipatedSlowdowns = await anticipatedSlowdowns()
        var updated = controller
        let decision = updated.observe(observation)
        self.controller = updated
        guard !decision.changes.isEmpty || decision.moved else { return }
        do {
            if decision.moved { try await head.setPartition(members: decision.stageNodes, bounds: decision.bounds) }
            if !decision.changes.isEmpty { try await head.setLevels(decision.levels) }
        } catch {
            logger.error("levels or boundaries not set", metadata: ["error": "\(error)"])
            return
        }
        let fractions = decision.levels.map { metadata.sliceLevel(option: $0) }
        let kind = decision.changes.isEmpty ? "boundaries" : "levels"
        logger.info(
            decision.changes.isEmpty ? "boundaries moved" : "levels changed",
            metadata: ["levels": "\(fractions)", "bounds": "\(decision.bounds)", "reason": "\(decision.reason)"])
        try? catalog.recordControllerEvent(
            kind: kind, node: nil, levels: fractions, reason: decision.reason, at: Date().timeIntervalSince1970)
    }

    private func ready() async -> Controller? {
        if let controller { return controller }
        let members = await head.memberStats
        let config = head.node.config
        var profiles: [SliceProfile] = []
        for slice in 0..<(config.plan.count - 1) {
            let units = [config.plan[slice], config.plan[slice + 1]]
            let name = config.members[slice].name
            guard let profile = profile(of: name, units: units, in: members) else {
                if !waitingLogged {
                    waitingLogged = true
                    logger.warning(
                        "no profile for a slice yet: levels stay as they are (run `trapline profile` on every node)",
                        metadata: ["slice": "\(slice)", "node.name": "\(name)"])
                }
                return nil
            }
            profiles.append(profile)
        }
        let units = unitProfiles(members, config: config)
        guard units != nil || policy != .repartition else { return nil }
        do {
            let created = try Controller(
                profiles: profiles, accuracy: accuracy, levelCount: metadata.optionCount, policy: policy,
                settings: settings, units: units)
            controller = created
            let name = policy == .repartition ? "repartition" : "adaptive"
            let how =
                created.joint
                ? "moving boundaries" + (policy == .repartition ? "" : " and pruning")
                : "pruning only (a node has no unit profiles: run `trapline profile` again)"
            try? catalog.recordControllerEvent(
                kind: "controller", node: nil, levels: nil,
                reason: "\(name) control started with profiles from \(profiles.map(\.node)), \(how)",
                at: Date().timeIntervalSince1970)
            return created
        } catch {
            logger.error("controller not started", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Every unit's profile on every member (a member that reported none takes this node's own, as for slices);
    /// nil when a unit has none, and then logged once.
    private func unitProfiles(_ members: [String: Trapline_Ring_V1_NodeStats], config: RingConfig) -> UnitProfiles? {
        let unitCount = config.plan.last ?? 0
        var nodes: [[SliceProfile]] = []
        for member in config.members {
            var units: [SliceProfile] = []
            for unit in 0..<unitCount {
                guard let profile = profile(of: member.name, units: [unit, unit + 1], in: members) else {
                    if !unitsMissingLogged {
                        unitsMissingLogged = true
                        logger.warning(
                            "no unit profiles: slice boundaries cannot move (run `trapline profile` on every node)",
                            metadata: ["node.name": "\(member.name)", "unit": "\(unit)"])
                    }
                    return nil
                }
                units.append(profile)
            }
            nodes.append(units)
        }
        return UnitProfiles(plan: config.plan, nodes: nodes, boundaryValues: head.node.boundaryWidths)
    }

    private var unitsMissingLogged = false

    /// A member's profile of a range of units: as it reported it, else this node's own as a stand-in (the ring's
    /// Pis are alike).
    private func profile(of name: String, units: [Int], in members: [String: Trapline_Ring_V1_NodeStats])
        -> SliceProfile?
    {
        members[name].flatMap { Self.profile($0.profile, node: name, units: units) }
            ?? ownProfile?.first { $0.units == units }
    }

    /// How far below the throttle temperature a node counts as about to throttle.
    static let throttleMarginCelsius = 3.0

    /// Per member: ``throttleSlowdown`` for a node within ``throttleMarginCelsius`` of ``throttleCelsius`` or
    /// whose firmware says it throttles now, else 0 (nothing anticipated). The head reads its own sysfs; the others report theirs.
    private func anticipatedSlowdowns() async -> [Double] {
        let stats = await head.memberStats
        let config = head.node.config
        return config.members.indices.map { index in
            let reading: ThermalReading
            if index == 0 {
                reading = Thermal.read(root: config.sysfsRoot)
            } else if let member = stats[config.members[index].name] {
                reading = ThermalReading(
                    celsius: member.hasTemperature_p ? member.temperatureCelsius : nil,
                    throttledFlags: member.hasThrottled_p ? member.throttledFlags : nil)
            } else {
                return 0
            }
            let hot = reading.celsius.map { $0 >= throttleCelsius - Self.throttleMarginCelsius } ?? false
            return hot || reading.throttlingNow ? throttleSlowdown : 0
        }
    }

    /// A slice's profile from a node's reported entries.
    static func profile(_ entries: [Trapline_Ring_V1_ProfileEntry], node: String, units: [Int]) -> SliceProfile? {
        let mine = entries.filter { Int($0.firstUnit) == units[0] && Int($0.endUnit) == units[1] }
        let sizes = Set(mine.map { Int($0.batch) }).sorted()
        let levels = Set(mine.map { Int($0.level) }).sorted()
        guard !sizes.isEmpty, !levels.isEmpty else { return nil }
        var rows: [[Double]] = []
        for size in sizes {
            var row: [Double] = []
            for level in levels {
                guard let entry = mine.first(where: { Int($0.batch) == size && Int($0.level) == level }) else {
                    return nil
                }
                row.append(entry.medianMs)
            }
            rows.append(row)
        }
        return SliceProfile(node: node, units: units, batchSizes: sizes, serviceMs: rows)
    }

    /// The model's per-slice accuracy curves for this plan. When the file's curves were measured for another
    /// plan, each slice gets the uniform curve raised to its share of the units (an approximation, logged in the
    /// docs: pruning a third of the network costs about a third of what pruning all of it costs, in log terms).
    static func accuracyTable(_ metadata: ModelMetadata, plan: [Int]) -> AccuracyTable {
        let levels = metadata.pruneLevels.count
        let options = metadata.optionCount
        let slices = plan.count - 1
        guard let curves = metadata.accuracy else {
            return AccuracyTable(full: 1, slices: Array(repeating: Array(repeating: 1, count: options), count: slices))
        }
        if curves.plan == slices, metadata.slicePlan(nodes: slices) == plan, curves.slices.count == slices {
            return AccuracyTable(full: curves.slices[0][0], slices: curves.slices)
        }
        let uniform = curves.uniform ?? Array(repeating: 1, count: levels)
        let total = Double(plan.last ?? 1)
        let derived = (0..<slices).map { slice in
            let share = Double(plan[slice + 1] - plan[slice]) / total
            let widths = uniform.prefix(levels).map { pow($0 / max(uniform[0], 1e-9), share) * uniform[0] }
            // Slice options were measured for the file's plan only: elsewhere they count as keeping nothing,
            // so the controller uses them only when no width level can meet the constraints.
            return widths + Array(repeating: 0, count: options - widths.count)
        }
        return AccuracyTable(full: uniform[0], slices: derived)
    }
}

extension ProfileStore.Document {
    /// The entries a node reports in its stats.
    public var entries: [Trapline_Ring_V1_ProfileEntry] {
        // A one-unit slice of the plan is also a unit profile: report each range once.
        let extra = (units ?? []).filter { unit in !slices.contains { $0.units == unit.units } }
        return (slices + extra).flatMap { slice in
            slice.batchSizes.enumerated().flatMap { sizeIndex, batch in
                slice.serviceMs[sizeIndex].enumerated().map { level, ms in
                    var entry = Trapline_Ring_V1_ProfileEntry()
                    entry.firstUnit = UInt32(slice.units[0])
                    entry.endUnit = UInt32(slice.units[1])
                    entry.level = UInt32(level)
                    entry.batch = UInt32(batch)
                    entry.medianMs = ms
                    return entry
                }
            }
        }
    }
}

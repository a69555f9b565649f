import FoundationEssentials
import GRPCCore
import Logging
import RingWire

/// The head's side of the ring: it sends each batch along the current route, keeps it until its logits come
/// back, sends it again (same id, next attempt) when a node on its way fails or the result is overdue, and
/// keeps the first result (later ones are counted as duplicates). It probes every member; one that stops
/// answering is bypassed (its predecessor runs its slice too: every node has the whole model) and is
/// re-admitted when it answers again.
public actor RingHead {
    struct Pending {
        var message: Trapline_Ring_V1_Activations
        var continuation: CheckedContinuation<RingResult, any Error>
        var attempt: UInt32 = 0
        var sentAt = 0.0
        var nodes: Set<String> = []
    }

    public nonisolated let node: RingNode
    private let config: RingConfig
    private let onEvent: @Sendable (RingEvent) -> Void
    private let logger: Logger
    private var pending: [UInt64: Pending] = [:]
    private var alive: [Bool]
    private var misses: [Int]
    private var nextID: UInt64
    private var stopped = false
    /// The level index of every slice, pushed to every node.
    public private(set) var levels: [Int]
    /// Results that arrived for a batch already answered.
    public private(set) var duplicates = 0
    /// Batches sent again.
    public private(set) var resends = 0
    /// The latest stats of each member (nil: not answering).
    public private(set) var memberStats: [String: Trapline_Ring_V1_NodeStats] = [:]

    /// Creates the head and connects it to its node.
    /// - Parameters:
    ///   - node: This node, which must be the ring's head.
    ///   - onEvent: Called for every membership change.
    public init(node: RingNode, onEvent: @escaping @Sendable (RingEvent) -> Void) {
        self.node = node
        config = node.config
        self.onEvent = onEvent
        logger = node.logger
        alive = config.members.indices.map { $0 == 0 }
        misses = Array(repeating: 0, count: config.members.count)
        levels = node.levels
        // Ids keep rising across restarts, so a late result from before a restart cannot match a new batch.
        nextID = UInt64(Date().timeIntervalSince1970 * 1000) << 12
    }

    /// Connects the node's incoming logits to this head; call once before `run`.
    public func attach() {
        node.sink.withLock { sink in sink = { [weak self] logits in await self?.deliver(logits) ?? true } }
    }

    /// Runs a batch through the ring.
    /// - Parameters:
    ///   - input: `batch` normalised images (NHWC float32), the model's input.
    ///   - batch: Images.
    ///   - deadline: The batch's deadline (seconds since 1970), carried for the nodes' information.
    ///   - features: Whether the last hop should return each image's pooled features as well (for a site head).
    /// - Returns: The logits and the trace.
    /// - Throws: `CancellationError` when the head stops first.
    public func infer(_ input: [Float], batch: Int, deadline: Double, features: Bool = false) async throws -> RingResult
    {
        guard !stopped else { throw CancellationError() }
        let id = nextID
        nextID += 1
        var message = Trapline_Ring_V1_Activations()
        message.batchID = id
        message.deadlineUnixMs = deadline * 1000
        message.batch = UInt32(batch)
        message.unit = 0
        message.encoding = .float32
        message.data = input.withUnsafeBufferPointer { ActivationCodec.encode($0, as: .float32) }
        message.head = config.node
        message.sliceBounds = config.plan.map(UInt32.init)
        message.wantFeatures = features
        return try await withCheckedThrowingContinuation { continuation in
            pending[id] = Pending(message: message, continuation: continuation)
            Task { await self.dispatch(id) }
        }
    }

    /// Unit boundaries chosen for a set of live members (by member index, ascending); used while exactly those
    /// members are live, else the plan's route applies.
    public private(set) var partition: (members: [Int], bounds: [Int])?

    /// Moves the slice boundaries: member `members[s]` runs units `bounds[s]..<bounds[s + 1]` from the next batch
    /// sent (batches in flight keep the route they were sent with; a resent batch takes the new one).
    /// - Throws: `RingError` when the members are not ascending from the head, or the bounds are not one more than
    ///   the members, ascending strictly from 0 to the model's last unit.
    public func setPartition(members: [Int], bounds: [Int]) throws {
        let units = config.plan.last ?? 0
        guard members.first == 0, zip(members, members.dropFirst()).allSatisfy({ $0 < $1 }),
            members.last ?? 0 < config.members.count
        else {
            throw RingError(.malformed, "members \(members) must ascend from the head (0)")
        }
        guard bounds.count == members.count + 1, bounds.first == 0, bounds.last == units,
            zip(bounds, bounds.dropFirst()).allSatisfy({ $0 < $1 })
        else {
            throw RingError(
                .malformed, "boundaries \(bounds) must ascend from 0 to \(units), one more than the members")
        }
        partition = (members, bounds)
    }

    /// The route for a batch sent now: the chosen boundaries while their members are exactly the live ones; else
    /// slice i on member i when it is up, or on its nearest live predecessor; consecutive slices on one node make
    /// one hop.
    public func route() -> [(node: String, units: Range<Int>)] {
        if let partition, partition.members == alive.indices.filter({ alive[$0] }) {
            return partition.members.indices.map { stage in
                (
                    config.members[partition.members[stage]].name,
                    partition.bounds[stage]..<partition.bounds[stage + 1]
                )
            }
        }
        var hops: [(node: String, units: Range<Int>)] = []
        var host = config.members[0].name
        for slice in 0..<(config.plan.count - 1) {
            if alive[slice] { host = config.members[slice].name }
            let units = config.plan[slice]..<config.plan[slice + 1]
            if let last = hops.last, last.node == host {
                hops[hops.count - 1].units = last.units.lowerBound..<units.upperBound
            } else {
                hops.append((host, units))
            }
        }
        return hops
    }

    /// Whether each member is in the route.
    public var liveMembers: [Bool] { alive }

    private func dispatch(_ id: UInt64) async {
        guard var entry = pending[id] else { return }
        let hops = route()
        entry.message.route = hops.map { hop in
            var step = Trapline_Ring_V1_Hop()
            step.node = hop.node
            step.firstUnit = UInt32(hop.units.lowerBound)
            step.endUnit = UInt32(hop.units.upperBound)
            return step
        }
        entry.message.hopIndex = 0
        entry.message.attempt = entry.attempt
        entry.sentAt = Date().timeIntervalSince1970
        entry.nodes = Set(hops.map(\.node))
        pending[id] = entry
        _ = await node.accept(entry.message)
    }

    /// Takes a batch's logits; returns true when the batch was already answered (a duplicate).
    func deliver(_ logits: Trapline_Ring_V1_Logits) -> Bool {
        guard let entry = pending.removeValue(forKey: logits.batchID) else {
            duplicates += 1
            return true
        }
        let batch = Int(entry.message.batch)
        let classes = Int(logits.classes)
        guard logits.batch == entry.message.batch, classes > 0 else {
            entry.continuation.resume(
                throwing: RingError(.malformed, "logits for \(logits.batch) images, sent \(batch)"))
            return false
        }
        var values = [Float](repeating: 0, count: batch * classes)
        do {
            try values.withUnsafeMutableBufferPointer {
                try ActivationCodec.decode(logits.data, as: .float32, into: $0)
            }
        } catch {
            entry.continuation.resume(throwing: error)
            return false
        }
        let hops = logits.trace.indices.map {
            HopRecord(logits.trace[$0], previous: $0 > 0 ? logits.trace[$0 - 1] : nil)
        }
        var result = RingResult(logits: values, classes: classes, hops: hops, attempts: Int(entry.attempt) + 1)
        // Pooled features, when asked for and sent whole (a node of an older trapline sends none: the labels are
        // then the model's alone).
        let featureCount = Int(logits.featureCount)
        if entry.message.wantFeatures, featureCount > 0, logits.features.count == batch * featureCount * 4 {
            var features = [Float](repeating: 0, count: batch * featureCount)
            if (try? features.withUnsafeMutableBufferPointer({
                try ActivationCodec.decode(logits.features, as: .float32, into: $0)
            })) != nil {
                result.features = features
                result.featureCount = featureCount
            }
        }
        entry.continuation.resume(returning: result)
        return false
    }

    /// Probes the members and resends overdue batches until the task is cancelled; then fails what is left.
    public func run() async {
        while !Task.isCancelled {
            await probeRound()
            resendOverdue()
            try? await Task.sleep(for: .seconds(config.probeSeconds))
        }
        stop()
    }

    /// Fails every batch still waiting (at shutdown: their media stay pending in the catalog).
    public func stop() {
        stopped = true
        for entry in pending.values { entry.continuation.resume(throwing: CancellationError()) }
        pending.removeAll()
    }

    /// Sets the level of every slice on every live node (and on this one).
    /// - Throws: `RingError` when the vector does not fit the plan.
    public func setLevels(_ levels: [Int]) async throws {
        try node.setLevels(levels)
        self.levels = levels
        await withTaskGroup(of: Void.self) { group in
            for (index, member) in config.members.enumerated() where index > 0 && alive[index] {
                guard let link = node.links[member.name] else { continue }
                group.addTask { _ = try? await self.push(levels, to: link) }
            }
        }
    }

    /// Asks a member to prepare a batch's images (`Control.Prepare`).
    /// - Parameters:
    ///   - request: The frames and their files.
    ///   - member: The member's name.
    ///   - timeoutSeconds: How long the answer may take.
    /// - Returns: The member's reply.
    /// - Throws: `RingError` for a member without a link; the call's error when it fails or refuses.
    public nonisolated func prepare(
        _ request: Trapline_Ring_V1_PrepareRequest, on member: String, timeoutSeconds: Double
    ) async throws -> Trapline_Ring_V1_PrepareReply {
        guard let link = node.links[member] else {
            throw RingError(.malformed, "\(member) is not a member of the ring")
        }
        var options = link.options
        options.timeout = .milliseconds(Int64(timeoutSeconds * 1000))
        return try await link.control.prepare(request, options: options)
    }

    private nonisolated func push(_ levels: [Int], to link: PeerLink) async throws -> Trapline_Ring_V1_NodeStats {
        var request = Trapline_Ring_V1_SetLevelsRequest()
        request.levels = levels.map(UInt32.init)
        var options = link.options
        options.timeout = .milliseconds(Int64(config.probeTimeoutSeconds * 1000))
        return try await link.control.setLevels(request, options: options)
    }

    private nonisolated func probe(_ link: PeerLink) async -> Trapline_Ring_V1_NodeStats? {
        var options = link.options
        options.timeout = .milliseconds(Int64(config.probeTimeoutSeconds * 1000))
        return try? await link.control.stats(Trapline_Ring_V1_StatsRequest(), options: options)
    }

    private func probeRound() async {
        let results = await withTaskGroup(of: (Int, Trapline_Ring_V1_NodeStats?).self) { group in
            for (index, member) in config.members.enumerated() where index > 0 {
                guard let link = node.links[member.name] else { continue }
                group.addTask { (index, await self.probe(link)) }
            }
            var results: [(Int, Trapline_Ring_V1_NodeStats?)] = []
            for await result in group { results.append(result) }
            return results
        }
        for (index, stats) in results.sorted(by: { $0.0 < $1.0 }) {
            await update(index, stats)
        }
    }

    private func update(_ index: Int, _ stats: Trapline_Ring_V1_NodeStats?) async {
        let name = config.members[index].name
        guard let stats else {
            memberStats[name] = nil
            misses[index] += 1
            if alive[index], misses[index] >= config.failAfter {
                alive[index] = false
                record("bypass", name, "no answer to \(misses[index]) probes in a row; its predecessor runs its slice")
                resend { $0.nodes.contains(name) }
            }
            return
        }
        misses[index] = 0
        memberStats[name] = stats
        guard !alive[index] else { return }
        guard stats.modelID == node.modelID else {
            if refused.insert(name).inserted {
                record(
                    "refuse", name, "runs model \(stats.modelID.prefix(12)), the head runs \(node.modelID.prefix(12))")
            }
            return
        }
        refused.remove(name)
        guard let link = node.links[name], (try? await push(levels, to: link)) != nil else { return }
        alive[index] = true
        let first = !seen.contains(name)
        seen.insert(name)
        record(first ? "join" : "readmit", name, first ? "answered its first probe" : "answers again")
    }

    private var seen: Set<String> = []
    private var refused: Set<String> = []

    private func resendOverdue() {
        let now = Date().timeIntervalSince1970
        resend { now - $0.sentAt > self.config.resendSeconds }
    }

    private func resend(where predicate: (Pending) -> Bool) {
        for (id, entry) in pending where predicate(entry) {
            pending[id]?.attempt += 1
            resends += 1
            logger.info("resending batch", metadata: ["batch.id": "\(id)", "batch.attempt": "\(entry.attempt + 1)"])
            Task { await self.dispatch(id) }
        }
    }

    private func record(_ kind: String, _ name: String, _ reason: String) {
        logger.info(
            "ring membership", metadata: ["event.kind": "\(kind)", "peer.name": "\(name)", "reason": "\(reason)"])
        onEvent(RingEvent(kind: kind, node: name, reason: reason))
    }
}

import Control
import Dispatch
import Foundation

/// The appliance's head and ring on simulated time (docs/simulator.md): intake on the pipeline's input loop, one batch
/// queue for every camera, batches formed on a 100 ms tick or when one finishes, at most `maxInFlight` out, each
/// prepared on the head's decoding queue or (offload `auto`, while that queue is busy) on the least busy worker, then
/// sent round the route, one batch at a time per node, levels read when a node computes. The real ``Controller`` takes
/// every completed trip as the appliance gives it and its choice applies as the appliance applies it. Nodes share
/// their CPU among their threads (``CPU``); slowdowns change a node's share; a killed node is bypassed after two failed
/// probes and the batches routed through it are sent again.
final class Simulation {
    let scenario: Scenario
    let clock: Clock
    private var random: SplitMix64
    private let cpus: [CPU]
    private let computeQueues: [SerialQueue]
    /// The head's decoding queue (node 0), and each worker's preparation queue.
    private let prepareQueues: [SerialQueue]
    private let inputQueue: SerialQueue
    private let loopQueue: SerialQueue
    private let sliceOfUnit: [Int]

    private var controller: Controller?
    private var levels: [Int]
    private var partition: (nodes: [Int], bounds: [Int])
    private var alive: [Bool]
    private var dead: [Bool]
    private var misses: [Int]
    private var anticipated: [Double]
    private var outstandingOffloads: [Int]

    private var former: [Item] = []
    private var waitingAtTick = 0
    private var inFlight = 0
    private var arrivalTimes: [Double] = []
    private var recentHead: [(seconds: Double, slots: Int)] = []
    private var preparations: [(start: Double, end: Double)] = []
    private var pending: [Batch] = []

    private var records: [Record] = []
    private var labelled = 0
    private var agreement = 0.0
    private var levelChanges = 0
    private var moves = 0
    private var decisionSeconds = 0.0
    private var decisions = 0

    struct Item {
        var arrivedAt: Double
        var intakeSeconds: Double
    }

    final class Batch {
        let items: [Item]
        var started = 0.0
        var decodeMs = 0.0
        var headSeconds = 0.0
        var attempt = 0
        var route: [(node: Int, units: Range<Int>)] = []
        var dispatchedAt = 0.0
        var done = false
        init(items: [Item]) { self.items = items }
        var size: Int { items.count }
        var firstArrival: Double { items.map(\.arrivedAt).min() ?? 0 }
    }

    /// One trip of a batch round the ring: what each hop ran and took, and the level each slice ran at.
    final class Trip {
        /// The route it was sent on (a batch sent again takes the route of that moment).
        let route: [(node: Int, units: Range<Int>)]
        var hops: [HopSample] = []
        var starts: [Double] = []
        var ran: [Int?]
        init(route: [(node: Int, units: Range<Int>)], slices: Int) {
            self.route = route
            ran = Array(repeating: nil, count: slices)
        }
    }

    struct Record {
        var firstArrival: Double
        var completed: Double
        var size: Int
        var levels: [Int]
    }

    init(_ scenario: Scenario) throws {
        self.scenario = scenario
        let clock = Clock()
        self.clock = clock
        random = SplitMix64(state: scenario.seed)
        cpus = scenario.nodes.map { CPU(clock: clock, cores: $0.cores) }
        computeQueues = cpus.map { SerialQueue(cpu: $0) }
        prepareQueues = cpus.map { SerialQueue(cpu: $0) }
        inputQueue = SerialQueue(cpu: cpus[0])
        loopQueue = SerialQueue(cpu: cpus[0])
        let plan = scenario.plan
        var slices: [Int] = []
        for slice in 0..<(plan.count - 1) { slices += Array(repeating: slice, count: plan[slice + 1] - plan[slice]) }
        sliceOfUnit = slices
        let count = scenario.nodes.count
        levels = Array(repeating: 0, count: plan.count - 1)
        partition = (Array(0..<count), plan)
        alive = Array(repeating: true, count: count)
        dead = Array(repeating: false, count: count)
        misses = Array(repeating: 0, count: count)
        anticipated = Array(repeating: 0, count: count)
        outstandingOffloads = Array(repeating: 0, count: count)
        controller = try Self.controller(scenario)
    }

    private static func controller(_ scenario: Scenario) throws -> Controller? {
        let policy: Policy
        var settings = ControllerSettings()
        settings.drainBatches = scenario.drainBatches
        settings.utilisation = scenario.utilisation
        settings.relaxAfter = scenario.relaxAfter
        switch scenario.policy {
        case "none": return nil
        case "repartition": policy = .repartition
        case let name where name.hasPrefix("adaptive"):
            policy = .adaptive
            if let floor = Double(name.dropFirst("adaptive-floor".count)), name.hasPrefix("adaptive-floor") {
                settings.accuracyFloor = floor / 100
            }
        default: throw SimulationError("unknown policy \(scenario.policy)")
        }
        let plan = scenario.plan
        let options = scenario.accuracy.first?.count ?? 1
        // Each slice's profile on its own node: the sum of its units' profiles (the appliance measures the slice).
        let profiles = (0..<(plan.count - 1)).map { slice in
            let node = scenario.nodes[slice]
            let first = node.units[plan[slice]]
            return SliceProfile(
                node: node.name, units: [plan[slice], plan[slice + 1]], batchSizes: first.batchSizes,
                serviceMs: first.batchSizes.indices.map { row in
                    (0..<options).map { option in
                        (plan[slice]..<plan[slice + 1]).reduce(0.0) { $0 + node.units[$1].serviceMs[row][option] }
                    }
                })
        }
        let units = UnitProfiles(
            plan: plan, nodes: scenario.nodes.map(\.units), boundaryValues: scenario.boundaryValues)
        return try Controller(
            profiles: profiles, accuracy: AccuracyTable(full: scenario.accuracy[0][0], slices: scenario.accuracy),
            levelCount: options, policy: policy, settings: settings, units: units)
    }

    // MARK: Running

    func run() -> RunResult {
        for (index, at) in scenario.arrivals.enumerated() {
            clock.at(at) { [self] in arrive(index) }
        }
        for change in scenario.slowdowns {
            clock.at(change.at) { [self] in cpus[change.node].factor = change.factor }
        }
        for change in scenario.temperatures {
            clock.at(change.at) { [self] in
                // The head plans a node at 1.5 times when it reads 3 °C under the 80 °C limit or a throttling flag.
                anticipated[change.node] = change.celsius >= 77 || change.throttling ? 1.5 : 0
            }
        }
        for kill in scenario.kills {
            clock.at(kill.at) { [self] in
                dead[kill.node] = true
                cpus[kill.node].drop()
                computeQueues[kill.node].drop()
                prepareQueues[kill.node].drop()
            }
            if let until = kill.until { clock.at(until) { [self] in dead[kill.node] = false } }
        }
        let end = (scenario.arrivals.last ?? 0) + scenario.drainSeconds
        tick(end: end)
        probe(end: end)
        clock.run(until: end)
        return result()
    }

    private func tick(end: Double) {
        startBatches()
        waitingAtTick = former.count
        guard clock.now + 0.1 <= end, labelled < scenario.arrivals.count else { return }
        clock.after(0.1) { [self] in tick(end: end) }
    }

    /// Every 0.5 s the head probes each worker: two failures in a row bypass it, an answer re-admits it; a batch
    /// unanswered for 10 s is sent again.
    private func probe(end: Double) {
        for node in 1..<cpus.count {
            if dead[node] {
                misses[node] += 1
                if misses[node] >= 2, alive[node] {
                    alive[node] = false
                    anticipated[node] = 0
                    for batch in pending where batch.route.contains(where: { $0.node == node }) { dispatch(batch) }
                }
            } else {
                misses[node] = 0
                alive[node] = true
            }
        }
        for batch in pending where clock.now - batch.dispatchedAt > 10 { dispatch(batch) }
        guard clock.now + 0.5 <= end, labelled < scenario.arrivals.count else { return }
        clock.after(0.5) { [self] in probe(end: end) }
    }

    private func arrive(_ index: Int) {
        let written = clock.now
        arrivalTimes.append(written)
        inputQueue.submit({ self.work(self.scenario.head.intakeMs, node: 0) }) { [self] start, end in
            former.append(Item(arrivedAt: end, intakeSeconds: end - start))
        }
    }

    private func startBatches() {
        let maxSize = scenario.batchMaxSize
        while inFlight < scenario.maxInFlight, let first = former.first,
            former.count >= maxSize || clock.now - first.arrivedAt >= scenario.batchMaxWaitSeconds
        {
            let batch = Batch(items: Array(former.prefix(maxSize)))
            former.removeFirst(batch.size)
            inFlight += 1
            launch(batch)
        }
    }

    // MARK: A batch

    private func launch(_ batch: Batch) {
        batch.started = clock.now
        batch.headSeconds = batch.items.reduce(0) { $0 + $1.intakeSeconds }
        let images = Double(batch.size)
        if scenario.offload == "auto", prepareQueues[0].busy, let worker = idleWorker() {
            outstandingOffloads[worker] += 1
            let readStart = clock.now
            var finished = false
            cpus[0].run(work(scenario.head.offloadReadMs * images, node: 0)) { [self] in
                batch.headSeconds += clock.now - readStart
                clock.after(scenario.linkFixedMs / 1000) { [self] in
                    guard !dead[worker] else { return }
                    prepareQueues[worker].submit({ self.work(self.scenario.head.prepareMs * images, node: 0) }) {
                        [self] _, _ in
                        clock.after(scenario.linkFixedMs / 1000) { [self] in
                            guard !finished else { return }
                            finished = true
                            outstandingOffloads[worker] -= 1
                            prepared(batch)
                        }
                    }
                }
            }
            // A worker that never answers leaves the batch to the head after the resend timeout.
            clock.after(10) { [self] in
                guard !finished else { return }
                finished = true
                outstandingOffloads[worker] -= 1
                prepareLocally(batch)
            }
            return
        }
        prepareLocally(batch)
    }

    /// The live worker with no preparation of the head's outstanding and the shortest compute queue.
    private func idleWorker() -> Int? {
        (1..<cpus.count).filter { alive[$0] && !dead[$0] && outstandingOffloads[$0] == 0 }
            .min { computeQueues[$0].length < computeQueues[$1].length }
    }

    private func prepareLocally(_ batch: Batch) {
        prepareQueues[0].submit({ self.work(self.scenario.head.prepareMs * Double(batch.size), node: 0) }) {
            [self] start, end in
            preparations.append((start, end))
            if preparations.count > 16 { preparations.removeFirst() }
            batch.headSeconds += end - start
            prepared(batch)
        }
    }

    private func prepared(_ batch: Batch) {
        batch.decodeMs = (clock.now - batch.started) * 1000
        let start = clock.now
        cpus[0].run(work(scenario.head.normaliseMs * Double(batch.size), node: 0)) { [self] in
            batch.headSeconds += clock.now - start
            recentHead.append((batch.headSeconds, batch.size))
            if recentHead.count > 16 { recentHead.removeFirst() }
            pending.append(batch)
            dispatch(batch)
        }
    }

    /// Sends a batch from its first unit on the route of the moment (again, for a batch already sent).
    private func dispatch(_ batch: Batch) {
        batch.attempt += 1
        batch.route = route()
        batch.dispatchedAt = clock.now
        let trip = Trip(route: batch.route, slices: levels.count)
        compute(batch, attempt: batch.attempt, trip: trip, stage: 0, linkMs: 0)
    }

    /// The partition when its members are the live ones; otherwise the plan, each dead node's slices on its nearest
    /// live predecessor, consecutive slices of one node merged into one hop.
    private func route() -> [(node: Int, units: Range<Int>)] {
        let live = alive.indices.filter { alive[$0] }
        if partition.nodes == live {
            return live.indices.map { (live[$0], partition.bounds[$0]..<partition.bounds[$0 + 1]) }
        }
        var hops: [(node: Int, units: Range<Int>)] = []
        let plan = scenario.plan
        for slice in 0..<(plan.count - 1) {
            let host = (0...slice).last { alive[$0] } ?? 0
            if let last = hops.last, last.node == host {
                hops[hops.count - 1].units = last.units.lowerBound..<plan[slice + 1]
            } else {
                hops.append((host, plan[slice]..<plan[slice + 1]))
            }
        }
        return hops
    }

    private func compute(_ batch: Batch, attempt: Int, trip: Trip, stage: Int, linkMs: Double) {
        let hop = trip.route[stage]
        guard !dead[hop.node] else { return }
        let size = batch.size
        computeQueues[hop.node].submit(
            { [self] in
                // Levels are read when the node computes, so a change reaches batches already in flight.
                var seconds = 0.0
                for unit in hop.units {
                    let slice = sliceOfUnit[unit]
                    if trip.ran[slice] == nil { trip.ran[slice] = levels[slice] }
                    seconds += scenario.nodes[hop.node].units[unit].serviceMs(batch: size, level: levels[slice]) / 1000
                }
                let noise = exp(scenario.computeNoise * random.normal())
                return seconds * noise * min(1, scenario.nodes[hop.node].cores)
            },
            { [self] start, end in
                trip.hops.append(
                    HopSample(node: hop.node, units: hop.units, computeMs: (end - start) * 1000, linkMs: linkMs))
                trip.starts.append(start)
                if stage + 1 < trip.route.count {
                    let values = Double(scenario.boundaryValues[hop.units.upperBound] * size)
                    let delay = (scenario.linkFixedMs + scenario.linkMsPerValue * values) / 1000
                    clock.after(delay) { [self] in
                        compute(batch, attempt: attempt, trip: trip, stage: stage + 1, linkMs: delay * 1000)
                    }
                } else {
                    clock.after(scenario.linkFixedMs / 1000) { [self] in finish(batch, trip: trip) }
                }
            })
    }

    private func finish(_ batch: Batch, trip: Trip) {
        // The first answer wins; a batch sent again answers twice.
        guard !batch.done else { return }
        batch.done = true
        pending.removeAll { $0 === batch }
        let ran = trip.ran.enumerated().map { $1 ?? levels[$0] }
        if var controller {
            let started = DispatchTime.now().uptimeNanoseconds
            let decision = controller.observe(observation(batch, trip: trip, ran: ran))
            decisionSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            decisions += 1
            self.controller = controller
            if decision.moved {
                partition = (decision.stageNodes, decision.bounds)
                moves += 1
            }
            if !decision.changes.isEmpty {
                levels = decision.levels
                levelChanges += 1
            }
        }
        cpus[0].run(work(scenario.head.labelMs * Double(batch.size), node: 0)) { [self] in
            records.append(
                Record(firstArrival: batch.firstArrival, completed: clock.now, size: batch.size, levels: ran))
            labelled += batch.size
            agreement += Double(batch.size) * expectedAgreement(ran)
            inFlight -= 1
            loopQueue.submit({ self.work(self.scenario.head.commitMs * Double(batch.size), node: 0) }) { _, _ in }
            startBatches()
        }
    }

    /// What the appliance's PruningControl gives the controller for a trip.
    private func observation(_ batch: Batch, trip: Trip, ran: [Int]) -> BatchObservation {
        let sustained = sustainedRate()
        var observation = BatchObservation(
            batchSize: batch.size, sliceMs: [], sliceLevels: ran, linkMs: trip.hops.dropFirst().map(\.linkMs),
            arrivalRate: sustained, backlogBatches: Double(waitingAtTick) / Double(scenario.batchMaxSize),
            deadlineMs: (scenario.sloSeconds - scenario.batchMaxWaitSeconds) * 1000 - batch.decodeMs)
        observation.hops = trip.hops.enumerated().map { index, hop in
            guard hop.node == 0 else { return hop }
            // The head's hop, less half its overlap with the head's own preparations (two threads on one share).
            let start = trip.starts[index]
            let end = start + hop.computeMs / 1000
            let overlap = preparations.reduce(0.0) { $0 + max(0, min(end, $1.end) - max(start, $1.start)) }
            var adjusted = hop
            adjusted.computeMs = max(hop.computeMs / 2, hop.computeMs - overlap * 1000 / 2)
            return adjusted
        }
        let seconds = recentHead.reduce(0) { $0 + $1.seconds }
        let slots = recentHead.reduce(0) { $0 + $1.slots }
        observation.overheadMs =
            [slots > 0 ? seconds * 1000 / Double(slots) : 0]
            + Array(repeating: 0, count: cpus.count - 1)
        observation.anticipatedSlowdowns = anticipated.indices.map { alive[$0] ? anticipated[$0] : 0 }
        return observation
    }

    /// The arrival rate over the last minute (the appliance's sustained rate under a drain target).
    private func sustainedRate() -> Double {
        guard let first = arrivalTimes.first else { return 0 }
        let span = max(2, min(60, clock.now - first))
        let since = clock.now - span
        let count = arrivalTimes.reversed().prefix { $0 > since }.count
        return Double(count) / span
    }

    private func expectedAgreement(_ ran: [Int]) -> Double {
        var product = 1.0
        for (slice, level) in ran.enumerated() where slice < scenario.accuracy.count {
            let curve = scenario.accuracy[slice]
            product *= curve[0] > 0 ? curve[min(level, curve.count - 1)] / curve[0] : 1
        }
        return product
    }

    /// Core-seconds of `ms` measured on one thread alone at the node's normal share.
    private func work(_ ms: Double, node: Int) -> Double {
        ms / 1000 * min(1, scenario.nodes[node].cores)
    }

    // MARK: The result

    private func result() -> RunResult {
        let latencies = records.map { ($0.completed - $0.firstArrival) * 1000 }.sorted()
        func percentile(_ q: Double) -> Double {
            latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(q * Double(latencies.count)))]
        }
        let met = records.filter { $0.completed - $0.firstArrival <= scenario.sloSeconds }.count
        let slots = records.reduce(0) { $0 + $1.size }
        let span = (records.map(\.completed).max() ?? 0) - (records.map(\.firstArrival).min() ?? 0)
        var slowed: Double?
        if let window = scenario.window, window.count == 2, window[1] > window[0] {
            let inside = records.filter { $0.completed >= window[0] && $0.completed < window[1] }
            slowed = Double(inside.reduce(0) { $0 + $1.size }) / (window[1] - window[0])
        }
        let start = scenario.arrivals.first ?? 0
        return RunResult(
            name: scenario.name, policy: scenario.policy, arrivals: scenario.arrivals.count, labelled: labelled,
            batches: records.count, sloAttainment: records.isEmpty ? 0 : Double(met) / Double(records.count),
            latencyMs: ["p50": percentile(0.5), "p95": percentile(0.95), "p99": percentile(0.99)],
            throughputImagesPerSecond: span > 0 ? Double(slots) / span : 0, throughputSlowedImagesPerSecond: slowed,
            top1Agreement: labelled > 0 ? agreement / Double(labelled) : .nan, levelChanges: levelChanges,
            boundaryMoves: moves, meanDecisionMs: decisions > 0 ? decisionSeconds * 1000 / Double(decisions) : 0,
            series: scenario.series
                ? records.map {
                    SeriesPoint(
                        t: $0.completed - start, latencyMs: ($0.completed - $0.firstArrival) * 1000, levels: $0.levels,
                        met: $0.completed - $0.firstArrival <= scenario.sloSeconds)
                } : nil)
    }
}

struct SimulationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Every unit's predicted time on every stage at every option, and every link's, for one batch: what the joint
/// search loads into a ``PartitionSearch`` per level vector.
struct JointCosts: Sendable {
    let stageCount: Int
    let unitCount: Int
    let optionCount: Int
    /// `unitMs[(stage * unitCount + unit) * optionCount + option]`.
    let unitMs: [Double]
    /// `linkMs[stage * (unitCount + 1) + boundary]`: the stage sending that boundary's activation.
    let linkMs: [Double]
    /// Per stage: its time on the batch outside its units (the head's preparation of the images).
    var overheadMs: [Double] = []
    let sliceOfUnit: [Int]
    let backlogBatches: Double

    /// Loads one level vector's costs.
    func load(_ levels: [Int], into search: inout PartitionSearch) {
        search.set(
            unitMs: { stage, unit in
                unitMs[(stage * unitCount + unit) * optionCount + levels[sliceOfUnit[unit]]]
            },
            linkMs: { stage, boundary in linkMs[stage * (unitCount + 1) + boundary] },
            overheadMs: { stage in stage < overheadMs.count ? overheadMs[stage] : 0 })
    }

    /// The prediction of a partition: `latency = backlog * bottleneck + total`, as ``StageModel`` predicts.
    func prediction(_ timing: PartitionTiming) -> Prediction {
        Prediction(bottleneckMs: timing.bottleneckMs, latencyMs: backlogBatches * timing.bottleneckMs + timing.totalMs)
    }
}

/// A level vector with the boundaries the joint search chose for it.
struct Placement: Sendable {
    var candidate: Candidate
    var bounds: [Int]
}

extension Controller {
    /// How the joint search moved.
    enum JointMove: Sendable {
        case keep, move, prune, relax, rebalance, overloaded
    }

    /// Takes a batch's hops into the members' slowdowns and the links' speeds, and predicts the next batch's unit
    /// and link times.
    mutating func prepareJoint(_ observation: BatchObservation, batch: Int) -> JointCosts {
        guard let units else { preconditionFailure("prepareJoint needs unit profiles") }
        adoptShape(observation.hops, units: units)
        // A node that is not about to throttle anticipates nothing: 0 leaves its measured slowdown (even under 1).
        anticipated = observation.anticipatedSlowdowns.map { $0.isFinite ? $0 : 0 }
        updateNodes(observation, batch: batch, units: units)
        return jointCosts(batch: batch, backlog: queueInLatency(observation), units: units)
    }

    /// Chooses the next batch's boundaries and levels together.
    mutating func chooseJoint(_ costs: JointCosts, _ constraints: Constraints, batch: Int) -> Decision {
        guard let units else { preconditionFailure("chooseJoint needs unit profiles") }
        var search = PartitionSearch(stageCount: stageNodes.count, unitCount: units.unitCount)
        let fixedBounds = units.planBounds(for: stageNodes)
        switch policy {
        case .none:
            return holdJoint(
                Array(repeating: 0, count: profiles.count), fixedBounds, "policy none", costs, &search, constraints)
        case .fixed(let fixed): return holdJoint(fixed, fixedBounds, "policy static", costs, &search, constraints)
        case .repartition: return repartition(costs, &search, constraints)
        case .adaptive: return adaptJoint(costs, &search, constraints, batch: batch, units: units)
        }
    }

    /// The slowdown of each member the joint search plans with (measured over profiled time of the units it
    /// ran, smoothed; the newest sample while a rise is not yet confirmed); 1 before its first sample. Only a
    /// controller with ``units`` measures members.
    public var nodeSlowdowns: [Double] {
        nodeSmoothers.indices.map { node in
            let measured = nodeSmoothers[node].planning ?? 1
            return node < anticipated.count ? max(measured, anticipated[node]) : measured
        }
    }

    /// The members planned slower than measured because they are about to throttle.
    var anticipating: [Int] {
        nodeSmoothers.indices.filter { node in
            node < anticipated.count && anticipated[node] > (nodeSmoothers[node].planning ?? 1)
        }
    }

    /// Follows the ring when the members running it changed (a node failed or came back): the boundaries become
    /// the ones the batch ran with, and the links' history is dropped.
    private mutating func adoptShape(_ hops: [HopSample], units: UnitProfiles) {
        let nodes = hops.map(\.node)
        guard nodes != stageNodes else { return }
        let ascending = zip(nodes, nodes.dropFirst()).allSatisfy { $0 < $1 }
        guard let first = nodes.first, first == 0, ascending, nodes.last ?? 0 < units.nodes.count else { return }
        stageNodes = nodes
        let ran = hops.map(\.units.lowerBound) + [hops.last?.units.upperBound ?? 0]
        let contiguous = zip(hops, hops.dropFirst()).allSatisfy { $0.units.upperBound == $1.units.lowerBound }
        let valid = contiguous && ran.first == 0 && ran.last == units.unitCount && hops.allSatisfy { !$0.units.isEmpty }
        bounds = valid ? ran : units.planBounds(for: nodes)
        rateSmoothers = Array(repeating: Smoother(), count: units.nodes.count)
    }

    private mutating func updateNodes(_ observation: BatchObservation, batch: Int, units: UnitProfiles) {
        for (node, ms) in observation.overheadMs.enumerated() where node < overheadSmoothers.count {
            overheadSmoothers[node].add(ms, weight: settings.smoothing, shiftThreshold: settings.shiftThreshold)
        }
        let sliceOfUnit = units.sliceOfUnit
        let ran = observation.sliceLevels.count == profiles.count ? observation.sliceLevels : levels
        for (index, hop) in observation.hops.enumerated() {
            guard hop.node >= 0, hop.node < units.nodes.count, hop.units.lowerBound >= 0,
                hop.units.upperBound <= units.unitCount
            else { continue }
            let profiled = hop.units.reduce(0.0) { sum, unit in
                sum + units.nodes[hop.node][unit].serviceMs(batch: batch, level: ran[sliceOfUnit[unit]])
            }
            if hop.computeMs.isFinite, hop.computeMs > 0, profiled > 0 {
                nodeSmoothers[hop.node].add(
                    hop.computeMs / profiled, weight: settings.smoothing, shiftThreshold: settings.shiftThreshold)
            }
            guard index > 0 else { continue }
            let sender = observation.hops[index - 1].node
            let values = Double(units.boundaryValues[hop.units.lowerBound] * batch)
            guard sender >= 0, sender < rateSmoothers.count, hop.linkMs.isFinite, hop.linkMs >= 0 else { continue }
            rateSmoothers[sender].add(
                hop.linkMs / values, weight: settings.smoothing, shiftThreshold: settings.shiftThreshold)
        }
    }

    /// Predicted unit and link times: a member's slowdown times its own profile; a link's measured milliseconds
    /// per value times the boundary's values (a member whose link was never measured takes the others' mean).
    private func jointCosts(batch: Int, backlog: Double, units: UnitProfiles) -> JointCosts {
        let slowdowns = nodeSlowdowns
        let unitCount = units.unitCount
        var unitMs: [Double] = []
        unitMs.reserveCapacity(stageNodes.count * unitCount * levelCount)
        for node in stageNodes {
            for unit in 0..<unitCount {
                for option in 0..<levelCount {
                    unitMs.append(slowdowns[node] * units.nodes[node][unit].serviceMs(batch: batch, level: option))
                }
            }
        }
        let known = rateSmoothers.compactMap(\.value)
        let fallback = known.isEmpty ? 0 : known.reduce(0, +) / Double(known.count)
        var linkMs: [Double] = []
        for node in stageNodes {
            let rate = rateSmoothers[node].value ?? fallback
            for boundary in 0...unitCount { linkMs.append(rate * Double(units.boundaryValues[boundary] * batch)) }
        }
        var costs = JointCosts(
            stageCount: stageNodes.count, unitCount: unitCount, optionCount: levelCount, unitMs: unitMs,
            linkMs: linkMs, sliceOfUnit: units.sliceOfUnit,
            backlogBatches: backlog.isFinite ? max(backlog, 0) : 0)
        costs.overheadMs = stageNodes.map { node in
            node < overheadSmoothers.count ? (overheadSmoothers[node].value ?? 0) * Double(batch) : 0
        }
        return costs
    }

    /// The vector's least-latency boundaries among those whose every stage and link keeps within `margin` of the
    /// throughput bound, when that latency is within `margin` of the deadline too (exact: no partition of the
    /// vector fits when this returns nil).
    func fitting(
        _ index: Int, _ costs: JointCosts, _ search: inout PartitionSearch, _ constraints: Constraints,
        margin: Double = 1
    ) -> Placement? {
        costs.load(space.levels(at: index), into: &search)
        let cap = margin * constraints.throughputMs
        guard var bounds = search.leastTotal(capMs: cap) else { return nil }
        var prediction = costs.prediction(search.timing(bounds))
        if !constraints.fits(prediction, margin: margin) {
            // Without a backlog the least total is the least latency: nothing fits. With one, a partition with a
            // smaller bottleneck might; none can beat `backlog x least bottleneck + least total`, so the exact
            // sweep runs only when that bound fits (the search runs every batch on the head).
            guard costs.backlogBatches > 0 else { return nil }
            let fastest = search.timing(search.leastBottleneck()).bottleneckMs
            let floor = costs.backlogBatches * fastest + search.timing(bounds).totalMs
            guard floor <= margin * constraints.deadlineMs,
                let quickest = search.leastLatency(capMs: cap, backlog: costs.backlogBatches)
            else { return nil }
            bounds = quickest
            prediction = costs.prediction(search.timing(bounds))
            guard constraints.fits(prediction, margin: margin) else { return nil }
        }
        return Placement(
            candidate: Candidate(index: index, prediction: prediction, accuracy: expectedAccuracy(index)),
            bounds: bounds)
    }

    /// When nothing fits, a change must cut the overload by ``overloadGain`` to be made: with every choice
    /// overloaded, noise alone would otherwise move boundaries and levels on almost every batch (the first ring
    /// experiment with moves made 166 to 274 moves in 450 batches).
    func steady(_ now: Placement, _ least: Placement, _ constraints: Constraints) -> Placement {
        let (current, best) = (
            constraints.overload(now.candidate.prediction), constraints.overload(least.candidate.prediction)
        )
        return current <= (1 + Self.overloadGain) * best ? now : least
    }

    /// The share by which a change must cut the overload when nothing fits.
    static let overloadGain = 0.1

    /// The vector's boundaries with the least bottleneck, for when nothing fits.
    func leastLoaded(_ index: Int, _ costs: JointCosts, _ search: inout PartitionSearch) -> Placement {
        costs.load(space.levels(at: index), into: &search)
        let bounds = search.leastBottleneck()
        return Placement(
            candidate: Candidate(
                index: index, prediction: costs.prediction(search.timing(bounds)), accuracy: expectedAccuracy(index)),
            bounds: bounds)
    }

    /// Whether the current boundaries and levels are kept: they meet both bounds within
    /// ``ControllerSettings/keepTolerance``, so that a change answers a miss larger than the measurements' noise.
    func keeps(_ now: Placement, _ constraints: Constraints) -> Bool {
        constraints.fits(now.candidate.prediction, margin: 1 + settings.keepTolerance)
    }

    /// The expected accuracy of a vector: from the walked space's table, or computed when it is only numbered.
    func expectedAccuracy(_ index: Int) -> Double {
        space.isEnumerated ? space.accuracy[index] : accuracy.expected(space.levels(at: index))
    }

    func current(_ costs: JointCosts, _ search: inout PartitionSearch) -> Placement {
        let index = space.index(of: levels)
        costs.load(levels, into: &search)
        return Placement(
            candidate: Candidate(
                index: index, prediction: costs.prediction(search.timing(bounds)), accuracy: expectedAccuracy(index)),
            bounds: bounds)
    }

    /// Moves only: full width everywhere, boundaries kept while they meet both constraints.
    private mutating func repartition(
        _ costs: JointCosts, _ search: inout PartitionSearch, _ constraints: Constraints
    ) -> Decision {
        let now = current(costs, &search)
        if keeps(now, constraints) {
            return commitJoint(now, .keep, now, constraints)
        }
        if let moved = fitting(0, costs, &search, constraints) { return commitJoint(moved, .move, now, constraints) }
        return commitJoint(steady(now, leastLoaded(0, costs, &search), constraints), .overloaded, now, constraints)
    }

    /// Moves and prunes: the most accurate vector that fits with its best boundaries, so a move that costs no
    /// accuracy always wins over pruning; relaxing only after the slack has lasted, as ``adapt(_:_:)``.
    private mutating func adaptJoint(
        _ costs: JointCosts, _ search: inout PartitionSearch, _ constraints: Constraints, batch: Int,
        units: UnitProfiles
    ) -> Decision {
        if usesFrontier { return adaptFrontier(costs, &search, constraints, batch: batch, units: units) }
        let now = current(costs, &search)
        var visited = [Bool](repeating: false, count: space.count)
        defer {
            for index in visited.indices where !visited[index] {
                streaks[index] = 0
                fitStreaks[index] = 0
            }
        }
        if keeps(now, constraints) {
            if let relaxed = relaxation(now, costs, &search, constraints, visited: &visited) {
                return commitJoint(relaxed, .relax, now, constraints)
            }
            return commitJoint(now, .keep, now, constraints)
        }
        let shed = sliceCosts(batch: batch, units: units)
        var best: Placement?
        for index in order where space.allowed[index] {
            guard let fit = fitting(index, costs, &search, constraints) else { continue }
            if best == nil { best = fit }
            let vector = space.levels(at: index)
            let tightening = vector.indices.allSatisfy { slice in
                let (a, b) = (shed[slice][vector[slice]], shed[slice][levels[slice]])
                return a < b || (a == b && vector[slice] >= levels[slice])
            }
            guard tightening else { continue }
            return commitJoint(fit, vector == levels ? .move : .prune, now, constraints)
        }
        if let best { return commitJoint(best, .rebalance, now, constraints) }
        var least = leastLoaded(now.candidate.index, costs, &search)
        for index in order where space.allowed[index] {
            let found = leastLoaded(index, costs, &search)
            if found.candidate.isLessOverloaded(than: least.candidate, under: constraints) { least = found }
        }
        return commitJoint(steady(now, least, constraints), .overloaded, now, constraints)
    }

    /// The relaxation to take now, if any: the most accurate vector that has fit for ``relaxAfter`` batches, once
    /// it has also fit within the relax margin for as long, or has fit for ``longRelaxFactor`` times as long.
    ///
    /// Taking the most accurate such vector, rather than any that has fit within the margin, keeps a recovery to
    /// one change: when full width fits again but not within the margin, the controller waits for it instead of
    /// relaxing part way first and again later.
    private mutating func relaxation(
        _ now: Placement, _ costs: JointCosts, _ search: inout PartitionSearch, _ constraints: Constraints,
        visited: inout [Bool]
    ) -> Placement? {
        var target: (fit: Placement, index: Int)?
        for index in order where space.allowed[index] {
            guard space.accuracy[index] > now.candidate.accuracy + Candidate.accuracyTolerance else { break }
            visited[index] = true
            let fit = fitting(index, costs, &search, constraints)
            let slack = fit == nil ? nil : fitting(index, costs, &search, constraints, margin: settings.relaxMargin)
            fitStreaks[index] = fit == nil ? 0 : fitStreaks[index] + 1
            streaks[index] = slack == nil ? 0 : streaks[index] + 1
            if target == nil, let chosen = slack ?? fit, fitStreaks[index] >= settings.relaxAfter {
                target = (chosen, index)
            }
        }
        guard let target else { return nil }
        let lasted =
            streaks[target.index] >= settings.relaxAfter
            || fitStreaks[target.index] >= Self.longRelaxFactor * settings.relaxAfter
        return lasted ? target.fit : nil
    }

    /// How many times ``ControllerSettings/relaxAfter`` a vector must fit, without the relax margin's slack,
    /// before the joint search relaxes to it.
    static let longRelaxFactor = 4

    /// Each slice's profiled time per option on the head (a ranking of options by cost, for "prunes more").
    func sliceCosts(batch: Int, units: UnitProfiles) -> [[Double]] {
        (0..<profiles.count).map { slice in
            (0..<levelCount).map { option in
                (units.plan[slice]..<units.plan[slice + 1]).reduce(0.0) {
                    $0 + units.nodes[0][$1].serviceMs(batch: batch, level: option)
                }
            }
        }
    }

    /// A policy that neither moves nor adapts: fixed levels on the plan's boundaries.
    private mutating func holdJoint(
        _ target: [Int], _ fixedBounds: [Int], _ name: String, _ costs: JointCosts, _ search: inout PartitionSearch,
        _ constraints: Constraints
    ) -> Decision {
        costs.load(target, into: &search)
        let index = space.index(of: target)
        let placement = Placement(
            candidate: Candidate(
                index: index, prediction: costs.prediction(search.timing(fixedBounds)),
                accuracy: expectedAccuracy(index)),
            bounds: fixedBounds)
        let fits = constraints.fits(placement.candidate.prediction)
        let verdict = fits ? "meets both constraints" : Self.misses(placement.candidate.prediction, constraints)
        let reason = "\(name) \(Formatting.levels(target)) on \(Formatting.levels(fixedBounds)): \(verdict)"
        return commitJoint(placement, reason: reason, constraints, feasible: fits)
    }

    mutating func commitJoint(
        _ chosen: Placement, _ move: JointMove, _ now: Placement, _ constraints: Constraints
    ) -> Decision {
        let target = Formatting.levels(space.levels(at: chosen.candidate.index))
        let on = "\(target) on \(Formatting.levels(chosen.bounds))"
        let was = "\(Formatting.levels(levels)) on \(Formatting.levels(bounds))"
        let missed = Self.misses(now.candidate.prediction, constraints)
        let margin = "\(Formatting.fixed(settings.relaxMargin * 100, 0))% of both bounds"
        let reason: String
        switch move {
        case .keep where constraints.fits(chosen.candidate.prediction):
            reason = "keep \(on): it meets both constraints"
        case .keep:
            reason =
                "keep \(on): it \(Self.misses(chosen.candidate.prediction, constraints)), by less than "
                + "\(Formatting.fixed(settings.keepTolerance * 100, 0))% (within the measurements' noise)"
        case .move: reason = "move to \(on) without pruning: \(was) \(missed)"
        case .prune: reason = "prune to \(on): \(was) \(missed), and no move without pruning fits"
        case .relax: reason = "relax to \(on): it has fit within \(margin) for \(Self.batches(settings.relaxAfter))"
        case .rebalance:
            reason =
                "move to \(on): \(was) \(missed), and no vector that only prunes more fits (the accuracy "
                + "floor rules them out)"
        case .overloaded where chosen.candidate.index == now.candidate.index && chosen.bounds == now.bounds:
            reason =
                "no boundaries and levels meet both constraints; keep \(on): no other cuts its overload by "
                + "\(Formatting.fixed(Self.overloadGain * 100, 0))%, and it "
                + Self.misses(chosen.candidate.prediction, constraints)
        case .overloaded:
            reason =
                "no boundaries and levels meet both constraints; \(on) has the least overload: it "
                + Self.misses(chosen.candidate.prediction, constraints)
        }
        let heat =
            anticipating.isEmpty
            ? "" : "; members \(Formatting.levels(anticipating)) planned as if throttling (temperature near the limit)"
        let outside = overheadSmoothers.map { $0.value ?? 0 }
        let work =
            outside.allSatisfy({ $0 <= 0 })
            ? "" : "; work outside the units \(Formatting.list(outside)) ms per image per member"
        return commitJoint(chosen, reason: reason + heat + work, constraints, feasible: move != .overloaded)
    }

    private mutating func commitJoint(
        _ chosen: Placement, reason: String, _ constraints: Constraints, feasible: Bool
    ) -> Decision {
        let target = space.levels(at: chosen.candidate.index)
        let moved = chosen.bounds != bounds
        bounds = chosen.bounds
        var decision = commit(
            target, reason: reason, prediction: chosen.candidate.prediction, constraints: constraints,
            feasible: feasible, slowdowns: nodeSlowdowns)
        decision.stageNodes = stageNodes
        decision.bounds = chosen.bounds
        decision.moved = moved
        return decision
    }
}

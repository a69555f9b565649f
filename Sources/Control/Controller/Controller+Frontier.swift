extension Controller {
    /// The adaptive joint choice on a ring too large to walk every level vector: the same moves as
    /// ``adaptJoint`` (keep while the current choice fits; otherwise the most accurate choice that only prunes more,
    /// then the most accurate that fits, then the least overloaded), each found by the frontier search.
    ///
    /// Relaxing follows the walked search's rule for the vectors this search proposes: each batch the most accurate
    /// choice that fits joins the candidates, every candidate's streaks of fitting (and fitting within the relax
    /// margin) are counted, and the most accurate one that has fit for ``ControllerSettings/relaxAfter`` batches is
    /// taken once it has also had the margin's slack as long, or has fit for ``longRelaxFactor`` times as long.
    mutating func adaptFrontier(
        _ costs: JointCosts, _ search: inout PartitionSearch, _ constraints: Constraints, batch: Int,
        units: UnitProfiles
    ) -> Decision {
        let now = current(costs, &search)
        let frontier = FrontierSearch(costs: costs, table: accuracy, sliceCount: profiles.count)
        // When even full width misses the floor, full width is the only choice (as in the walked space).
        let fullMissesFloor = accuracy.expected(Array(repeating: 0, count: profiles.count)) < settings.accuracyFloor
        let floor = fullMissesFloor ? -Double.infinity : settings.accuracyFloor
        let permitted = (0..<profiles.count).map { _ in (0..<levelCount).map { !fullMissesFloor || $0 == 0 } }
        if keeps(now, constraints) {
            if let relaxed = frontierRelaxation(now, frontier, costs, &search, constraints, permitted, floor) {
                frontierStreaks = [:]
                return commitJoint(relaxed, .relax, now, constraints)
            }
            return commitJoint(now, .keep, now, constraints)
        }
        frontierStreaks = [:]
        let shed = sliceCosts(batch: batch, units: units)
        let tightening = permitted.indices.map { slice in
            permitted[slice].indices.map { option in
                let (a, b) = (shed[slice][option], shed[slice][levels[slice]])
                return permitted[slice][option] && (a < b || (a == b && option >= levels[slice]))
            }
        }
        let (cap, deadline) = (constraints.throughputMs, constraints.deadlineMs)
        if let found = frontier.best(capMs: cap, deadlineMs: deadline, options: tightening, floor: floor) {
            let chosen = placement(found, costs, &search)
            return commitJoint(chosen, found.levels == levels ? .move : .prune, now, constraints)
        }
        if let found = frontier.best(capMs: cap, deadlineMs: deadline, options: permitted, floor: floor) {
            return commitJoint(placement(found, costs, &search), .rebalance, now, constraints)
        }
        let least = leastOverloaded(now, frontier, costs, &search, constraints, permitted, floor)
        return commitJoint(steady(now, least, constraints), .overloaded, now, constraints)
    }

    /// The choice as a placement, its prediction timed by the partition search as the walked search's are.
    private func placement(_ choice: FrontierChoice, _ costs: JointCosts, _ search: inout PartitionSearch)
        -> Placement
    {
        costs.load(choice.levels, into: &search)
        let index = space.index(of: choice.levels)
        return Placement(
            candidate: Candidate(
                index: index, prediction: costs.prediction(search.timing(choice.bounds)), accuracy: choice.accuracy),
            bounds: choice.bounds)
    }

    /// Counts the candidates' streaks and returns the relaxation to take now, if any.
    private mutating func frontierRelaxation(
        _ now: Placement, _ frontier: FrontierSearch, _ costs: JointCosts, _ search: inout PartitionSearch,
        _ constraints: Constraints, _ permitted: [[Bool]], _ floor: Double
    ) -> Placement? {
        let (table, least) = (accuracy, now.candidate.accuracy + Candidate.accuracyTolerance)
        let better = { (levels: [Int]) in table.expected(levels) > least }
        if let best = frontier.best(
            capMs: constraints.throughputMs, deadlineMs: constraints.deadlineMs, options: permitted, floor: floor,
            above: now.candidate.accuracy),
            frontierStreaks[best.levels] == nil
        {
            frontierStreaks[best.levels] = (0, 0)
            // Only the most accurate few are followed: each costs two partition searches a batch.
            while frontierStreaks.count > Self.relaxationCandidates,
                let dropped = frontierStreaks.keys.min(by: { table.expected($0) < table.expected($1) })
            {
                frontierStreaks[dropped] = nil
            }
        }
        var target: (fit: Placement, accuracy: Double, levels: [Int])?
        for (levels, streak) in frontierStreaks {
            let index = space.index(of: levels)
            guard better(levels), let fit = fitting(index, costs, &search, constraints) else {
                frontierStreaks[levels] = nil
                continue
            }
            let slack = fitting(index, costs, &search, constraints, margin: settings.relaxMargin)
            let counted = (fit: streak.fit + 1, slack: slack == nil ? 0 : streak.slack + 1)
            frontierStreaks[levels] = counted
            let accuracy = fit.candidate.accuracy
            let preferred = target.map { held in
                accuracy > held.accuracy || (accuracy == held.accuracy && levels.lexicographicallyPrecedes(held.levels))
            }
            if counted.fit >= settings.relaxAfter, preferred ?? true {
                target = (slack ?? fit, accuracy, levels)
            }
        }
        guard let target, let streak = frontierStreaks[target.levels] else { return nil }
        let lasted = streak.slack >= settings.relaxAfter || streak.fit >= Self.longRelaxFactor * settings.relaxAfter
        return lasted ? target.fit : nil
    }

    /// The choice that overshoots the constraints least (then the most accurate): the least scale `k` at which some
    /// choice fits `k` times both bounds, found by bisection to within ``overloadPrecision``.
    private func leastOverloaded(
        _ now: Placement, _ frontier: FrontierSearch, _ costs: JointCosts, _ search: inout PartitionSearch,
        _ constraints: Constraints, _ permitted: [[Bool]], _ floor: Double
    ) -> Placement {
        func fit(_ scale: Double) -> FrontierChoice? {
            frontier.best(
                capMs: scale * constraints.throughputMs, deadlineMs: scale * constraints.deadlineMs,
                options: permitted, floor: floor)
        }
        var low = 1.0
        var high = max(constraints.overload(now.candidate.prediction), 1)
        var found = fit(high)
        // The current levels may be ruled out (a floor raised since): widen until something fits.
        while found == nil, high < 1e6 {
            low = high
            high *= 2
            found = fit(high)
        }
        guard var best = found else { return now }
        while high - low > Self.overloadPrecision * high {
            let middle = (low + high) / 2
            if let better = fit(middle) {
                best = better
                high = middle
            } else {
                low = middle
            }
        }
        return placement(best, costs, &search)
    }

    /// How many relaxation candidates the frontier search follows at once.
    static let relaxationCandidates = 8

    /// The relative precision of the least overload the frontier search finds: far below ``overloadGain``, the
    /// least cut that makes an overloaded ring change.
    static let overloadPrecision = 0.02
}

extension Controller {
    /// The first part of a decision's reason: what moved and which constraint bound.
    func explain(_ move: Move, choice: Candidate, outcome: SearchOutcome, constraints: Constraints) -> String {
        let chosen = Formatting.levels(space.levels(at: choice.index))
        let current = Formatting.levels(levels)
        let margin = "\(Formatting.fixed(settings.relaxMargin * 100, 0))% of both bounds"
        switch move {
        case .keep:
            return "keep \(chosen): it meets both constraints" + waiting(outcome.pendingRelaxation, margin)
        case .relax:
            return "relax to \(chosen): it has fit within \(margin) for \(Self.batches(settings.relaxAfter))"
        case .prune:
            return "prune to \(chosen): \(current) \(Self.misses(outcome.current.prediction, constraints))"
        case .rebalance:
            return "move to \(chosen): \(current) \(Self.misses(outcome.current.prediction, constraints))"
                + ", and no vector that only prunes more fits (the accuracy floor rules them out)"
        case .overloaded:
            return "no level vector meets both constraints\(floorNote); \(chosen) overshoots least: it "
                + Self.misses(choice.prediction, constraints)
        }
    }

    private func waiting(_ pending: Candidate?, _ margin: String) -> String {
        guard let pending else { return "" }
        let streak = streaks[pending.index]
        return "; \(Formatting.levels(space.levels(at: pending.index))) has fit within \(margin) for \(streak) of "
            + Self.batches(settings.relaxAfter)
    }

    static func batches(_ count: Int) -> String {
        count == 1 ? "1 batch" : "\(count) batches"
    }

    private var floorNote: String {
        let allowed = space.allowed.lazy.filter { $0 }.count
        guard allowed < space.count else { return "" }
        return " (the accuracy floor \(Formatting.fixed(settings.accuracyFloor, 3)) allows \(allowed) of "
            + "\(space.count) vectors)"
    }

    /// Which constraint a prediction misses, with the numbers.
    static func misses(_ prediction: Prediction, _ constraints: Constraints) -> String {
        var missed: [String] = []
        if constraints.missesThroughput(prediction) {
            missed.append(
                "misses the throughput bound (bottleneck \(Formatting.fixed(prediction.bottleneckMs)) ms > "
                    + "\(Formatting.fixed(constraints.throughputMs)) ms)")
        }
        if constraints.missesDeadline(prediction) {
            missed.append(
                "misses the deadline (latency \(Formatting.fixed(prediction.latencyMs)) ms > "
                    + "\(Formatting.fixed(constraints.deadlineMs)) ms)")
        }
        return missed.isEmpty ? "meets both constraints" : missed.joined(separator: " and ")
    }

    /// The numbers behind every decision.
    static func summary(_ prediction: Prediction, _ constraints: Constraints, accuracy: Double, slowdowns: [Double])
        -> String
    {
        var draining = ""
        if constraints.drainingBatches > 0 {
            draining =
                ", draining \(Formatting.fixed(constraints.drainingBatches)) queued batches within "
                + "\(Formatting.fixed(constraints.drainHorizon, 0)) arrivals"
        } else if constraints.undrainedBatches > 0 {
            draining =
                ", keeping up: nothing drains the \(Formatting.fixed(constraints.undrainedBatches)) queued batches "
                + "in time"
        }
        return "bottleneck \(Formatting.fixed(prediction.bottleneckMs)) ms "
            + "(bound \(Formatting.fixed(constraints.throughputMs)) ms\(draining)), "
            + "predicted latency \(Formatting.fixed(prediction.latencyMs)) ms "
            + "(deadline \(Formatting.fixed(constraints.deadlineMs)) ms), "
            + "expected accuracy \(Formatting.fixed(accuracy, 3)), slowdowns \(Formatting.list(slowdowns))"
    }
}

extension Controller {
    /// Takes one completed batch's measurements and chooses the levels of the next batch.
    ///
    /// Measurements that cannot be used (a missing, non-positive or non-finite time) leave that slice's or hop's
    /// slowdown as it was. A missing level is taken to be the level the controller chose; a placement that does
    /// not give one non-negative stage per slice is taken to be one slice per stage.
    /// - Parameter observation: What the head measured and knows about the next batch.
    /// - Returns: The levels of the next batch, with the reason and predictions; ``levels`` is updated to match.
    public mutating func observe(_ observation: BatchObservation) -> Decision {
        let batch = max(observation.batchSize, 1)
        let constraints = constraints(observation, batch: batch)
        if units != nil, !observation.hops.isEmpty {
            let costs = prepareJoint(observation, batch: batch)
            return planned(constraints) { controller, bounds in controller.chooseJoint(costs, bounds, batch: batch) }
        }
        updateSlowdowns(observation, batch: batch)
        updateLinks(observation.linkMs)
        let model = StageModel(
            cost: costs(batch: batch), placement: observation.placement, linkMs: linkMs,
            backlogBatches: queueInLatency(observation))
        return planned(constraints) { controller, bounds in controller.chooseLevels(model, bounds) }
    }

    /// Runs a choice under the drain target; when nothing meets it, runs it again, from the same state, under the
    /// bounds that only keep up with arrivals: a queue that no choice drains in time is left to drain in the
    /// utilisation's slack rather than pruning everything until it is gone.
    private mutating func planned(
        _ constraints: Constraints, _ choose: (inout Controller, Constraints) -> Decision
    ) -> Decision {
        guard constraints.drainingBatches > 0 else { return choose(&self, constraints) }
        let before = self
        let draining = choose(&self, constraints)
        guard !draining.feasible else { return draining }
        self = before
        return choose(&self, constraints.keepingUp)
    }

    private mutating func chooseLevels(_ model: StageModel, _ constraints: Constraints) -> Decision {
        switch policy {
        case .none: return hold(Array(repeating: 0, count: profiles.count), "policy none", model, constraints)
        case .fixed(let fixed): return hold(fixed, "policy static", model, constraints)
        case .adaptive where !space.isEnumerated:
            return hold(levels, "too many level vectors to choose without the ring's hops: keep", model, constraints)
        case .adaptive: return adapt(model, constraints)
        case .repartition:
            return hold(Array(repeating: 0, count: profiles.count), "policy repartition", model, constraints)
        }
    }

    /// The backlog the next batch's predicted latency waits for: all of it without a drain target, none with one
    /// (the latency checked is then that of a batch arriving once the queue has drained).
    func queueInLatency(_ observation: BatchObservation) -> Double {
        settings.drainBatches > 0 ? 0 : observation.backlogBatches
    }

    /// The next batch's two bounds, the throughput bound shrunk to drain the backlog when there is a drain target.
    func constraints(_ observation: BatchObservation, batch: Int) -> Constraints {
        Constraints(
            batchSize: batch, arrivalRate: observation.arrivalRate, deadlineMs: observation.deadlineMs,
            utilisation: settings.utilisation, backlogBatches: observation.backlogBatches,
            drainBatches: settings.drainBatches)
    }

    private mutating func updateSlowdowns(_ observation: BatchObservation, batch: Int) {
        for slice in profiles.indices where slice < observation.sliceMs.count {
            let measured = observation.sliceMs[slice]
            let level = slice < observation.sliceLevels.count ? observation.sliceLevels[slice] : levels[slice]
            let profiled = profiles[slice].serviceMs(batch: batch, level: level)
            guard measured.isFinite, measured > 0, profiled > 0 else { continue }
            sliceSmoothers[slice].add(
                measured / profiled, weight: settings.smoothing, shiftThreshold: settings.shiftThreshold)
        }
    }

    private mutating func updateLinks(_ samples: [Double]) {
        if samples.count != linkSmoothers.count {
            // The ring changed shape (a node failed or came back): old hops say nothing about the new ones.
            linkSmoothers = Array(repeating: Smoother(), count: samples.count)
        }
        for hop in samples.indices {
            linkSmoothers[hop].add(samples[hop], weight: settings.smoothing, shiftThreshold: settings.shiftThreshold)
        }
    }

    /// Predicted milliseconds of each slice at each level for a batch: slowdown times profiled time.
    private func costs(batch: Int) -> [[Double]] {
        let slowdowns = slowdowns
        return profiles.indices.map { slice in
            (0..<levelCount).map { slowdowns[slice] * profiles[slice].serviceMs(batch: batch, level: $0) }
        }
    }

    /// The decision of a policy that does not adapt: the given levels, with their predictions.
    private mutating func hold(_ target: [Int], _ name: String, _ model: StageModel, _ constraints: Constraints)
        -> Decision
    {
        let prediction = model.predict(target)
        let fits = constraints.fits(prediction)
        let verdict = fits ? "meets both constraints" : Self.misses(prediction, constraints)
        let reason = "\(name) \(Formatting.levels(target)): \(verdict)"
        return commit(target, reason: reason, prediction: prediction, constraints: constraints, feasible: fits)
    }

    /// Moves to `target` and describes the move.
    mutating func commit(
        _ target: [Int], reason: String, prediction: Prediction, constraints: Constraints, feasible: Bool,
        slowdowns reported: [Double]? = nil
    ) -> Decision {
        let slowdowns = reported ?? slowdowns
        let changes = target.indices.compactMap { slice in
            levels[slice] == target[slice] ? nil : LevelChange(slice: slice, from: levels[slice], to: target[slice])
        }
        levels = target
        let accuracy = accuracy.expected(target)
        let summary = Self.summary(prediction, constraints, accuracy: accuracy, slowdowns: slowdowns)
        return Decision(
            levels: target, changes: changes, reason: "\(reason); \(summary)",
            predictedLatencyMs: prediction.latencyMs, bottleneckMs: prediction.bottleneckMs,
            expectedAccuracy: accuracy, slowdowns: slowdowns, feasible: feasible)
    }
}

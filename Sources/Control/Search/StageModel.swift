/// The predicted timing of one level vector for the next batch.
struct Prediction: Sendable, Equatable {
    /// The time of the slowest stage or link.
    var bottleneckMs: Double
    /// The end-to-end latency of the next batch, queueing included.
    var latencyMs: Double
}

/// Predicts stage times of the next batch from each slice's slowdown and profile.
///
/// A stage's time is the sum, over the slices placed on it, of slowdown times profiled time at the slice's
/// level. Links are stages of their own (a hop moves one batch while the next computes) that pruning cannot
/// shorten, because a slice's input and output shapes never change. The next batch waits for the backlog to
/// drain at the bottleneck's pace, then flows through every stage and link:
/// `latency = backlog * bottleneck + sum(stages) + sum(links)`.
struct StageModel: Sendable {
    /// Predicted milliseconds of each slice at each level, flattened: `slice * levelCount + level` (one array,
    /// because the search reads it 65,536 times 8 per batch).
    let cost: [Double]
    let sliceCount: Int
    let levelCount: Int
    /// The dense stage index of each slice.
    let stageOf: [Int]
    let stageCount: Int
    let linkTotalMs: Double
    let linkMaxMs: Double
    let backlogBatches: Double

    /// Builds the model for one batch size.
    /// - Parameters:
    ///   - cost: Predicted milliseconds, indexed `[slice][level]`.
    ///   - placement: The stage of each slice; anything but one non-negative stage per slice means one per slice.
    ///   - linkMs: Smoothed milliseconds of each hop.
    ///   - backlogBatches: Batches waiting at the head.
    init(cost: [[Double]], placement: [Int], linkMs: [Double], backlogBatches: Double) {
        self.cost = cost.flatMap { $0 }
        self.sliceCount = cost.count
        self.levelCount = cost.first?.count ?? 0
        let valid = placement.count == cost.count && placement.allSatisfy { $0 >= 0 }
        let stages = valid ? placement : Array(cost.indices)
        let distinct = Array(Set(stages)).sorted()
        self.stageOf = stages.map { stage in distinct.firstIndex(of: stage) ?? 0 }
        self.stageCount = distinct.count
        self.linkTotalMs = linkMs.reduce(0, +)
        self.linkMaxMs = linkMs.max() ?? 0
        self.backlogBatches = backlogBatches.isFinite ? max(backlogBatches, 0) : 0
    }

    /// Predicts a level vector.
    /// - Parameters:
    ///   - levels: The level of each slice.
    ///   - stages: Scratch space of ``stageCount`` elements, reused across calls to avoid allocating.
    func predict(_ levels: [Int], stages: inout [Double]) -> Prediction {
        for stage in 0..<stageCount { stages[stage] = 0 }
        for slice in 0..<sliceCount {
            stages[stageOf[slice]] += cost[slice * levelCount + levels[slice]]
        }
        var bottleneck = linkMaxMs
        var total = linkTotalMs
        for stage in 0..<stageCount {
            bottleneck = max(bottleneck, stages[stage])
            total += stages[stage]
        }
        return Prediction(bottleneckMs: bottleneck, latencyMs: backlogBatches * bottleneck + total)
    }

    /// Whether running `option` on `slice` is predicted to take no longer than running `current` there (ties
    /// by index, so that among equally costly options the higher counts as shedding).
    func sheds(slice: Int, _ option: Int, from current: Int) -> Bool {
        let (a, b) = (cost[slice * levelCount + option], cost[slice * levelCount + current])
        return a < b || (a == b && option >= current)
    }

    /// Predicts a level vector, allocating its own scratch space.
    func predict(_ levels: [Int]) -> Prediction {
        var stages = [Double](repeating: 0, count: stageCount)
        return predict(levels, stages: &stages)
    }
}

/// The two constraints on the next batch: the slowest stage keeps up with arrivals, and the batch meets its
/// deadline.
struct Constraints: Sendable, Equatable {
    /// The largest bottleneck that keeps up: `utilisation * batchSize / arrivalRate`, in ms; infinite without
    /// arrivals.
    var throughputMs: Double
    /// The deadline of the next batch; infinite without one.
    var deadlineMs: Double
    /// The queued batches the bound makes room to drain (0 without a drain target).
    var drainingBatches = 0.0
    /// The batch arrival intervals the queue is to drain within (0 without a drain target).
    var drainHorizon = 0.0
    /// A queue that no choice could drain within the horizon, so the bounds only keep up (0 otherwise).
    var undrainedBatches = 0.0
    /// The throughput bound without the drain target.
    private var keepUpMs: Double

    /// Builds the constraints of the next batch.
    ///
    /// With a drain target (`drainBatches > 0`) and a queue of `backlogBatches`, the ring must run
    /// `drainBatches + backlogBatches` batches in the time `drainBatches` arrive, so the throughput bound shrinks
    /// by `drainBatches / (drainBatches + backlogBatches)`.
    init(
        batchSize: Int, arrivalRate: Double, deadlineMs: Double, utilisation: Double, backlogBatches: Double = 0,
        drainBatches: Double = 0
    ) {
        let arriving = arrivalRate.isFinite && arrivalRate > 0
        var throughput = arriving ? utilisation * Double(batchSize) / arrivalRate * 1000 : .infinity
        let backlog = backlogBatches.isFinite ? max(backlogBatches, 0) : 0
        self.keepUpMs = throughput
        if arriving, drainBatches > 0, backlog > 0 {
            throughput *= drainBatches / (drainBatches + backlog)
            drainingBatches = backlog
            drainHorizon = drainBatches
        }
        self.throughputMs = throughput
        self.deadlineMs = deadlineMs.isFinite && deadlineMs > 0 ? deadlineMs : .infinity
    }

    /// The same bounds without the drain target: keep up with arrivals and let the queue drain in the slack.
    var keepingUp: Constraints {
        var plain = self
        plain.throughputMs = keepUpMs
        plain.undrainedBatches = drainingBatches
        plain.drainingBatches = 0
        plain.drainHorizon = 0
        return plain
    }

    /// Whether a prediction fits within `margin` times both bounds.
    func fits(_ prediction: Prediction, margin: Double = 1) -> Bool {
        prediction.bottleneckMs <= margin * throughputMs && prediction.latencyMs <= margin * deadlineMs
    }

    /// How far a prediction overshoots: the larger of its two ratios to the bounds (at most 1 when it fits).
    func overload(_ prediction: Prediction) -> Double {
        max(prediction.bottleneckMs / throughputMs, prediction.latencyMs / deadlineMs)
    }

    /// Whether the bottleneck misses the throughput bound.
    func missesThroughput(_ prediction: Prediction) -> Bool {
        prediction.bottleneckMs > throughputMs
    }

    /// Whether the latency misses the deadline.
    func missesDeadline(_ prediction: Prediction) -> Bool {
        prediction.latencyMs > deadlineMs
    }
}

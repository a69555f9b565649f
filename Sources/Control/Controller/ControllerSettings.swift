/// The knobs of the adaptive controller.
public struct ControllerSettings: Sendable, Equatable {
    /// Consecutive batches a relaxed level vector must stay feasible, within ``relaxMargin``, before the
    /// controller moves to it (hysteresis).
    public var relaxAfter = 3
    /// The lowest expected accuracy a chosen vector may have; when even full width is below it, full width.
    public var accuracyFloor = 0.0
    /// The slowest stage must keep up with arrivals: bottleneck time <= `utilisation` * inter-batch arrival time.
    public var utilisation = 0.9
    /// The weight of the newest slowdown sample in the moving average (0 < smoothing <= 1).
    public var smoothing = 0.3
    /// A relaxation must fit within `relaxMargin` times the deadline and the throughput bound, so that noise
    /// around a boundary does not flap levels (0 < relaxMargin <= 1).
    public var relaxMargin = 0.85
    /// A relative jump of the slowdown that counts as a level shift: when two samples in a row differ from the
    /// moving average by more than this, in the same direction, the average restarts from them. This lets a node
    /// that slows down 2x be pruned on the second batch instead of over several (the average alone would lag).
    public var shiftThreshold = 0.3
    /// How to plan under a backlog. 0: the next batch waits for the whole queue, so its predicted latency is
    /// `backlog * bottleneck + total` and must meet the deadline (which prunes hard until the queue drains).
    /// Above 0: a drain target instead; the ring must clear the queue within this many batch arrival intervals
    /// while keeping up (the throughput bound shrinks by `drainBatches / (drainBatches + backlog)`), and the
    /// latency checked against the deadline is that of a batch arriving once the queue has drained.
    public var drainBatches = 0.0
    /// The joint search keeps the current boundaries and levels while their predicted bottleneck and latency stay
    /// within `1 + keepTolerance` times the bounds. Predictions come from measurements that vary by a third from one
    /// batch to the next; answering every 1-5% miss made a ring that could barely keep up move its boundaries on
    /// almost every batch (24-31 moves in 70 s in the experiment's kill-while-slow runs). With the utilisation's
    /// 10% below capacity, a 10% miss of the throughput bound still keeps up. 0: act on any miss.
    public var keepTolerance = 0.1
    /// The most work the joint search may do by walking every level vector (vectors times stages times units
    /// squared, the partition search's work per vector); beyond it the frontier search chooses without walking
    /// (docs/controller.md). 4 slices of 5 options on 18 units is 0.8 M, 5 slices 5 M, 6 slices 30 M. 0, the
    /// default: always the frontier search, which makes the same first choice, faster (its relaxation follows the
    /// vectors it proposes rather than every vector). The walked search stays for comparison.
    public var walkedSearchLimit = 0

    /// Creates the default settings.
    public init() {}
}

extension ControllerSettings {
    /// Checks that every setting is in its range.
    /// - Throws: ``ControlError/Code/invalidSettings`` naming the first setting out of range.
    public func validate() throws(ControlError) {
        try check(relaxAfter >= 1, "relaxAfter must be at least 1, not \(relaxAfter)")
        try check(accuracyFloor.isFinite, "accuracyFloor must be a number, not \(accuracyFloor)")
        try check(utilisation.isFinite && utilisation > 0, "utilisation must be positive, not \(utilisation)")
        try check(smoothing > 0 && smoothing <= 1, "smoothing must be in (0, 1], not \(smoothing)")
        try check(relaxMargin > 0 && relaxMargin <= 1, "relaxMargin must be in (0, 1], not \(relaxMargin)")
        try check(
            drainBatches.isFinite && drainBatches >= 0,
            "drainBatches must be 0 or a positive number, not \(drainBatches)")
        try check(
            keepTolerance.isFinite && keepTolerance >= 0, "keepTolerance must be 0 or more, not \(keepTolerance)")
        try check(walkedSearchLimit >= 0, "walkedSearchLimit must be 0 or more, not \(walkedSearchLimit)")
        try check(shiftThreshold > 0, "shiftThreshold must be positive (infinity turns it off), not \(shiftThreshold)")
    }

    private func check(_ condition: Bool, _ message: String) throws(ControlError) {
        guard condition else { throw ControlError(.invalidSettings, message) }
    }
}

/// One slice whose level the controller changed.
public struct LevelChange: Sendable, Equatable {
    /// The slice index.
    public var slice: Int
    /// The level it ran at.
    public var from: Int
    /// The level it runs at from the next batch.
    public var to: Int

    /// Creates a change.
    public init(slice: Int, from: Int, to: Int) {
        self.slice = slice
        self.from = from
        self.to = to
    }
}

/// The controller's choice for the next batch, with the numbers behind it (written to the catalog).
public struct Decision: Sendable, Equatable {
    /// The level of each slice for the next batch.
    public var levels: [Int]
    /// The slices whose level changed.
    public var changes: [LevelChange]
    /// Why: which constraint bound, the slowdowns, the predicted latency and accuracy.
    public var reason: String
    /// The predicted end-to-end latency of the next batch at ``levels``, queueing included.
    public var predictedLatencyMs: Double
    /// The predicted time of the slowest stage (or link) at ``levels``.
    public var bottleneckMs: Double
    /// The expected accuracy of ``levels``.
    public var expectedAccuracy: Double
    /// The smoothed slowdown of each slice.
    public var slowdowns: [Double]
    /// Whether ``levels`` are predicted to meet both the throughput bound and the deadline.
    public var feasible: Bool
    /// The members that run the next batch, in route order (empty without ``UnitProfiles``).
    public var stageNodes: [Int] = []
    /// Their unit boundaries: member `stageNodes[s]` runs units `bounds[s]..<bounds[s + 1]` (empty without
    /// ``UnitProfiles``).
    public var bounds: [Int] = []
    /// Whether ``bounds`` differ from the previous batch's.
    public var moved = false

    /// Creates a decision.
    public init(
        levels: [Int], changes: [LevelChange], reason: String, predictedLatencyMs: Double, bottleneckMs: Double,
        expectedAccuracy: Double, slowdowns: [Double], feasible: Bool
    ) {
        self.levels = levels
        self.changes = changes
        self.reason = reason
        self.predictedLatencyMs = predictedLatencyMs
        self.bottleneckMs = bottleneckMs
        self.expectedAccuracy = expectedAccuracy
        self.slowdowns = slowdowns
        self.feasible = feasible
    }
}

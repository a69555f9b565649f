import Control

/// One run to simulate: the ring, its arrivals, what happens to its nodes, and the policy (read from JSON; every
/// field must be given, as `simulate.py` writes them: decoding takes no defaults).
struct Scenario: Codable {
    /// A name carried into the result.
    var name: String
    /// `none`, `adaptive`, `adaptive-floor<percent>` or `repartition`.
    var policy: String
    /// The seed of the compute-time noise.
    var seed: UInt64
    /// Seconds each image is written into the inbox, ascending.
    var arrivals: [Double]
    /// Seconds after the last arrival that the run goes on, for the queue to drain.
    var drainSeconds: Double
    /// The slowdown window the throughput while slowed is measured over (seconds), if any.
    var window: [Double]?

    /// The plan's unit boundaries: node `k` runs units `plan[k]..<plan[k + 1]`.
    var plan: [Int]
    /// Values per image entering each unit boundary.
    var boundaryValues: [Int]
    /// Per node in ring order: its profile of every unit (`units == [u, u + 1]`) and its CPU share in cores.
    var nodes: [NodeModel]
    /// The accuracy curves of the plan's slices (agreement with full width), `[slice][option]`.
    var accuracy: [[Double]]

    /// The head's own work, core-milliseconds per image at its normal share (what one thread takes alone).
    var head: HeadModel
    /// A hop: fixed milliseconds, plus milliseconds per activation value sent.
    var linkFixedMs: Double
    var linkMsPerValue: Double
    /// The spread of a compute time around its profile: log-normal, this standard deviation of its logarithm.
    var computeNoise: Double

    /// CPU share changes: at `at` seconds node `node` runs at `factor` times its normal share.
    var slowdowns: [SpeedChange]
    /// Temperatures the head reads from each node (its throttling anticipation).
    var temperatures: [TemperatureChange]
    /// Nodes killed (and, if `until` is given, restarted).
    var kills: [Kill]

    var batchMaxSize: Int
    var batchMaxWaitSeconds: Double
    var sloSeconds: Double
    var maxInFlight: Int
    /// `auto` (a worker prepares a batch while the head's decoding queue is busy) or `off`.
    var offload: String
    var drainBatches: Double
    var utilisation: Double
    var relaxAfter: Int
    /// Whether to write every batch in the result (for time-lines).
    var series: Bool
}

struct NodeModel: Codable {
    var name: String
    var cores: Double
    var units: [SliceProfile]
}

struct HeadModel: Codable {
    /// Reading, hashing and registering a file (the pipeline's input loop).
    var intakeMs: Double
    /// Decoding, grey-decoding, localising and crop-decoding (the decoding queue; a worker when offloaded).
    var prepareMs: Double
    /// Reading a file for a worker that prepares it.
    var offloadReadMs: Double
    /// Normalising, labelling.
    var normaliseMs: Double
    var labelMs: Double
    /// The catalog commit, after the batch completes.
    var commitMs: Double
}

struct SpeedChange: Codable {
    var at: Double
    var node: Int
    var factor: Double
}

struct TemperatureChange: Codable {
    var at: Double
    var node: Int
    var celsius: Double
    var throttling: Bool
}

struct Kill: Codable {
    var at: Double
    var node: Int
    var until: Double?
}

/// What a simulated run measured: the fields the real experiment's results carry (Benchmarks/ring/camera_experiment.py
/// `measure`), so the same report reads both.
struct RunResult: Codable {
    var name: String
    var policy: String
    var arrivals: Int
    var labelled: Int
    var batches: Int
    var sloAttainment: Double
    var latencyMs: [String: Double]
    var throughputImagesPerSecond: Double
    var throughputSlowedImagesPerSecond: Double?
    /// The expected top-1 agreement with full width: the accuracy curves' product at the levels each image ran at
    /// (the simulator runs no network).
    var top1Agreement: Double
    var levelChanges: Int
    var boundaryMoves: Int
    var meanDecisionMs: Double
    var series: [SeriesPoint]?
}

struct SeriesPoint: Codable {
    var t: Double
    var latencyMs: Double
    var levels: [Int]
    var met: Bool
}

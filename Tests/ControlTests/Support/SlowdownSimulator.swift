import Control

/// A seeded generator (SplitMix64), so that noisy runs are the same on every machine.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Produces the head's observations from a "true" per-slice slowdown schedule: each slice takes its profiled
/// time at the level it runs, times its true slowdown, times seeded multiplicative noise.
struct SlowdownSimulator {
    var profiles = Fixtures.profiles
    /// The true slowdown of each slice at a batch index.
    var schedule: (Int) -> [Double]
    /// Each measurement is multiplied by a uniform factor in `1 - noise ... 1 + noise`.
    var noise: Double
    var rng: SplitMix64
    var batchSize = 8
    var placement: [Int] = []
    var linkMs: [Double] = [3, 3, 3]
    var arrivalRate = Fixtures.arrivalRate
    var backlogBatches = 1.0
    var deadlineMs = 400.0
    private(set) var batch = 0

    init(noise: Double, seed: UInt64, schedule: @escaping (Int) -> [Double]) {
        self.noise = noise
        self.rng = SplitMix64(seed: seed)
        self.schedule = schedule
    }

    /// The observation of the next batch, run at `levels`.
    mutating func next(levels: [Int]) -> BatchObservation {
        let truth = schedule(batch)
        batch += 1
        let sliceMs = profiles.indices.map { slice in
            truth[slice] * profiles[slice].serviceMs(batch: batchSize, level: levels[slice]) * jitter()
        }
        return BatchObservation(
            batchSize: batchSize, sliceMs: sliceMs, sliceLevels: levels, placement: placement,
            linkMs: linkMs.map { $0 * jitter() }, arrivalRate: arrivalRate, backlogBatches: backlogBatches,
            deadlineMs: deadlineMs)
    }

    private mutating func jitter() -> Double {
        noise == 0 ? 1 : Double.random(in: (1 - noise)...(1 + noise), using: &rng)
    }
}

/// Runs `batches` batches through a controller, each at the levels it chose after the previous one.
func drive(_ controller: inout Controller, _ simulator: inout SlowdownSimulator, batches: Int) -> [Decision] {
    var decisions: [Decision] = []
    for _ in 0..<batches {
        decisions.append(controller.observe(simulator.next(levels: controller.levels)))
    }
    return decisions
}

/// The number of decisions that changed any level.
func changeCount(_ decisions: [Decision]) -> Int {
    decisions.filter { !$0.changes.isEmpty }.count
}

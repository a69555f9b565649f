import Control
import Dispatch
import Inference

/// Measures this node's service time for every slice of a plan, at every prune level and batch size: one
/// warm-up run, then the median of several. `trapline profile` stores the result; the controller divides
/// measured times by it to see how much a node has slowed down.
public enum Profiler {
    /// Measures.
    /// - Parameters:
    ///   - model: The model.
    ///   - plan: Slice boundaries.
    ///   - node: This node's name (recorded in the profile).
    ///   - batchSizes: Batch sizes to measure, ascending.
    ///   - runs: Timed runs per point (the median is kept).
    ///   - threads: Compute threads, as the appliance runs.
    ///   - progress: Called after each slice.
    /// - Returns: One profile per slice.
    /// - Throws: `InferenceError` for arguments that do not fit the model.
    public static func measure(
        model: Model, plan: [Int], node: String, batchSizes: [Int], runs: Int, threads: Int,
        progress: (SliceProfile) -> Void = { _ in }
    ) throws -> [SliceProfile] {
        let ranges = (0..<(plan.count - 1)).map { plan[$0]..<plan[$0 + 1] }
        return try measure(
            model: model, ranges: ranges, node: node, batchSizes: batchSizes, runs: runs, threads: threads,
            progress: progress)
    }

    /// Measures every unit on its own, for the controller to move slice boundaries (issue 18): the time of any
    /// contiguous range is predicted as the sum of its units'.
    /// - Parameters: as ``measure(model:plan:node:batchSizes:runs:threads:progress:)``, without the plan.
    /// - Returns: One profile per unit, `units == [u, u + 1]`.
    public static func measureUnits(
        model: Model, node: String, batchSizes: [Int], runs: Int, threads: Int,
        progress: (SliceProfile) -> Void = { _ in }
    ) throws -> [SliceProfile] {
        try measure(
            model: model, ranges: (0..<model.unitCount).map { $0..<($0 + 1) }, node: node, batchSizes: batchSizes,
            runs: runs, threads: threads, progress: progress)
    }

    private static func measure(
        model: Model, ranges: [Range<Int>], node: String, batchSizes: [Int], runs: Int, threads: Int,
        progress: (SliceProfile) -> Void
    ) throws -> [SliceProfile] {
        let engine = Engine(model: model, threads: threads)
        let levels = model.metadata.optionCount
        var generator = SplitMix(seed: 7)
        var profiles: [SliceProfile] = []
        for units in ranges {
            var rows: [[Double]] = []
            for batch in batchSizes {
                let input = (0..<(batch * engine.shape(atBoundary: units.lowerBound).count)).map { _ in
                    Float(generator.next() % 2000) / 1000 - 1
                }
                var output = [Float](repeating: 0, count: batch * engine.shape(atBoundary: units.upperBound).count)
                var row: [Double] = []
                for level in 0..<levels {
                    var times: [Double] = []
                    for run in 0...runs {
                        let start = DispatchTime.now().uptimeNanoseconds
                        try input.withUnsafeBufferPointer { source in
                            try output.withUnsafeMutableBufferPointer { destination in
                                try engine.run(
                                    source, batch: batch, units: units,
                                    levels: model.metadata.unitLevels(units, option: level), into: destination)
                            }
                        }
                        if run > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
                    }
                    row.append(times.sorted()[times.count / 2])
                }
                rows.append(row)
            }
            let profile = SliceProfile(
                node: node, units: [units.lowerBound, units.upperBound], batchSizes: batchSizes, serviceMs: rows)
            progress(profile)
            profiles.append(profile)
        }
        return profiles
    }
}

/// A small deterministic generator for profiling inputs (values do not change the work, but NaNs would).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Dispatch
import FoundationEssentials
import Inference
import RingWire

/// What one hop computed.
struct HopOutput: Sendable {
    var values: [Float]
    var sliceIndices: [Int]
    var sliceLevels: [Int]
    var sliceMs: [Double]
    /// Each image's pooled features, when asked for and the hop ends with the network's head; else empty.
    var features: [Float] = []
}

/// Runs a hop's units on this node's engine, one slice at a time at each slice's level, on a dedicated
/// serial queue: the cooperative thread pool (and with it gRPC and the watcher) stays free while it computes.
final class SliceRunner: @unchecked Sendable {
    let engine: Engine
    let plan: [Int]
    private let queue = DispatchQueue(label: "trapline.ring.compute")
    private var scratch: [Float] = []

    init(engine: Engine, plan: [Int]) {
        self.engine = engine
        self.plan = plan
    }

    /// The parts of `units` in each plan slice, in order: a hop's range may start or end inside a slice when the
    /// head has moved the boundaries, and each part runs at its slice's level.
    func segments(of units: Range<Int>) -> [(slice: Int, units: Range<Int>)] {
        Self.segments(of: units, plan: plan)
    }

    static func segments(of units: Range<Int>, plan: [Int]) -> [(slice: Int, units: Range<Int>)] {
        (0..<max(plan.count - 1, 0)).compactMap { slice in
            let (lower, upper) = (max(units.lowerBound, plan[slice]), min(units.upperBound, plan[slice + 1]))
            return lower < upper ? (slice, lower..<upper) : nil
        }
    }

    /// Values per image entering `unit`.
    func width(atBoundary unit: Int) -> Int { engine.shape(atBoundary: unit).count }

    /// The channels (innermost dimension) of the activation entering `unit`.
    func channels(atBoundary unit: UInt32) -> Int { engine.shape(atBoundary: Int(unit)).channels }

    /// Computes `units` for a batch.
    /// - Parameters:
    ///   - input: The activations entering `units.lowerBound`, `batch` images.
    ///   - batch: Images.
    ///   - units: Any contiguous range of units.
    ///   - levels: The level index of every slice of the plan.
    ///   - features: Whether to keep the pooled features, when the range ends with the network's head.
    /// - Returns: The activations leaving the range, and what each slice took.
    func run(
        _ input: [Float], batch: Int, units: Range<Int>, levels: [Int], features: Bool = false
    ) async throws -> HopOutput {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                continuation.resume(
                    with: Result { try runNow(input, batch: batch, units: units, levels: levels, features: features) })
            }
        }
    }

    private func runNow(
        _ input: [Float], batch: Int, units: Range<Int>, levels: [Int], features: Bool
    ) throws -> HopOutput {
        var output = HopOutput(values: input, sliceIndices: [], sliceLevels: [], sliceMs: [])
        for (slice, range) in segments(of: units) {
            let level = levels[slice]
            var next = [Float](repeating: 0, count: batch * width(atBoundary: range.upperBound))
            let pooled = features && range.upperBound == engine.model.unitCount
            if pooled { output.features = [Float](repeating: 0, count: batch * engine.featureCount) }
            let start = DispatchTime.now().uptimeNanoseconds
            try output.values.withUnsafeBufferPointer { source in
                try next.withUnsafeMutableBufferPointer { destination in
                    try output.features.withUnsafeMutableBufferPointer { kept in
                        try engine.run(
                            source, batch: batch, units: range,
                            levels: engine.model.metadata.unitLevels(range, option: level),
                            into: destination, features: pooled ? kept : nil)
                    }
                }
            }
            output.sliceMs.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            output.values = next
            output.sliceIndices.append(slice)
            output.sliceLevels.append(level)
        }
        return output
    }
}

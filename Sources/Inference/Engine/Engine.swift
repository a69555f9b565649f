import Dispatch

/// Runs any contiguous range of a model's units on a batch, each unit at its own prune level. An engine owns
/// its buffers and is used by one task at a time; levels are a per-call argument, so switching costs nothing
/// but choosing other precomputed weights.
public final class Engine {
    public let model: Model
    /// Threads for the depthwise kernels; OpenBLAS is set to the same count.
    public let threads: Int
    /// The largest batch a call may have.
    public static let maxBatch = 256

    let workspace = Workspace()
    let shapes: [ActivationShape]

    /// Creates an engine.
    /// - Parameters:
    ///   - model: The model to run.
    ///   - threads: Worker threads (at least 1); sets OpenBLAS's thread count for the process.
    public init(model: Model, threads: Int = 1) {
        self.model = model
        self.threads = max(1, threads)
        self.shapes = model.metadata.boundaryShapes
        BLAS.setThreadCount(self.threads)
    }

    /// Values in one image's pooled features (the head's width at full width; 0 for a model without a head).
    public var featureCount: Int { model.metadata.units.last?.features ?? 0 }

    /// The activation shape of one image entering unit `boundary`; `unitCount` gives the logits' shape.
    public func shape(atBoundary boundary: Int) -> ActivationShape { shapes[boundary] }

    /// Runs `units` on a batch.
    /// - Parameters:
    ///   - input: `batch` images of the shape entering `units.lowerBound` (NHWC floats; for unit 0, the
    ///     normalised model input).
    ///   - batch: Images in the batch, 1...`maxBatch`.
    ///   - units: A non-empty range of unit indices.
    ///   - levels: A level index for each unit of the range, in order.
    ///   - output: Room for `batch` activations of the shape leaving the range (the logits after the head).
    ///   - features: When given (the range must end with the head), room for `batch` rows of `featureCount` values:
    ///     each image's pooled features, the layer the classifier reads. A pruned head fills its kept channels
    ///     (the first ones) and leaves zeros in the others.
    /// - Throws: `InferenceError` with `invalidArgument` when the arguments do not fit the model.
    public func run(
        _ input: UnsafeBufferPointer<Float>, batch: Int, units: Range<Int>, levels: [Int],
        into output: UnsafeMutableBufferPointer<Float>, features: UnsafeMutableBufferPointer<Float>? = nil
    ) throws {
        try validate(input: input.count, batch: batch, units: units, levels: levels, output: output.count)
        if let features {
            guard units.upperBound == model.unitCount, features.count >= batch * featureCount else {
                throw InferenceError.argument(
                    "pooled features need a range that ends with the head and room for \(batch) x \(featureCount)")
            }
        }
        guard let inputBase = input.baseAddress, let outputBase = output.baseAddress else { return }
        workspace.ensure(batch: batch, model: model)
        var source = inputBase
        for (step, unit) in units.enumerated() {
            let isLast = unit == units.upperBound - 1
            let destination = isLast ? outputBase : (step % 2 == 0 ? workspace.ping : workspace.pong).baseAddress!
            runUnit(
                unit, level: levels[step], source, destination, batch: batch,
                features: isLast ? features?.baseAddress : nil)
            source = UnsafePointer(destination)
        }
    }

    /// The whole network at one level for every unit: images in, logits out.
    /// - Parameters:
    ///   - input: `batch` normalised images.
    ///   - batch: Images in the batch.
    ///   - level: The level index for every unit.
    /// - Returns: `batch` rows of logits.
    /// - Throws: `InferenceError` for arguments that do not fit.
    public func logits(_ input: [Float], batch: Int, level: Int = 0) throws -> [Float] {
        try logits(input, batch: batch, levels: Array(repeating: level, count: model.unitCount))
    }

    /// The whole network with a level per unit (a width level index, or the skip level for a skippable block).
    /// - Parameters:
    ///   - input: `batch` normalised images.
    ///   - batch: Images in the batch.
    ///   - levels: One level index per unit.
    /// - Returns: `batch` rows of logits.
    /// - Throws: `InferenceError` for arguments that do not fit.
    public func logits(_ input: [Float], batch: Int, levels: [Int]) throws -> [Float] {
        let count = model.unitCount
        var output = [Float](repeating: 0, count: batch * shapes[count].count)
        try input.withUnsafeBufferPointer { inputBuffer in
            try output.withUnsafeMutableBufferPointer { outputBuffer in
                try run(inputBuffer, batch: batch, units: 0..<count, levels: levels, into: outputBuffer)
            }
        }
        return output
    }

    private func validate(input: Int, batch: Int, units: Range<Int>, levels: [Int], output: Int) throws {
        guard (1...Self.maxBatch).contains(batch) else {
            throw InferenceError.argument("batch size \(batch) outside 1...\(Self.maxBatch)")
        }
        guard !units.isEmpty, units.lowerBound >= 0, units.upperBound <= model.unitCount else {
            throw InferenceError.argument("unit range \(units) outside 0..<\(model.unitCount)")
        }
        let skip = model.metadata.skipLevel
        guard levels.count == units.count,
            zip(units, levels).allSatisfy({ unit, level in
                (0..<model.levelCount).contains(level) || (level == skip && model.metadata.isSkippable(unit))
            })
        else {
            throw InferenceError.argument(
                "levels \(levels) must give one of 0..<\(model.levelCount) (or \(skip) to skip a skippable block) "
                    + "for each of \(units.count) units")
        }
        guard input >= batch * shapes[units.lowerBound].count else {
            throw InferenceError.argument("input holds \(input) values; \(batch) x \(shapes[units.lowerBound]) needed")
        }
        guard output >= batch * shapes[units.upperBound].count else {
            throw InferenceError.argument(
                "output holds \(output) values; \(batch) x \(shapes[units.upperBound]) needed")
        }
    }
}

/// One level's folded weights of an inverted-residual block.
struct BlockLevel: Sendable {
    let expand: PointwiseWeights?
    let depthwise: DepthwiseWeights
    let project: PointwiseWeights
}

/// One level's folded weights of the head.
struct HeadLevel: Sendable {
    let conv: PointwiseWeights
    let classifier: PointwiseWeights
}

/// A unit's weights for every prune level, with batch norm folded in at load.
enum UnitWeights: Sendable {
    case stem(kernel: Int, stride: Int, levels: [PointwiseWeights])
    case block(residual: Bool, levels: [BlockLevel])
    case head(levels: [HeadLevel])
}

/// Reads named tensors with the shapes the architecture demands, remembering which were used.
struct WeightReader {
    let file: SafeTensors
    let epsilon: Float
    /// Format 2: one set of batch norms (level 0's) and per-level least-squares layers.
    let refit: Bool
    private(set) var used: Set<String> = []

    init(file: SafeTensors, epsilon: Float, refit: Bool = false) {
        self.file = file
        self.epsilon = epsilon
        self.refit = refit
    }

    mutating func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
        guard let entry = file.entries[name] else { throw InferenceError.model("tensor \(name) is missing") }
        guard entry.shape == shape, entry.dtype != .u8 else {
            throw InferenceError.model(
                "tensor \(name) has shape \(entry.shape) \(entry.dtype.rawValue), expected \(shape) float")
        }
        used.insert(name)
        return file.floats(entry)
    }

    /// A batch norm at one level as a per-channel scale and shift: y = x * scale + shift.
    mutating func batchNorm(_ prefix: String, level: Int, channels: Int) throws -> (scale: [Float], shift: [Float]) {
        let base = "\(prefix).level\(level)"
        let gamma = try tensor("\(base).weight", [channels])
        let beta = try tensor("\(base).bias", [channels])
        let mean = try tensor("\(base).mean", [channels])
        let variance = try tensor("\(base).var", [channels])
        guard variance.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw InferenceError.model("\(base).var has negative or non-finite values")
        }
        let scale = (0..<channels).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        let shift = (0..<channels).map { beta[$0] - mean[$0] * scale[$0] }
        return (scale, shift)
    }
}

enum Folding {
    /// Rows [0, outKept) and columns [0, inKept) of an [out, inFull] matrix, each row scaled.
    static func pointwise(
        _ weights: [Float], inFull: Int, outKept: Int, inKept: Int, scale: [Float]?, bias: [Float]
    ) -> PointwiseWeights {
        var folded = [Float](repeating: 0, count: outKept * inKept)
        for o in 0..<outKept {
            let factor = scale?[o] ?? 1
            for i in 0..<inKept { folded[o * inKept + i] = weights[o * inFull + i] * factor }
        }
        return PointwiseWeights(
            inChannels: inKept, outChannels: outKept, weights: folded, bias: Array(bias.prefix(outKept)))
    }

    /// Depthwise [E, 1, k, k] to tap-major [k*k, kept], scaled per channel.
    static func depthwise(_ weights: [Float], kernel: Int, stride: Int, kept: Int, scale: [Float], shift: [Float])
        -> DepthwiseWeights
    {
        let taps = kernel * kernel
        var folded = [Float](repeating: 0, count: taps * kept)
        for c in 0..<kept {
            for t in 0..<taps { folded[t * kept + c] = weights[c * taps + t] * scale[c] }
        }
        return DepthwiseWeights(
            channels: kept, kernel: kernel, stride: stride, weights: folded, bias: Array(shift.prefix(kept)))
    }

    /// The stem's OIHW [out, in, k, k] to im2col order [out, (ky * k + kx) * in + c], scaled per output.
    static func stem(_ weights: [Float], out: Int, inChannels: Int, kernel: Int, scale: [Float], shift: [Float])
        -> PointwiseWeights
    {
        let patch = kernel * kernel * inChannels
        var folded = [Float](repeating: 0, count: out * patch)
        for o in 0..<out {
            for c in 0..<inChannels {
                for t in 0..<(kernel * kernel) {
                    folded[o * patch + t * inChannels + c] =
                        weights[((o * inChannels) + c) * kernel * kernel + t] * scale[o]
                }
            }
        }
        return PointwiseWeights(inChannels: patch, outChannels: out, weights: folded, bias: shift)
    }
}

/// The pointers of the passes before and after SGEMM, for threads that each take their own rows.
private struct Passes: @unchecked Sendable {
    let output: UnsafeMutablePointer<Float>
    let channels: Int
    let bias: UnsafePointer<Float>
    let epilogue: Epilogue

    func fill(_ rows: Range<Int>) {
        for row in rows { (output + row * channels).update(from: bias, count: channels) }
    }

    func finish(_ rows: Range<Int>) {
        let offset = rows.lowerBound * channels
        let shifted: Epilogue
        switch epilogue {
        case .residual(let input): shifted = .residual(input + offset)
        default: shifted = epilogue
        }
        Pointwise.applyEpilogue(output + offset, count: rows.count * channels, shifted)
    }
}

/// What follows a convolution's accumulation: the folded batch-norm bias, then an activation or a residual.
enum Epilogue {
    /// bias, then ReLU6
    case relu6
    /// bias only (the linear bottleneck of a block's projection, the classifier)
    case linear
    /// bias, then the block's input added back (rows of the same width as the output)
    case residual(UnsafePointer<Float>)
}

/// Folded weights of a 1x1 convolution (or fully connected layer): `outChannels` rows of `inChannels`.
struct PointwiseWeights: Sendable {
    let inChannels: Int
    let outChannels: Int
    let weights: [Float]
    let bias: [Float]
}

enum Pointwise {
    /// out[m, o] = bias[o] + sum_i input[m, i] * weights[o, i], then the epilogue. The bias is written first
    /// and SGEMM accumulates onto it (beta = 1), which spares OpenBLAS its own pass zeroing the output.
    /// - Parameter threads: Threads for the passes around SGEMM (bias, epilogue); OpenBLAS threads SGEMM itself.
    static func run(
        _ input: UnsafePointer<Float>, rows: Int, _ layer: PointwiseWeights, into output: UnsafeMutablePointer<Float>,
        epilogue: Epilogue, threads: Int = 1
    ) {
        let channels = layer.outChannels
        let parts = rows * channels >= parallelValues ? threads : 1
        layer.bias.withUnsafeBufferPointer { bias in
            let passes = Passes(output: output, channels: channels, bias: bias.baseAddress!, epilogue: epilogue)
            RowSplit.run(rows: rows, parts: parts) { passes.fill($0) }
            layer.weights.withUnsafeBufferPointer { weights in
                BLAS.multiplyTransposed(
                    input, weights.baseAddress!, into: output, m: rows, n: channels, k: layer.inChannels)
            }
            if case .linear = epilogue { return }
            RowSplit.run(rows: rows, parts: parts) { passes.finish($0) }
        }
    }

    /// Passes over fewer values than this stay on one thread: waking a second costs more than it saves.
    static let parallelValues = 1 << 18

    /// ReLU6, or the residual added, over `count` contiguous values; nothing for a linear layer.
    static func applyEpilogue(_ output: UnsafeMutablePointer<Float>, count: Int, _ epilogue: Epilogue) {
        let vectorEnd = count - count % 8
        switch epilogue {
        case .linear:
            return
        case .relu6:
            for i in stride(from: 0, to: vectorEnd, by: 8) { store8(relu6(load8(output + i)), output + i) }
            for i in vectorEnd..<count { output[i] = min(max(output[i], 0), 6) }
        case .residual(let input):
            for i in stride(from: 0, to: vectorEnd, by: 8) { store8(load8(output + i) + load8(input + i), output + i) }
            for i in vectorEnd..<count { output[i] += input[i] }
        }
    }
}

import COpenBLAS

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
    static func run(
        _ input: UnsafePointer<Float>, rows: Int, _ layer: PointwiseWeights, into output: UnsafeMutablePointer<Float>,
        epilogue: Epilogue
    ) {
        let channels = layer.outChannels
        layer.bias.withUnsafeBufferPointer { bias in
            for row in 0..<rows { (output + row * channels).update(from: bias.baseAddress!, count: channels) }
        }
        layer.weights.withUnsafeBufferPointer { weights in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(channels), Int32(layer.inChannels),
                1, input, Int32(layer.inChannels), weights.baseAddress, Int32(layer.inChannels), 1, output,
                Int32(channels)
            )
        }
        applyEpilogue(output, count: rows * channels, epilogue)
    }

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

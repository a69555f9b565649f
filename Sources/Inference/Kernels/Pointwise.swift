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
    /// out[m, o] = sum_i input[m, i] * weights[o, i] + bias[o], then the epilogue; one SGEMM call.
    static func run(
        _ input: UnsafePointer<Float>, rows: Int, _ layer: PointwiseWeights, into output: UnsafeMutablePointer<Float>,
        epilogue: Epilogue
    ) {
        layer.weights.withUnsafeBufferPointer { weights in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(layer.outChannels), Int32(layer.inChannels),
                1, input, Int32(layer.inChannels), weights.baseAddress, Int32(layer.inChannels), 0, output,
                Int32(layer.outChannels)
            )
        }
        layer.bias.withUnsafeBufferPointer { bias in
            applyEpilogue(output, rows: rows, channels: layer.outChannels, bias: bias.baseAddress!, epilogue)
        }
    }

    static func applyEpilogue(
        _ output: UnsafeMutablePointer<Float>, rows: Int, channels: Int, bias: UnsafePointer<Float>,
        _ epilogue: Epilogue
    ) {
        let vectorEnd = channels - channels % 8
        let six = SIMD8<Float>(repeating: 6)
        for row in 0..<rows {
            let line = output + row * channels
            var c = 0
            while c < vectorEnd {
                var value = load8(line + c) + load8(bias + c)
                switch epilogue {
                case .relu6: value = value.clamped(lowerBound: .zero, upperBound: six)
                case .linear: break
                case .residual(let input):
                    value += load8(input + row * channels + c)
                }
                store8(value, line + c)
                c += 8
            }
            while c < channels {
                var value = line[c] + bias[c]
                switch epilogue {
                case .relu6: value = min(max(value, 0), 6)
                case .linear: break
                case .residual(let input): value += input[row * channels + c]
                }
                line[c] = value
                c += 1
            }
        }
    }
}

import COpenBLAS
import Dispatch

/// The pointers of the passes before and after SGEMM, split by rows between threads (each writes its own rows).
private struct Passes: @unchecked Sendable {
    let output: UnsafeMutablePointer<Float>
    let bias: UnsafePointer<Float>
    let channels: Int
    let rows: Int
    var epilogue = Epilogue.linear

    func rows(part: Int, of parts: Int) -> Range<Int> { (rows * part / parts)..<(rows * (part + 1) / parts) }

    func fill(part: Int, of parts: Int) {
        for row in rows(part: part, of: parts) { (output + row * channels).update(from: bias, count: channels) }
    }

    func finish(part: Int, of parts: Int) {
        let range = rows(part: part, of: parts)
        let offset = range.lowerBound * channels
        let shifted: Epilogue
        switch epilogue {
        case .residual(let input): shifted = .residual(input + offset)
        default: shifted = epilogue
        }
        Pointwise.applyEpilogue(output + offset, count: range.count * channels, shifted)
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
            let fill = Passes(output: output, bias: bias.baseAddress!, channels: channels, rows: rows)
            split(parts) { part in fill.fill(part: part, of: parts) }
        }
        layer.weights.withUnsafeBufferPointer { weights in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(channels), Int32(layer.inChannels),
                1, input, Int32(layer.inChannels), weights.baseAddress, Int32(layer.inChannels), 1, output,
                Int32(channels)
            )
        }
        let passes = Passes(output: output, bias: output, channels: channels, rows: rows, epilogue: epilogue)
        split(parts) { part in passes.finish(part: part, of: parts) }
    }

    /// Passes over fewer values than this stay on one thread: waking a second costs more than it saves.
    static let parallelValues = 1 << 18

    static func split(_ parts: Int, _ body: @Sendable (Int) -> Void) {
        if parts > 1 { DispatchQueue.concurrentPerform(iterations: parts, execute: body) } else { body(0) }
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

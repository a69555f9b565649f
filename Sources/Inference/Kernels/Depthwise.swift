/// Folded weights of a depthwise convolution: `kernel * kernel` taps of `channels` values each.
struct DepthwiseWeights: Sendable {
    let channels: Int
    let kernel: Int
    let stride: Int
    let weights: [Float]
    let bias: [Float]
}

/// TensorFlow "SAME" padding: the output is ceil(input / stride) and the padding is split with the extra
/// pixel at the bottom/right (TF's conv2d padding rule, which EfficientNet-Lite was trained with).
struct SamePadding: Equatable {
    let output: Int
    let before: Int

    init(input: Int, kernel: Int, stride: Int) {
        output = (input + stride - 1) / stride
        let total = max((output - 1) * stride + kernel - input, 0)
        before = total / 2
    }
}

/// Geometry of one depthwise pass over a batch chunk.
struct DepthwiseShape {
    let images: Int
    let height: Int
    let width: Int
    let rows: SamePadding
    let columns: SamePadding
}

enum Depthwise {
    /// Depthwise convolution, bias and ReLU6 over NHWC data, for output rows `rowRange` of the flattened
    /// (image, output row) space, so callers can split the work between threads.
    static func run(
        _ input: UnsafePointer<Float>, _ shape: DepthwiseShape, _ layer: DepthwiseWeights,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        rowRange: Range<Int>
    ) {
        let channels = layer.channels
        let outWidth = shape.columns.output
        for flatRow in rowRange {
            let image = flatRow / shape.rows.output
            let oy = flatRow % shape.rows.output
            let top = oy * layer.stride - shape.rows.before
            let kyRange = max(0, -top)..<min(layer.kernel, shape.height - top)
            let imageBase = input + image * shape.height * shape.width * channels
            let outRow = output + flatRow * outWidth * channels
            for ox in 0..<outWidth {
                let left = ox * layer.stride - shape.columns.before
                let kxRange = max(0, -left)..<min(layer.kernel, shape.width - left)
                pixel(
                    imageBase, top: top, left: left, width: shape.width, channels: channels, kernel: layer.kernel,
                    kyRange: kyRange, kxRange: kxRange, weights: weights, bias: bias, into: outRow + ox * channels
                )
            }
        }
    }

    // The hot loop of the network after SGEMM: wrapping arithmetic (&+, &*) because the indices are bounded
    // by the activation's size, and Swift's overflow checks here cost a measurable share of the run time.
    @inline(__always)
    private static func pixel(
        _ image: UnsafePointer<Float>, top: Int, left: Int, width: Int, channels: Int, kernel: Int,
        kyRange: Range<Int>, kxRange: Range<Int>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        into out: UnsafeMutablePointer<Float>
    ) {
        let rowStride = width &* channels
        let first = image + ((top &+ kyRange.lowerBound) &* width &+ left &+ kxRange.lowerBound) &* channels
        let firstTap = weights + (kyRange.lowerBound &* kernel &+ kxRange.lowerBound) &* channels
        let tapRowStride = kernel &* channels
        var c = 0
        while c &+ 8 <= channels {
            var sum = load8(bias + c)
            var row = first + c
            var tapRow = firstTap + c
            for _ in kyRange {
                var offset = 0
                for _ in kxRange {
                    sum += load8(row + offset) * load8(tapRow + offset)
                    offset &+= channels
                }
                row += rowStride
                tapRow += tapRowStride
            }
            store8(relu6(sum), out + c)
            c &+= 8
        }
        while c < channels {
            var sum = bias[c]
            for ky in kyRange {
                for kx in kxRange {
                    sum +=
                        image[((top + ky) * width + left + kx) * channels + c]
                        * weights[(ky * kernel + kx) * channels + c]
                }
            }
            out[c] = min(max(sum, 0), 6)
            c += 1
        }
    }
}

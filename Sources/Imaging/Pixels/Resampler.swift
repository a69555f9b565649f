/// A source rectangle in pixel coordinates; fractional edges are allowed.
public struct SourceBox: Sendable, Equatable {
    public var x0: Double
    public var y0: Double
    public var x1: Double
    public var y1: Double

    /// Creates a box from its corners.
    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }
}

/// Antialiased separable resampling with a triangle (bilinear) filter whose support widens with the
/// reduction factor, so shrinking averages every source pixel instead of skipping most of them. The same
/// definition as Pillow's `Image.resize(..., BILINEAR, box=...)`, which is the reference in the tests.
public enum Resampler {
    /// Resizes the `box` region of `image` to `width` x `height`.
    /// - Parameters:
    ///   - image: The source.
    ///   - width: The output width.
    ///   - height: The output height.
    ///   - box: The source region; the whole image when nil.
    /// - Returns: The resampled image.
    /// - Throws: `ImagingError` with `invalidArgument` for an empty output or a box outside the image.
    public static func resize(_ image: RGBImage, width: Int, height: Int, box: SourceBox? = nil) throws -> RGBImage {
        let box = box ?? SourceBox(x0: 0, y0: 0, x1: Double(image.width), y1: Double(image.height))
        guard width > 0, height > 0, box.x0 >= 0, box.y0 >= 0, box.x1 <= Double(image.width),
            box.y1 <= Double(image.height), box.x1 > box.x0, box.y1 > box.y0
        else {
            throw ImagingError(.invalidArgument, "cannot resample \(box) of a \(image.width)x\(image.height) image")
        }
        let columns = FilterTaps(inputSize: image.width, outputSize: width, start: box.x0, end: box.x1)
        let rows = FilterTaps(inputSize: image.height, outputSize: height, start: box.y0, end: box.y1)
        let firstRow = rows.firstInput
        let rowCount = rows.inputSpan
        let horizontal = resampleRows(image, columns, rowRange: firstRow..<(firstRow + rowCount))
        let pixels = resampleColumns(horizontal, width: width, rows, firstRow: firstRow)
        return RGBImage(uncheckedWidth: width, height: height, pixels: pixels)
    }

    /// Horizontal pass over the rows the vertical pass will read, into floats.
    private static func resampleRows(_ image: RGBImage, _ taps: FilterTaps, rowRange: Range<Int>) -> [Float] {
        let outWidth = taps.outputSize
        var out = [Float](repeating: 0, count: rowRange.count * outWidth * 3)
        image.pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                taps.weights.withUnsafeBufferPointer { weights in
                    for (row, y) in rowRange.enumerated() {
                        let sourceRow = y * image.width * 3
                        let targetRow = row * outWidth * 3
                        for x in 0..<outWidth {
                            var sum = SIMD4<Float>()
                            var at = sourceRow + taps.starts[x] * 3
                            let weightBase = x * taps.stride
                            for k in 0..<taps.counts[x] {
                                let pixel = SIMD4<Float>(
                                    Float(source[at]), Float(source[at + 1]), Float(source[at + 2]), 0)
                                sum += pixel * weights[weightBase + k]
                                at += 3
                            }
                            target[targetRow + x * 3] = sum.x
                            target[targetRow + x * 3 + 1] = sum.y
                            target[targetRow + x * 3 + 2] = sum.z
                        }
                    }
                }
            }
        }
        return out
    }

    /// Vertical pass from the horizontal pass's floats to rounded, clamped bytes.
    private static func resampleColumns(_ rowsIn: [Float], width: Int, _ taps: FilterTaps, firstRow: Int) -> [UInt8] {
        let rowLength = width * 3
        var out = [UInt8](repeating: 0, count: taps.outputSize * rowLength)
        var accumulator = [Float](repeating: 0, count: rowLength)
        rowsIn.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                accumulator.withUnsafeMutableBufferPointer { sum in
                    for y in 0..<taps.outputSize {
                        sum.update(repeating: 0)
                        let first = taps.starts[y] - firstRow
                        for k in 0..<taps.counts[y] {
                            let weight = taps.weights[y * taps.stride + k]
                            let row = (first + k) * rowLength
                            for i in 0..<rowLength { sum[i] += source[row + i] * weight }
                        }
                        for i in 0..<rowLength {
                            target[y * rowLength + i] = UInt8(max(0, min(255, sum[i].rounded())))
                        }
                    }
                }
            }
        }
        return out
    }
}

/// For each output position, the first input it reads, how many, and their normalised weights.
struct FilterTaps {
    let outputSize: Int
    let starts: [Int]
    let counts: [Int]
    let weights: [Float]
    let stride: Int

    init(inputSize: Int, outputSize: Int, start: Double, end: Double) {
        let scale = (end - start) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filterScale  // the triangle filter reaches one (scaled) pixel each side
        let stride = Int(support.rounded(.up)) * 2 + 1
        var starts = [Int](repeating: 0, count: outputSize)
        var counts = [Int](repeating: 0, count: outputSize)
        var weights = [Float](repeating: 0, count: outputSize * stride)
        for i in 0..<outputSize {
            let center = start + (Double(i) + 0.5) * scale
            let first = max(Int((center - support + 0.5).rounded(.down)), 0)
            let last = min(Int((center + support + 0.5).rounded(.down)), inputSize)
            let count = min(max(last - first, 0), stride)
            var raw = [Double](repeating: 0, count: count)
            for k in 0..<count {
                raw[k] = max(0, 1 - abs((Double(first + k) - center + 0.5) / filterScale))
            }
            let total = raw.reduce(0, +)
            for k in 0..<count {
                weights[i * stride + k] = Float(total > 0 ? raw[k] / total : 0)
            }
            starts[i] = first
            counts[i] = count
        }
        self.outputSize = outputSize
        self.starts = starts
        self.counts = counts
        self.weights = weights
        self.stride = stride
    }

    /// The first input index any output reads.
    var firstInput: Int { starts.min() ?? 0 }

    /// How many consecutive inputs, from `firstInput`, the outputs read.
    var inputSpan: Int {
        zip(starts, counts).map { $0 + $1 }.max().map { $0 - firstInput } ?? 0
    }
}

/// The stem's 3x3 stride-2 convolution as im2col plus one SGEMM: 27 values (3x3 taps x RGB) per output
/// pixel, zero where the TF "SAME" padding reaches outside the image.
enum Im2col {
    static func run(
        _ input: UnsafePointer<Float>, images: Int, height: Int, width: Int, channels: Int, kernel: Int, stride: Int,
        into columns: UnsafeMutablePointer<Float>
    ) {
        let rows = SamePadding(input: height, kernel: kernel, stride: stride)
        let cols = SamePadding(input: width, kernel: kernel, stride: stride)
        let patch = kernel * kernel * channels
        var out = columns
        for image in 0..<images {
            let base = input + image * height * width * channels
            for oy in 0..<rows.output {
                for ox in 0..<cols.output {
                    for ky in 0..<kernel {
                        let iy = oy * stride + ky - rows.before
                        for kx in 0..<kernel {
                            let ix = ox * stride + kx - cols.before
                            let inside = iy >= 0 && iy < height && ix >= 0 && ix < width
                            let source = base + (iy * width + ix) * channels
                            for c in 0..<channels {
                                out[(ky * kernel + kx) * channels + c] = inside ? source[c] : 0
                            }
                        }
                    }
                    out += patch
                }
            }
        }
    }
}

enum Pooling {
    /// Global average pooling: [images, pixels, channels] -> [images, channels].
    static func average(
        _ input: UnsafePointer<Float>, images: Int, pixels: Int, channels: Int, into output: UnsafeMutablePointer<Float>
    ) {
        let scale = 1 / Float(pixels)
        for image in 0..<images {
            let out = output + image * channels
            out.update(repeating: 0, count: channels)
            for p in 0..<pixels {
                let row = input + (image * pixels + p) * channels
                for c in 0..<channels { out[c] += row[c] }
            }
            for c in 0..<channels { out[c] *= scale }
        }
    }
}

extension RGBImage {
    /// Writes the image as NHWC floats, `(x - mean) / scale` per channel, into a caller's buffer (one image's
    /// slot of a batch), so a warm pipeline allocates nothing per image.
    /// - Parameters:
    ///   - buffer: At least `width * height * 3` floats.
    ///   - mean: Subtracted from each channel.
    ///   - scale: Each channel is then divided by this.
    /// - Throws: `ImagingError` with `invalidArgument` when the buffer is too small.
    public func normalize(into buffer: UnsafeMutableBufferPointer<Float>, mean: SIMD3<Float>, scale: SIMD3<Float>)
        throws
    {
        guard buffer.count >= pixels.count else {
            throw ImagingError(.invalidArgument, "a \(width)x\(height) image needs \(pixels.count) floats")
        }
        let inverse = 1 / scale
        pixels.withUnsafeBufferPointer { source in
            for i in 0..<(width * height) {
                let value = SIMD3<Float>(Float(source[3 * i]), Float(source[3 * i + 1]), Float(source[3 * i + 2]))
                let normalized = (value - mean) * inverse
                buffer[3 * i] = normalized.x
                buffer[3 * i + 1] = normalized.y
                buffer[3 * i + 2] = normalized.z
            }
        }
    }

    /// The image as a new NHWC float array, normalised as `normalize(into:mean:scale:)` does.
    public func normalized(mean: SIMD3<Float>, scale: SIMD3<Float>) -> [Float] {
        var out = [Float](repeating: 0, count: pixels.count)
        out.withUnsafeMutableBufferPointer { buffer in
            try? normalize(into: buffer, mean: mean, scale: scale)
        }
        return out
    }
}

/// How a frame is fitted to the model's square input.
public enum CropPolicy: String, Sendable, Codable, CaseIterable {
    /// Shorter side to the input size, then the centre cut out, as ImageNet models are evaluated.
    case center
    /// The whole frame resized to the input, so an animal at the edge of a wide frame is kept.
    case full
}

/// What the model expects: input size, crop policy and per-channel normalisation `(x - mean) / scale`.
public struct ModelInputSpec: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var crop: CropPolicy
    public var mean: SIMD3<Float>
    public var scale: SIMD3<Float>

    /// Creates a spec.
    /// - Parameters:
    ///   - width: Input width in pixels.
    ///   - height: Input height in pixels.
    ///   - crop: The crop policy.
    ///   - mean: Subtracted from each RGB channel (0...255 units).
    ///   - scale: Each channel is then divided by this.
    public init(width: Int, height: Int, crop: CropPolicy, mean: SIMD3<Float>, scale: SIMD3<Float>) {
        self.width = width
        self.height = height
        self.crop = crop
        self.mean = mean
        self.scale = scale
    }

    /// EfficientNet-Lite0: 224x224, inputs scaled as (x - 127) / 128.
    public static let efficientNetLite0 = ModelInputSpec(
        width: 224, height: 224, crop: .center, mean: SIMD3(repeating: 127), scale: SIMD3(repeating: 128)
    )

    /// The region of an upright `width` x `height` image that this spec's crop policy keeps.
    func sourceBox(width imageWidth: Int, height imageHeight: Int) -> SourceBox {
        let w = Double(imageWidth)
        let h = Double(imageHeight)
        guard crop == .center else { return SourceBox(x0: 0, y0: 0, x1: w, y1: h) }
        let ratio = max(Double(width) / w, Double(height) / h)
        let boxWidth = min(w, Double(width) / ratio)
        let boxHeight = min(h, Double(height) / ratio)
        let x0 = (w - boxWidth) / 2
        let y0 = (h - boxHeight) / 2
        return SourceBox(x0: x0, y0: y0, x1: x0 + boxWidth, y1: y0 + boxHeight)
    }
}

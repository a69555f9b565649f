import Imaging

extension ModelInputSpec {
    /// The input a model file asks for: its size and normalisation, and its crop unless `crop` overrides it.
    /// - Parameters:
    ///   - metadata: The model's metadata.
    ///   - crop: A crop policy that replaces the model's own; nil for the model's.
    public init(metadata: ModelMetadata, crop: CropPolicy? = nil) {
        let input = metadata.input
        self.init(
            width: input.width, height: input.height, crop: crop ?? CropPolicy(rawValue: input.crop) ?? .center,
            mean: SIMD3(input.mean[0], input.mean[1], input.mean[2]),
            scale: SIMD3(input.scale[0], input.scale[1], input.scale[2])
        )
    }
}

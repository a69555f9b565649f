/// Guard rails applied before and during decoding, so a hostile or broken file cannot exhaust the node.
public struct DecodeLimits: Sendable, Equatable {
    /// The largest image accepted, in pixels, checked from the header before any decoding.
    public var maxPixels: Int
    /// The most scans a progressive JPEG may have (libjpeg-turbo's own tools suggest a limit of this kind).
    public var maxScans: Int
    /// The memory libjpeg may use for one image, in bytes.
    public var maxMemoryBytes: Int

    /// Creates limits.
    /// - Parameters:
    ///   - maxPixels: The largest pixel count accepted (default 100 megapixels).
    ///   - maxScans: The most progressive scans accepted (default 500).
    ///   - maxMemoryBytes: libjpeg's memory budget (default 1 GiB).
    public init(maxPixels: Int = 100_000_000, maxScans: Int = 500, maxMemoryBytes: Int = 1 << 30) {
        self.maxPixels = maxPixels
        self.maxScans = maxScans
        self.maxMemoryBytes = maxMemoryBytes
    }
}

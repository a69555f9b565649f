/// The colour model of the compressed data.
public enum JPEGColorSpace: String, Sendable, Codable {
    case grayscale, rgb, ycbcr, cmyk, ycck, unknown
}

/// A component's sampling factors, horizontal and vertical.
public struct SamplingFactor: Sendable, Equatable, Codable {
    public var horizontal: Int
    public var vertical: Int

    /// Creates a sampling factor.
    public init(horizontal: Int, vertical: Int) {
        self.horizontal = horizontal
        self.vertical = vertical
    }
}

/// How a JPEG is laid out, as its frame header says: size, colour model, subsampling, coding process.
public struct JPEGLayout: Sendable, Equatable, Codable {
    public var width: Int
    public var height: Int
    public var components: Int
    public var colorSpace: JPEGColorSpace
    public var progressive: Bool
    public var arithmetic: Bool
    /// MCUs between restart markers; 0 when the image has none.
    public var restartInterval: Int
    public var sampling: [SamplingFactor]

    /// The pixel count, width times height.
    public var pixelCount: Int { width * height }

    /// Chroma subsampling in the usual J:a:b notation (`4:2:0`), `gray`, or the raw factors when unusual.
    public var subsampling: String {
        if components == 1 { return "gray" }
        // J:a:b names chroma resolution relative to luma, so only the ratio matters (1x2 everywhere is 4:4:4).
        if components == 3, sampling.count == 3, sampling[1] == sampling[2], sampling[1].horizontal > 0,
            sampling[1].vertical > 0,
            sampling[0].horizontal % sampling[1].horizontal == 0, sampling[0].vertical % sampling[1].vertical == 0
        {
            switch (sampling[0].horizontal / sampling[1].horizontal, sampling[0].vertical / sampling[1].vertical) {
            case (1, 1): return "4:4:4"
            case (2, 1): return "4:2:2"
            case (1, 2): return "4:4:0"
            case (2, 2): return "4:2:0"
            case (4, 1): return "4:1:1"
            case (4, 2): return "4:1:0"
            default: break
            }
        }
        return sampling.map { "\($0.horizontal)x\($0.vertical)" }.joined(separator: ",")
    }
}

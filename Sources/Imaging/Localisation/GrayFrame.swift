/// A frame's upright size and how its stored pixels are turned.
public struct FrameGeometry: Sendable, Equatable {
    /// The upright full-resolution width and height.
    public var width: Int
    public var height: Int
    public var orientation: Orientation

    /// Creates a geometry.
    public init(width: Int, height: Int, orientation: Orientation) {
        self.width = width
        self.height = height
        self.orientation = orientation
    }
}

/// A small upright grayscale copy of a frame, for finding what moves in a burst: decoded at the smallest DCT
/// scale at least `width` wide (1/8 for most camera-trap frames, so nearly free), then resampled to exactly
/// `width` columns. Values are gray levels, 0...255.
public struct GrayFrame: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [Float]
    public var geometry: FrameGeometry

    /// Creates a frame from its pixels (row-major, `width * height` of them).
    public init(width: Int, height: Int, pixels: [Float], geometry: FrameGeometry) {
        precondition(pixels.count == width * height, "a gray frame needs width * height pixels")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.geometry = geometry
    }

    /// Decodes a JPEG into an analysis frame.
    /// - Parameters:
    ///   - bytes: A whole JPEG file.
    ///   - decoder: The decoder (and its limits).
    ///   - width: The analysis width in pixels; the height keeps the frame's aspect ratio.
    /// - Returns: The gray frame.
    /// - Throws: `ImagingError` for data that cannot be decoded.
    public static func decode(jpeg bytes: [UInt8], decoder: JPEGDecoder, width: Int) throws -> GrayFrame {
        let orientation = EXIFParser.parse(jpeg: bytes).orientation ?? .up
        let target =
            orientation.swapsDimensions
            ? DecodeScale.atLeast(width: 1, height: width) : DecodeScale.atLeast(width: width, height: 1)
        let decoded = try decoder.decode(bytes, scale: target)
        let upright = decoded.image.applying(orientation)
        let layout = decoded.layout
        let geometry = FrameGeometry(
            width: orientation.swapsDimensions ? layout.height : layout.width,
            height: orientation.swapsDimensions ? layout.width : layout.height, orientation: orientation)
        let gridWidth = max(1, min(width, upright.width))
        let gridHeight = max(1, (upright.height * gridWidth + upright.width / 2) / upright.width)
        let small = try Resampler.resize(upright, width: gridWidth, height: gridHeight)
        var gray = [Float](repeating: 0, count: gridWidth * gridHeight)
        small.pixels.withUnsafeBufferPointer { rgb in
            for i in 0..<gray.count {
                gray[i] = 0.299 * Float(rgb[3 * i]) + 0.587 * Float(rgb[3 * i + 1]) + 0.114 * Float(rgb[3 * i + 2])
            }
        }
        return GrayFrame(width: gridWidth, height: gridHeight, pixels: gray, geometry: geometry)
    }
}

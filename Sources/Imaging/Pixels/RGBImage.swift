/// A packed 8-bit RGB image, rows top to bottom, three bytes a pixel.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    /// Creates an image over existing pixels.
    /// - Parameters:
    ///   - width: Pixels a row.
    ///   - height: Rows.
    ///   - pixels: `width * height * 3` bytes.
    /// - Throws: `ImagingError` with code `invalidArgument` when the sizes disagree.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            throw ImagingError(.invalidArgument, "an RGB image of \(width)x\(height) needs \(width * height * 3) bytes")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    init(uncheckedWidth width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

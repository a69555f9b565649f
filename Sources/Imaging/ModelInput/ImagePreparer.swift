import SystemPackage

/// A frame ready for the model: upright, cropped and resized to the input size, with what was learnt on the way.
public struct PreparedImage: Sendable {
    /// The model-sized RGB image.
    public var image: RGBImage
    public var layout: JPEGLayout
    public var exif: EXIFData
    /// The numerator n of the n/8 DCT scale the JPEG was decoded at.
    public var scaleEighths: Int
    /// The whole upright frame at `thumbnailWidth` wide, made from the same scaled decode (when asked for).
    public var thumbnail: RGBImage?
}

/// Turns a JPEG file into the model's input without ever holding the full-resolution image: libjpeg-turbo
/// decodes straight to the smallest n/8 scale at least as large as the input, the EXIF orientation is applied,
/// then an antialiased resize brings the crop to the input size.
public struct ImagePreparer: Sendable {
    public var spec: ModelInputSpec
    public var decoder: JPEGDecoder
    public var maxFileBytes: Int
    /// When set, `prepare` also makes a thumbnail of the whole frame this wide (at most the decoded width).
    public var thumbnailWidth: Int?

    /// Creates a preparer.
    /// - Parameters:
    ///   - spec: The model's input.
    ///   - limits: Guard rails for decoding.
    ///   - maxFileBytes: The largest file read.
    public init(
        spec: ModelInputSpec, limits: DecodeLimits = DecodeLimits(), maxFileBytes: Int = ImageFile.defaultMaxBytes
    ) {
        self.spec = spec
        self.decoder = JPEGDecoder(limits: limits)
        self.maxFileBytes = maxFileBytes
    }

    /// Reads and prepares a JPEG file.
    /// - Parameter path: The file.
    /// - Returns: The prepared image.
    /// - Throws: `ImagingError` naming the file.
    public func prepare(file path: FilePath) throws -> PreparedImage {
        let bytes = try ImageFile.read(path, maxBytes: maxFileBytes)
        do {
            return try prepare(jpeg: bytes)
        } catch let error as ImagingError {
            throw error.at(path.string)
        }
    }

    /// Prepares JPEG data already in memory.
    /// - Parameter bytes: A whole JPEG file.
    /// - Returns: The prepared image.
    /// - Throws: `ImagingError` for bad data or an image over the limits.
    public func prepare(jpeg bytes: [UInt8]) throws -> PreparedImage {
        let exif = EXIFParser.parse(jpeg: bytes)
        let orientation = exif.orientation ?? .up
        let target =
            orientation.swapsDimensions
            ? DecodeScale.atLeast(width: spec.height, height: spec.width)
            : DecodeScale.atLeast(width: spec.width, height: spec.height)
        let decoded = try decoder.decode(bytes, scale: target)
        let upright = decoded.image.applying(orientation)
        let box = spec.sourceBox(width: upright.width, height: upright.height)
        let resized = try Resampler.resize(upright, width: spec.width, height: spec.height, box: box)
        var thumbnail: RGBImage?
        if let thumbnailWidth, thumbnailWidth > 0 {
            let width = min(thumbnailWidth, upright.width)
            let height = max(1, (upright.height * width + upright.width / 2) / upright.width)
            thumbnail = try Resampler.resize(upright, width: width, height: height)
        }
        return PreparedImage(
            image: resized, layout: decoded.layout, exif: exif, scaleEighths: decoded.scaleEighths,
            thumbnail: thumbnail)
    }
}

extension ImagePreparer {
    /// The model's input for one rectangle of a frame, decoded on its own from the full-resolution file at the
    /// smallest DCT scale that still gives the rectangle the model's input size (libjpeg skips the rows above
    /// it and the columns beside it), turned upright and resized to the input size.
    /// - Parameters:
    ///   - bytes: A whole JPEG file.
    ///   - rect: The rectangle in the upright frame's full-resolution pixels.
    ///   - geometry: The frame's upright size and orientation (from its `GrayFrame`, or its EXIF data).
    /// - Returns: The model-sized RGB image of the rectangle.
    /// - Throws: `ImagingError` for bad data or a rectangle outside the frame.
    public func prepareCrop(jpeg bytes: [UInt8], rect: PixelRect, geometry: FrameGeometry) throws -> RGBImage {
        let stored = geometry.orientation.storedRect(rect, uprightWidth: geometry.width, uprightHeight: geometry.height)
        let decoded = try decoder.decode(bytes, region: stored, minSide: min(spec.width, spec.height))
        let upright = decoded.image.applying(geometry.orientation)
        return try Resampler.resize(upright, width: spec.width, height: spec.height)
    }
}

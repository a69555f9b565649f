import CJPEG

/// The scale at which to decode: libjpeg-turbo scales in the DCT domain by n/8, which is far cheaper than
/// decoding every pixel and resizing afterwards.
public enum DecodeScale: Sendable, Equatable {
    /// Every pixel.
    case full
    /// The smallest n/8 scale (n = 1...8) whose output is at least this large in both dimensions; full size
    /// when even 8/8 is smaller.
    case atLeast(width: Int, height: Int)
}

/// A decoded JPEG: its layout, the DCT scale used, and the pixels at that scale.
public struct DecodedJPEG: Sendable {
    public var layout: JPEGLayout
    /// The numerator n of the n/8 scale the pixels were decoded at.
    public var scaleEighths: Int
    public var image: RGBImage
}

/// Decodes JPEG data with libjpeg-turbo to 8-bit RGB, within `DecodeLimits`.
public struct JPEGDecoder: Sendable {
    public var limits: DecodeLimits

    /// Creates a decoder.
    /// - Parameter limits: The guard rails for every image.
    public init(limits: DecodeLimits = DecodeLimits()) {
        self.limits = limits
    }

    /// Reads the headers only.
    /// - Parameter bytes: A whole JPEG file.
    /// - Returns: The image's layout.
    /// - Throws: `ImagingError` when the data is not a JPEG or its headers are damaged.
    public func layout(of bytes: [UInt8]) throws -> JPEGLayout {
        try withSession(bytes) { session in session.layout }
    }

    /// Decodes a JPEG to RGB, converting grayscale and CMYK/YCCK.
    /// - Parameters:
    ///   - bytes: A whole JPEG file.
    ///   - scale: The DCT-domain scale.
    /// - Returns: The layout, the scale used and the pixels.
    /// - Throws: `ImagingError` for data that is not a JPEG, truncated or corrupt data, and images over the
    ///   limits.
    public func decode(_ bytes: [UInt8], scale: DecodeScale = .full) throws -> DecodedJPEG {
        try withSession(bytes) { session in
            try session.checkPixelLimit(limits.maxPixels)
            let eighths = try session.chooseScale(scale)
            let image = try session.decodeRGB()
            return DecodedJPEG(layout: session.layout, scaleEighths: eighths, image: image)
        }
    }

    /// Decodes one rectangle of a JPEG, at the smallest n/8 scale at which the rectangle is at least `minSide`
    /// pixels on its shorter side (full size when even 8/8 is smaller): only the rows down to the rectangle's
    /// bottom are entropy-decoded, and only the iMCU columns that cover it are transformed.
    /// - Parameters:
    ///   - bytes: A whole JPEG file.
    ///   - region: The rectangle in the stored (not EXIF-rotated) full-resolution image, in pixels.
    ///   - minSide: The smallest wanted size of the rectangle's shorter side after scaling.
    /// - Returns: The layout, the scale used and the rectangle's pixels at that scale.
    /// - Throws: `ImagingError` for bad data, images over the limits, or a rectangle outside the image.
    public func decode(_ bytes: [UInt8], region: PixelRect, minSide: Int) throws -> DecodedJPEG {
        try withSession(bytes) { session in
            try session.checkPixelLimit(limits.maxPixels)
            let layout = session.layout
            guard region.x >= 0, region.y >= 0, region.width > 0, region.height > 0,
                region.x + region.width <= layout.width, region.y + region.height <= layout.height
            else {
                throw ImagingError(
                    .corrupt, "the region \(region) is not inside the \(layout.width)x\(layout.height) image")
            }
            let shorter = min(region.width, region.height)
            var eighths = 8
            for candidate in 1...8 where shorter * candidate >= minSide * 8 {
                eighths = candidate
                break
            }
            let (outWidth, outHeight) = try session.outputSize(eighths)
            // The rectangle at the chosen scale, rounded outwards and kept inside the scaled image.
            let x0 = min(outWidth - 1, region.x * eighths / 8)
            let y0 = min(outHeight - 1, region.y * eighths / 8)
            let x1 = max(x0 + 1, min(outWidth, ((region.x + region.width) * eighths + 7) / 8))
            let y1 = max(y0 + 1, min(outHeight, ((region.y + region.height) * eighths + 7) / 8))
            let image = try session.decodeRegion(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
            return DecodedJPEG(layout: layout, scaleEighths: eighths, image: image)
        }
    }

    private func withSession<R>(_ bytes: [UInt8], _ body: (DecoderSession) throws -> R) throws -> R {
        try JPEGSignature.check(bytes)
        let maxScans = Int32(clamping: limits.maxScans)
        guard let handle = CJPEG_decoder_create(maxScans, Int64(limits.maxMemoryBytes)) else {
            throw ImagingError(.outOfMemory, "cannot allocate a JPEG decoder")
        }
        defer { CJPEG_decoder_destroy(handle) }
        return try bytes.withUnsafeBufferPointer { buffer in
            let session = try DecoderSession(handle: handle, data: buffer)
            return try body(session)
        }
    }
}

/// One image's trip through the C decoder; valid only inside `JPEGDecoder.withSession`.
private struct DecoderSession {
    let handle: OpaquePointer
    let layout: JPEGLayout

    init(handle: OpaquePointer, data: UnsafeBufferPointer<UInt8>) throws {
        self.handle = handle
        var header = CJPEG_header()
        try Self.check(CJPEG_decoder_read_header(handle, data.baseAddress, data.count, &header), handle)
        self.layout = JPEGLayout(header)
    }

    func checkPixelLimit(_ maxPixels: Int) throws {
        guard layout.pixelCount <= maxPixels else {
            throw ImagingError(
                .tooManyPixels,
                "the image declares \(layout.width)x\(layout.height) = \(layout.pixelCount) pixels, over the limit of "
                    + "\(maxPixels) (a decompression bomb, or raise the limit)"
            )
        }
    }

    /// Sets the decoder's scale and returns its numerator in eighths.
    func chooseScale(_ scale: DecodeScale) throws -> Int {
        guard case .atLeast(let minWidth, let minHeight) = scale else { return try apply(8) }
        for eighths in 1...8 {
            let (width, height) = try outputSize(eighths)
            if width >= minWidth && height >= minHeight { return eighths }
        }
        return try apply(8)
    }

    private func apply(_ eighths: Int) throws -> Int {
        _ = try outputSize(eighths)
        return eighths
    }

    func outputSize(_ eighths: Int) throws -> (Int, Int) {
        var width: UInt32 = 0
        var height: UInt32 = 0
        try Self.check(CJPEG_decoder_set_scale(handle, UInt32(eighths), &width, &height), handle)
        return (Int(width), Int(height))
    }

    func decodeRegion(x: Int, y: Int, width: Int, height: Int) throws -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: (width + 64) * height * 3)
        var column: UInt32 = 0
        var columns: UInt32 = 0
        let status = pixels.withUnsafeMutableBufferPointer { buffer in
            CJPEG_decoder_decode_region_rgb(
                handle, UInt32(x), UInt32(y), UInt32(width), UInt32(height), buffer.baseAddress, buffer.count,
                &column, &columns)
        }
        try Self.check(status, handle)
        // libjpeg widened the rows to iMCU boundaries: keep the asked-for columns only.
        let skip = x - Int(column)
        let stride = Int(columns) * 3
        var exact = [UInt8](repeating: 0, count: width * height * 3)
        for row in 0..<height {
            let from = row * stride + skip * 3
            exact.replaceSubrange((row * width * 3)..<((row + 1) * width * 3), with: pixels[from..<(from + width * 3)])
        }
        return RGBImage(uncheckedWidth: width, height: height, pixels: exact)
    }

    func decodeRGB() throws -> RGBImage {
        var width: UInt32 = 0
        var height: UInt32 = 0
        try Self.check(CJPEG_decoder_output_size(handle, &width, &height), handle)
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        let status = pixels.withUnsafeMutableBufferPointer { buffer in
            CJPEG_decoder_decode_rgb(handle, buffer.baseAddress, buffer.count)
        }
        try Self.check(status, handle)
        return RGBImage(uncheckedWidth: Int(width), height: Int(height), pixels: pixels)
    }

    static func check(_ status: Int32, _ handle: OpaquePointer) throws {
        guard Int(status) != CJPEG_OK else { return }
        let detail = String(cString: CJPEG_decoder_message(handle))
        switch Int(status) {
        case CJPEG_TRUNCATED:
            throw ImagingError(.truncated, "the JPEG data ends early (truncated, or still being written): \(detail)")
        case CJPEG_CORRUPT:
            throw ImagingError(.corrupt, "the JPEG data is corrupt: \(detail)")
        case CJPEG_TOO_MANY_SCANS:
            throw ImagingError(.tooManyScans, "refused: the \(detail)")
        case CJPEG_NO_MEMORY:
            throw ImagingError(.outOfMemory, "the image needs more memory than the decoder may use: \(detail)")
        default:
            throw ImagingError(.corrupt, "cannot decode the JPEG: \(detail)")
        }
    }
}

extension JPEGLayout {
    init(_ header: CJPEG_header) {
        let hs = [header.h_samp.0, header.h_samp.1, header.h_samp.2, header.h_samp.3]
        let vs = [header.v_samp.0, header.v_samp.1, header.v_samp.2, header.v_samp.3]
        let components = Int(header.components)
        self.init(
            width: Int(header.width),
            height: Int(header.height),
            components: components,
            colorSpace: JPEGColorSpace(code: header.color_space),
            progressive: header.progressive != 0,
            arithmetic: header.arithmetic != 0,
            restartInterval: Int(header.restart_interval),
            sampling: (0..<min(components, 4)).map { SamplingFactor(horizontal: Int(hs[$0]), vertical: Int(vs[$0])) }
        )
    }
}

extension JPEGColorSpace {
    init(code: Int32) {
        switch Int(code) {
        case CJPEG_COLOR_GRAYSCALE: self = .grayscale
        case CJPEG_COLOR_RGB: self = .rgb
        case CJPEG_COLOR_YCBCR: self = .ycbcr
        case CJPEG_COLOR_CMYK: self = .cmyk
        case CJPEG_COLOR_YCCK: self = .ycck
        default: self = .unknown
        }
    }
}

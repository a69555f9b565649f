import CJPEG

/// Encodes RGB images as baseline JPEG with libjpeg-turbo (the status page's thumbnails).
public enum JPEGEncoder {
    /// Encodes an image.
    /// - Parameters:
    ///   - image: The pixels.
    ///   - quality: libjpeg's quality, 1...100.
    /// - Returns: A whole JPEG file.
    /// - Throws: `ImagingError` (`invalid-argument`, `out-of-memory`) with libjpeg's reason.
    public static func encode(_ image: RGBImage, quality: Int = 80) throws -> [UInt8] {
        var message = [CChar](repeating: 0, count: 256)
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            CJPEG_encode_rgb(
                pixels.baseAddress, UInt32(image.width), UInt32(image.height), Int32(quality), &buffer, &size,
                &message)
        }
        defer { CJPEG_free(buffer) }
        guard Int(status) == CJPEG_OK, let buffer else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let code: ImagingError.Code = Int(status) == CJPEG_NO_MEMORY ? .outOfMemory : .invalidArgument
            throw ImagingError(code, "cannot encode a JPEG: \(reason)")
        }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }
}

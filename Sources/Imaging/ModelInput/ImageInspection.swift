import SystemPackage

/// What `trapline inspect` reports of one file: its layout and EXIF, and whether the whole image decodes.
public struct ImageInspection: Sendable {
    public var path: String
    public var fileBytes: Int?
    public var layout: JPEGLayout?
    public var exif: EXIFData?
    /// Why the file cannot be used; nil when it decodes.
    public var error: ImagingError?

    /// Inspects a file. Never throws: a failure is recorded in `error`, with whatever was learnt before it.
    /// - Parameters:
    ///   - path: The file.
    ///   - limits: Guard rails for decoding.
    /// - Returns: The inspection.
    public static func inspect(_ path: FilePath, limits: DecodeLimits = DecodeLimits()) -> ImageInspection {
        var result = ImageInspection(path: path.string)
        do {
            let bytes = try ImageFile.read(path)
            result.fileBytes = bytes.count
            result.exif = EXIFParser.parse(jpeg: bytes)
            let decoder = JPEGDecoder(limits: limits)
            result.layout = try decoder.layout(of: bytes)
            // A 1/8-scale decode still reads every entropy-coded byte, so it finds truncation and corruption
            // at a small fraction of the cost of a full decode.
            _ = try decoder.decode(bytes, scale: .atLeast(width: 1, height: 1))
        } catch let error as ImagingError {
            result.error = error.path == nil ? error.at(path.string) : error
        } catch {
            result.error = ImagingError(.readFailed, "\(error)", path: path.string)
        }
        return result
    }

    private init(path: String) {
        self.path = path
    }
}

/// Reads the EXIF fields trapline needs from a JPEG's APP1 segment. It never throws: broken EXIF only leaves
/// fields absent, because an image that decodes must not fail for its metadata.
public enum EXIFParser {
    // Tags from the EXIF 2.32 specification (CIPA DC-008).
    enum Tag {
        static let make: UInt16 = 0x010F
        static let model: UInt16 = 0x0110
        static let orientation: UInt16 = 0x0112
        static let exifIFD: UInt16 = 0x8769
        static let dateTimeOriginal: UInt16 = 0x9003
        static let offsetTimeOriginal: UInt16 = 0x9011
        static let subSecTimeOriginal: UInt16 = 0x9291
        static let bodySerialNumber: UInt16 = 0xA431
        static let cameraSerialNumber: UInt16 = 0xC62F  // DNG's tag, also written into IFD0 by some cameras
    }

    /// Finds and parses the EXIF segment of a JPEG file.
    /// - Parameter jpeg: The bytes of a whole JPEG file.
    /// - Returns: The fields found; empty when there is no usable EXIF.
    public static func parse(jpeg: [UInt8]) -> EXIFData {
        guard let payload = JPEGSegments.exifPayload(in: jpeg) else { return EXIFData() }
        return parse(tiff: payload)
    }

    /// Parses a TIFF-structured EXIF body (what follows `Exif\0\0`).
    /// - Parameter tiff: The TIFF header and its IFDs.
    /// - Returns: The fields found; empty when the structure is unusable.
    public static func parse(tiff: ArraySlice<UInt8>) -> EXIFData {
        guard let reader = TIFFReader(tiff) else { return EXIFData() }
        var visited: Set<Int> = []
        var tags: [UInt16: TIFFReader.Entry] = [:]
        collect(reader, ifd: reader.firstIFD, into: &tags, visited: &visited)
        if let pointer = tags[Tag.exifIFD].flatMap(reader.unsigned) {
            collect(reader, ifd: Int(pointer), into: &tags, visited: &visited)
        }
        return fields(reader, tags)
    }

    /// Gathers an IFD's entries; the first occurrence of a tag wins. `visited` stops a directory pointing
    /// back at one already read (a loop in a corrupted or malicious file).
    private static func collect(
        _ reader: TIFFReader,
        ifd offset: Int,
        into tags: inout [UInt16: TIFFReader.Entry],
        visited: inout Set<Int>
    ) {
        guard visited.insert(offset).inserted, let entries = reader.entries(at: offset) else { return }
        for entry in entries where tags[entry.tag] == nil {
            tags[entry.tag] = entry
        }
    }

    private static func fields(_ reader: TIFFReader, _ tags: [UInt16: TIFFReader.Entry]) -> EXIFData {
        func text(_ tag: UInt16) -> String? { tags[tag].flatMap(reader.string) }
        let captureTime = text(Tag.dateTimeOriginal).flatMap {
            CaptureTime(dateTime: $0, subSeconds: text(Tag.subSecTimeOriginal), offset: text(Tag.offsetTimeOriginal))
        }
        let orientation = tags[Tag.orientation].flatMap(reader.unsigned).flatMap { Orientation(rawValue: Int($0)) }
        return EXIFData(
            captureTime: captureTime,
            make: text(Tag.make),
            model: text(Tag.model),
            serialNumber: text(Tag.bodySerialNumber) ?? text(Tag.cameraSerialNumber),
            orientation: orientation
        )
    }
}

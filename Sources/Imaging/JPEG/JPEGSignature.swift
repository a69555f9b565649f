/// Recognises a JPEG, and names the common formats that get saved with a .jpg name by mistake.
enum JPEGSignature {
    static func check(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { throw ImagingError(.empty, "the file is empty (0 bytes)") }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return }
        let name = otherFormat(bytes).map { "it is a \($0) file" } ?? "it does not start with a JPEG marker"
        throw ImagingError(.notJPEG, "not a JPEG image: \(name)")
    }

    private static let knownFormats: [(name: String, magic: [UInt8])] = [
        ("PNG", [0x89, 0x50, 0x4E, 0x47]),
        ("GIF", Array("GIF8".utf8)),
        ("TIFF (little-endian)", [0x49, 0x49, 0x2A, 0x00]),
        ("TIFF (big-endian)", [0x4D, 0x4D, 0x00, 0x2A]),
        ("RIFF (WebP or AVI)", Array("RIFF".utf8)),
        ("BMP", Array("BM".utf8)),
        ("PDF", Array("%PDF".utf8)),
        ("ZIP", [0x50, 0x4B, 0x03, 0x04]),
    ]

    private static func otherFormat(_ bytes: [UInt8]) -> String? {
        if bytes.count >= 12, bytes[4..<8].elementsEqual("ftyp".utf8) { return "HEIF/MP4" }
        return knownFormats.first { bytes.starts(with: $0.magic) }?.name
    }
}

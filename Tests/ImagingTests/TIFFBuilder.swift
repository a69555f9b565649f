/// Builds small little-endian EXIF bodies (TIFF header, IFD0, EXIF IFD) with ASCII tags, for parser tests.
struct TIFFBuilder {
    var ifd0: [UInt16: String] = [:]
    var exif: [UInt16: String] = [:]

    static let exifPointerTag: UInt16 = 0x8769

    func build() -> [UInt8] {
        var out: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00]
        let ifd0Entries = ifd0.count + 1
        let ifd0Size = 2 + ifd0Entries * 12 + 4
        let exifOffset = 8 + ifd0Size
        let exifSize = 2 + exif.count * 12 + 4
        var dataOffset = exifOffset + exifSize
        var data: [UInt8] = []
        func directory(_ tags: [UInt16: String], pointer: Int?) -> [UInt8] {
            var entries: [(UInt16, [UInt8])] = tags.sorted { $0.key < $1.key }.map { tag, text in
                let bytes = Array(text.utf8) + [0]
                var field = [UInt8](repeating: 0, count: 4)
                if bytes.count <= 4 {
                    field.replaceSubrange(0..<bytes.count, with: bytes)
                } else {
                    field = Self.le32(dataOffset + data.count)
                    data += bytes
                }
                return (tag, [2, 0] + Self.le32(bytes.count) + field)
            }
            if let pointer { entries.append((Self.exifPointerTag, [4, 0] + Self.le32(1) + Self.le32(pointer))) }
            var out = Self.le16(entries.count)
            for (tag, rest) in entries.sorted(by: { $0.0 < $1.0 }) { out += Self.le16(Int(tag)) + rest }
            return out + [0, 0, 0, 0]
        }
        out += directory(ifd0, pointer: exifOffset)
        dataOffset = exifOffset + exifSize
        out += directory(exif, pointer: nil)
        return out + data
    }

    /// Where the EXIF pointer's value field sits in a built body.
    static func exifPointerField(_ bytes: [UInt8]) -> Int {
        let count = Int(bytes[8]) | Int(bytes[9]) << 8
        for index in 0..<count {
            let base = 10 + index * 12
            if Int(bytes[base]) | Int(bytes[base + 1]) << 8 == Int(exifPointerTag) { return base + 8 }
        }
        return 0
    }

    static func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
    static func le32(_ value: Int) -> [UInt8] { le16(value & 0xFFFF) + le16(value >> 16) }
}

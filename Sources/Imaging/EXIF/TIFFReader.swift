/// Bounds-checked reads from a TIFF structure (the body of an EXIF segment). Every accessor returns nil
/// rather than reading outside the data, so a damaged segment can only make fields absent.
struct TIFFReader {
    let data: [UInt8]
    let bigEndian: Bool
    let firstIFD: Int

    /// An IFD entry: tag, type, count, and where its 4-byte value-or-offset field sits.
    struct Entry {
        let tag: UInt16
        let type: UInt16
        let count: UInt32
        let fieldOffset: Int
    }

    // TIFF 6.0 section 2: the byte-order mark, 42, then the offset of the first IFD.
    init?(_ body: ArraySlice<UInt8>) {
        data = Array(body)
        guard data.count >= 8 else { return nil }
        switch (data[0], data[1]) {
        case (0x49, 0x49): bigEndian = false
        case (0x4D, 0x4D): bigEndian = true
        default: return nil
        }
        let reader = TIFFReader(data: data, bigEndian: bigEndian, firstIFD: 0)
        guard reader.u16(at: 2) == 42, let first = reader.u32(at: 4) else { return nil }
        firstIFD = Int(first)
    }

    private init(data: [UInt8], bigEndian: Bool, firstIFD: Int) {
        self.data = data
        self.bigEndian = bigEndian
        self.firstIFD = firstIFD
    }

    func u16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= data.count else { return nil }
        let (a, b) = (UInt16(data[offset]), UInt16(data[offset + 1]))
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    func u32(at offset: Int) -> UInt32? {
        guard let high = u16(at: bigEndian ? offset : offset + 2),
            let low = u16(at: bigEndian ? offset + 2 : offset)
        else { return nil }
        return UInt32(high) << 16 | UInt32(low)
    }

    /// The entries of the IFD at `offset`; nil when the directory does not fit in the data.
    func entries(at offset: Int) -> [Entry]? {
        guard let count = u16(at: offset), count > 0 else { return nil }
        let end = offset + 2 + Int(count) * 12
        guard end <= data.count else { return nil }
        return (0..<Int(count)).compactMap { index in
            let base = offset + 2 + index * 12
            guard let tag = u16(at: base), let type = u16(at: base + 2), let count = u32(at: base + 4) else {
                return nil
            }
            return Entry(tag: tag, type: type, count: count, fieldOffset: base + 8)
        }
    }

    /// The bytes of an entry's value, inline or at its offset.
    func valueBytes(_ entry: Entry) -> ArraySlice<UInt8>? {
        let unit: Int
        switch entry.type {
        case 1, 2, 6, 7: unit = 1  // BYTE, ASCII, SBYTE, UNDEFINED
        case 3, 8: unit = 2  // SHORT, SSHORT
        case 4, 9, 11: unit = 4  // LONG, SLONG, FLOAT
        case 5, 10, 12: unit = 8  // RATIONAL, SRATIONAL, DOUBLE
        default: return nil
        }
        let (size, overflow) = Int(entry.count).multipliedReportingOverflow(by: unit)
        guard !overflow, size <= data.count else { return nil }
        var start = entry.fieldOffset
        if size > 4 {
            guard let offset = u32(at: entry.fieldOffset) else { return nil }
            start = Int(offset)
        }
        guard start >= 0, start + size <= data.count else { return nil }
        return data[start..<start + size]
    }

    /// An ASCII (or UNDEFINED) value up to its first NUL, trimmed of spaces; nil when empty.
    func string(_ entry: Entry) -> String? {
        guard entry.type == 2 || entry.type == 7, let bytes = valueBytes(entry) else { return nil }
        let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        let trimmed = text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()
        return trimmed.isEmpty ? nil : String(trimmed)
    }

    /// The first value of a SHORT or LONG entry.
    func unsigned(_ entry: Entry) -> UInt32? {
        guard entry.count >= 1 else { return nil }
        switch entry.type {
        case 3: return u16(at: entry.fieldOffset).map(UInt32.init)
        case 4: return u32(at: entry.fieldOffset)
        default: return nil
        }
    }
}

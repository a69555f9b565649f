/// Walks the marker segments before the first scan, with every length checked against the data.
enum JPEGSegments {
    /// The payload of the first APP1 segment holding EXIF, without its `Exif\0\0` preamble.
    static func exifPayload(in bytes: [UInt8]) -> ArraySlice<UInt8>? {
        let preamble: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]  // "Exif\0\0"
        var found: ArraySlice<UInt8>?
        forEachSegment(in: bytes) { marker, payload in
            guard marker == 0xE1, payload.starts(with: preamble) else { return true }
            found = payload.dropFirst(preamble.count)
            return false
        }
        return found
    }

    /// Calls `body` with each segment's marker and payload until it returns false or the scan data begins.
    static func forEachSegment(in bytes: [UInt8], _ body: (UInt8, ArraySlice<UInt8>) -> Bool) {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return }
        var index = 2
        while index + 1 < bytes.count {
            guard bytes[index] == 0xFF else { return }
            var markerIndex = index + 1
            while markerIndex < bytes.count && bytes[markerIndex] == 0xFF { markerIndex += 1 }  // fill bytes
            guard markerIndex < bytes.count else { return }
            let marker = bytes[markerIndex]
            if marker == 0xD9 || marker == 0xDA { return }  // end of image, start of scan
            if marker == 0x01 || (0xD0...0xD7).contains(marker) {  // markers without a length
                index = markerIndex + 1
                continue
            }
            guard markerIndex + 2 < bytes.count else { return }
            let length = Int(bytes[markerIndex + 1]) << 8 | Int(bytes[markerIndex + 2])
            let start = markerIndex + 3
            let end = markerIndex + 1 + length
            guard length >= 2, end <= bytes.count else { return }
            if !body(marker, bytes[start..<end]) { return }
            index = end
        }
    }
}

/// When a photo was taken, as the camera wrote it. Camera traps often record no UTC offset: such a time is
/// local to the camera, and `utcOffsetSeconds` is nil.
public struct CaptureTime: Sendable, Equatable, Codable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// The fraction of a second, from SubSecTimeOriginal, in nanoseconds.
    public var nanosecond: Int
    /// The offset from UTC, from OffsetTimeOriginal; nil when the camera wrote none.
    public var utcOffsetSeconds: Int?

    /// Whether the camera recorded an offset from UTC.
    public var hasOffset: Bool { utcOffsetSeconds != nil }

    /// ISO 8601: `2015-10-29T15:44:44.52` (local, no offset) or `2015-10-29T15:44:44.52-05:00`.
    public var iso8601: String {
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if nanosecond > 0 {
            var fraction = pad(nanosecond, 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        if let offset = utcOffsetSeconds {
            let sign = offset < 0 ? "-" : "+"
            let magnitude = abs(offset)
            text += "\(sign)\(pad(magnitude / 3600, 2)):\(pad(magnitude % 3600 / 60, 2))"
        }
        return text
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension CaptureTime {
    /// Parses EXIF's `YYYY:MM:DD HH:MM:SS` with optional sub-second digits and `±HH:MM` offset; nil for blank,
    /// zeroed or out-of-range values, which cameras write when their clock was never set.
    init?(dateTime: String, subSeconds: String?, offset: String?) {
        let bytes = Array(dateTime.utf8.prefix(19))
        guard bytes.count == 19, let fields = Self.fields(bytes) else { return nil }
        guard (1...12).contains(fields[1]), (1...31).contains(fields[2]), fields[3] < 24, fields[4] < 60,
            fields[5] <= 60, fields[0] > 0
        else { return nil }
        self.init(
            year: fields[0], month: fields[1], day: fields[2], hour: fields[3], minute: fields[4], second: fields[5],
            nanosecond: subSeconds.flatMap(Self.nanoseconds) ?? 0,
            utcOffsetSeconds: offset.flatMap(Self.offsetSeconds)
        )
    }

    private static func fields(_ bytes: [UInt8]) -> [Int]? {
        let separators: [Int: UInt8] = [4: 0x3A, 7: 0x3A, 10: 0x20, 13: 0x3A, 16: 0x3A]
        for (index, separator) in separators where bytes[index] != separator { return nil }
        let ranges = [0..<4, 5..<7, 8..<10, 11..<13, 14..<16, 17..<19]
        var values: [Int] = []
        for range in ranges {
            guard let value = number(bytes[range]) else { return nil }
            values.append(value)
        }
        return values
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for digit in digits {
            guard (0x30...0x39).contains(digit) else { return nil }
            value = value * 10 + Int(digit - 0x30)
        }
        return value
    }

    static func nanoseconds(_ text: String) -> Int? {
        let digits = Array(text.utf8.prefix { $0 != 0x20 }.prefix(9))
        guard let value = number(digits[...]) else { return nil }
        var scaled = value
        for _ in digits.count..<9 { scaled *= 10 }
        return scaled
    }

    static func offsetSeconds(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 6, bytes[0] == 0x2B || bytes[0] == 0x2D, bytes[3] == 0x3A,
            let hours = number(bytes[1..<3]), let minutes = number(bytes[4..<6]), hours <= 14, minutes < 60
        else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return bytes[0] == 0x2D ? -seconds : seconds
    }
}

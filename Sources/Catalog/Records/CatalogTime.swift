import FoundationEssentials

/// A capture time as the catalog stores it: ISO 8601 text (local when no offset is known) and a sortable key in
/// seconds, used to group images into events.
public struct CatalogTime: Sendable, Equatable {
    public var iso8601: String
    public var hasOffset: Bool
    /// Seconds since 1970-01-01T00:00:00 of the same clock (UTC when an offset is known, the camera's otherwise).
    public var key: Double

    /// Creates a time.
    public init(iso8601: String, hasOffset: Bool, key: Double) {
        self.iso8601 = iso8601
        self.hasOffset = hasOffset
        self.key = key
    }

    /// A UTC instant.
    public init(date: Date) {
        self.init(iso8601: CatalogTime.format(date), hasOffset: true, key: date.timeIntervalSince1970)
    }

    /// ISO 8601 UTC with milliseconds: `2026-11-28T01:02:03.456Z`.
    public static func format(_ date: Date) -> String {
        let total = date.timeIntervalSince1970
        let seconds = Int(total.rounded(.down))
        let millis = Int(((total - Double(seconds)) * 1000).rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil from days (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay % 3600 / 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    /// Seconds since 1970 for a civil date and time (proleptic Gregorian), minus a UTC offset.
    public static func key(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanosecond: Int = 0,
        offsetSeconds: Int = 0
    ) -> Double {
        // Days from civil (H. Hinnant's algorithm, public domain description).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offsetSeconds
        return Double(seconds) + Double(nanosecond) / 1e9
    }
}

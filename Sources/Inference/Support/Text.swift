extension StringProtocol {
    /// The text without leading and trailing spaces and tabs, for names and lists typed by people (config values,
    /// command-line lists). Foundation's `trimmingCharacters(in:)` would bring ICU into the binary
    /// (docs/footprint.md).
    public var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

/// A catalog that cannot be opened, migrated, written or exported, with the reason and what to do.
public struct CatalogError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String, Sendable {
            case cannotOpen = "cannot-open"
            case storage
            case export
        }
        let value: Value

        /// The database file cannot be opened or migrated.
        public static let cannotOpen = Code(value: .cannotOpen)
        /// A read or write failed (disk full, I/O error, a locked database beyond the busy timeout).
        public static let storage = Code(value: .storage)
        /// An export could not be written.
        public static let export = Code(value: .export)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}

/// A failure of the ring: a bad ring configuration, missing or invalid credentials, a malformed message, a
/// peer that cannot be reached.
public struct RingError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case badConfig, credentials, malformed, unreachable, refused
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The ring section of the configuration is inconsistent.
        public static let badConfig = Code(.badConfig)
        /// Certificates or keys are missing, unreadable or invalid.
        public static let credentials = Code(.credentials)
        /// A message does not fit the model or the route.
        public static let malformed = Code(.malformed)
        /// A peer did not answer.
        public static let unreachable = Code(.unreachable)
        /// A peer is not a member of the ring.
        public static let refused = Code(.refused)

        public var description: String { wrapped.rawValue }
    }

    public var code: Code
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "ring: \(message)" }
}

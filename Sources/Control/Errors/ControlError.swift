/// A controller that cannot be built from its profiles, accuracy curves, policy or settings, with the reason
/// and what to do.
public struct ControlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of input was wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String, Sendable {
            case invalidProfile = "invalid-profile"
            case invalidAccuracy = "invalid-accuracy"
            case mismatch
            case invalidPolicy = "invalid-policy"
            case invalidSettings = "invalid-settings"
            case searchTooLarge = "search-too-large"
        }
        let value: Value

        /// A slice profile is empty, unsorted, or holds a time that is not a positive number.
        public static let invalidProfile = Code(value: .invalidProfile)
        /// The accuracy table holds a value outside 0...1, or a slice's full-width accuracy is zero.
        public static let invalidAccuracy = Code(value: .invalidAccuracy)
        /// Profiles, accuracy curves and the level count do not agree on how many slices or levels there are.
        public static let mismatch = Code(value: .mismatch)
        /// A fixed level vector has the wrong length or a level out of range.
        public static let invalidPolicy = Code(value: .invalidPolicy)
        /// A controller setting is out of its range.
        public static let invalidSettings = Code(value: .invalidSettings)
        /// The level space is too large to search exactly.
        public static let searchTooLarge = Code(value: .searchTooLarge)

        public var description: String { value.rawValue }
    }

    /// What kind of input was wrong.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: What kind of input was wrong.
    ///   - message: What went wrong and what to do.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// A model file that cannot be used, or a request the engine cannot serve, with a message that says why.
public struct InferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String, Sendable {
            case unreadableFile = "unreadable-file"
            case invalidModelFile = "invalid-model-file"
            case invalidArgument = "invalid-argument"
        }
        let value: Value

        /// The model file could not be opened or read.
        public static let unreadableFile = Code(value: .unreadableFile)
        /// The model file is malformed or inconsistent.
        public static let invalidModelFile = Code(value: .invalidModelFile)
        /// A call's arguments do not fit the model (levels, unit range, batch size, buffer sizes).
        public static let invalidArgument = Code(value: .invalidArgument)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What went wrong.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func model(_ message: String) -> InferenceError { InferenceError(.invalidModelFile, message) }
    static func argument(_ message: String) -> InferenceError { InferenceError(.invalidArgument, message) }
}

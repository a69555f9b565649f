/// A folder that cannot be watched or scanned, with the reason.
public struct IngestError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String, Sendable {
            case watchFailed = "watch-failed"
            case permissionDenied = "permission-denied"
            case notAFolder = "not-a-folder"
        }
        let value: Value

        /// inotify could not be set up or read.
        public static let watchFailed = Code(value: .watchFailed)
        /// A folder is not readable by this user.
        public static let permissionDenied = Code(value: .permissionDenied)
        /// The watch root is missing or not a folder.
        public static let notAFolder = Code(value: .notAFolder)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// An image that could not be read, decoded or prepared, with a message a person can act on.
public struct ImagingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String, Sendable {
            case notFound = "not-found"
            case permissionDenied = "permission-denied"
            case notRegularFile = "not-a-regular-file"
            case readFailed = "read-failed"
            case empty = "empty-file"
            case fileChanged = "file-changed"
            case fileTooLarge = "file-too-large"
            case notJPEG = "not-jpeg"
            case truncated = "truncated"
            case corrupt = "corrupt"
            case tooManyPixels = "too-many-pixels"
            case tooManyScans = "too-many-scans"
            case outOfMemory = "out-of-memory"
            case invalidArgument = "invalid-argument"
        }
        let value: Value

        /// The file does not exist (or vanished before it was opened).
        public static let notFound = Code(value: .notFound)
        /// The process may not read the file.
        public static let permissionDenied = Code(value: .permissionDenied)
        /// The path names a folder, a device or a pipe.
        public static let notRegularFile = Code(value: .notRegularFile)
        /// Reading failed for another operating-system reason.
        public static let readFailed = Code(value: .readFailed)
        /// The file has no bytes.
        public static let empty = Code(value: .empty)
        /// The file shrank or grew while it was read.
        public static let fileChanged = Code(value: .fileChanged)
        /// The file is larger than the configured limit.
        public static let fileTooLarge = Code(value: .fileTooLarge)
        /// The bytes are not a JPEG (another format, or garbage).
        public static let notJPEG = Code(value: .notJPEG)
        /// The JPEG data ends before the image does.
        public static let truncated = Code(value: .truncated)
        /// The JPEG data is damaged.
        public static let corrupt = Code(value: .corrupt)
        /// The header declares more pixels than the configured limit (a decompression bomb).
        public static let tooManyPixels = Code(value: .tooManyPixels)
        /// A progressive JPEG has more scans than the configured limit.
        public static let tooManyScans = Code(value: .tooManyScans)
        /// The decoder ran out of its memory budget.
        public static let outOfMemory = Code(value: .outOfMemory)
        /// A caller passed a value outside its range.
        public static let invalidArgument = Code(value: .invalidArgument)

        /// A stable, machine-readable name such as `truncated`.
        public var description: String { value.rawValue }

        /// The code a `description` names; nil for a name this version does not know.
        public init?(description: String) {
            guard let value = Value(rawValue: description) else { return nil }
            self.value = value
        }

        init(value: Value) {
            self.value = value
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and, where it helps, what to do about it.
    public var message: String
    /// The file concerned, when there is one.
    public var path: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A readable explanation.
    ///   - path: The file concerned, if any.
    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String {
        if let path { return "\(path): \(message)" }
        return message
    }

    public func at(_ path: String) -> ImagingError {
        var copy = self
        copy.path = path
        return copy
    }
}

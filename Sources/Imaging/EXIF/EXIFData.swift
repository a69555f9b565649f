/// How the stored pixels must be turned to show the scene upright (EXIF tag 0x0112).
public enum Orientation: Int, Sendable, Codable, CaseIterable {
    case up = 1
    case upMirrored = 2
    case down = 3
    case downMirrored = 4
    case leftMirrored = 5
    case right = 6
    case rightMirrored = 7
    case left = 8

    /// Whether showing the image upright swaps its width and height.
    public var swapsDimensions: Bool { rawValue >= 5 }
}

/// The EXIF fields trapline uses. A field is nil when the file lacks it or its value is unusable.
public struct EXIFData: Sendable, Equatable, Codable {
    public var captureTime: CaptureTime?
    public var make: String?
    public var model: String?
    public var serialNumber: String?
    public var orientation: Orientation?

    /// Creates EXIF data; every field defaults to absent.
    public init(
        captureTime: CaptureTime? = nil,
        make: String? = nil,
        model: String? = nil,
        serialNumber: String? = nil,
        orientation: Orientation? = nil
    ) {
        self.captureTime = captureTime
        self.make = make
        self.model = model
        self.serialNumber = serialNumber
        self.orientation = orientation
    }

    /// True when no field was found.
    public var isEmpty: Bool { self == EXIFData() }
}

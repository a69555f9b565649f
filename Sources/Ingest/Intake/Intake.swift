import Catalog
import FoundationEssentials
import Imaging
import SystemPackage

/// How arriving files are read into the catalog.
public struct IntakeSettings: Sendable, Equatable {
    /// The watch root; deployments are named by folders under it.
    public var root: String
    /// How many folder levels under the root name a deployment (`A05/` for camera A05 is 1); 0 names every
    /// image's deployment after the root itself.
    public var deploymentDepth: Int
    /// The largest file read.
    public var maxFileBytes: Int
    /// A file without a JPEG end marker is given this long after its last change to be completed.
    public var settleSeconds: Double

    /// Creates settings.
    public init(
        root: String, deploymentDepth: Int = 1, maxFileBytes: Int = ImageFile.defaultMaxBytes,
        settleSeconds: Double = 10
    ) {
        self.root = root
        self.deploymentDepth = deploymentDepth
        self.maxFileBytes = maxFileBytes
        self.settleSeconds = settleSeconds
    }
}

/// What became of a file offered to the intake.
public enum IntakeOutcome: Sendable, Equatable {
    /// Catalogued (new, moved, or the same bytes at the same path).
    case registered(mediaID: String, Registration)
    /// Already catalogued with this size and time; not read again.
    case alreadyKnown
    /// Still being written (no end marker yet, or it changed while read): offer it again later.
    case incomplete
    /// Could not be read; a `failed` row records why.
    case failed(code: String, message: String)
}

/// Turns an arrived file into a catalog row: reads it once, hashes its bytes (the media's identity), reads its
/// EXIF and header, names its deployment, and registers it as pending.
public struct Intake: Sendable {
    public let catalog: Catalog
    public let settings: IntakeSettings

    /// Creates an intake.
    public init(catalog: Catalog, settings: IntakeSettings) {
        self.catalog = catalog
        self.settings = settings
    }

    /// Offers one file.
    /// - Parameters:
    ///   - path: The file.
    ///   - now: The current time, seconds since 1970.
    /// - Returns: What happened.
    /// - Throws: `CatalogError` when the catalog cannot be written (the file is then not lost: it stays on disk
    ///   and is found again by the next scan).
    public func take(_ path: String, now: Double) throws -> IntakeOutcome {
        var timings = IntakeTimings()
        return try take(path, now: now, timings: &timings)
    }

    /// Offers one file, and says how long each step took.
    /// - Parameters:
    ///   - path: The file.
    ///   - now: The current time, seconds since 1970.
    ///   - timings: Set to the seconds spent reading, hashing and registering the file (zero for a step not taken).
    /// - Returns: What happened.
    /// - Throws: `CatalogError` when the catalog cannot be written.
    public func take(_ path: String, now: Double, timings: inout IntakeTimings) throws -> IntakeOutcome {
        timings = IntakeTimings()
        let name = String(path.split(separator: "/").last ?? "")
        var clock = StepClock()
        if let info = FolderScan.stat(path), try catalog.isKnown(path: path, size: info.size, modified: info.modified) {
            return .alreadyKnown
        }
        let bytes: [UInt8]
        do {
            bytes = try ImageFile.read(FilePath(path), maxBytes: settings.maxFileBytes)
        } catch let error as ImagingError {
            if (error.code == .fileChanged || error.code == .empty), !settled(path, now: now) { return .incomplete }
            try catalog.recordUnreadable(
                path: path, fileName: name, deploymentID: deployment(of: path), code: error.code.description,
                message: error.message
            )
            return .failed(code: error.code.description, message: error.message)
        }
        if !JPEGEnd.isPresent(in: bytes), !settled(path, now: now) { return .incomplete }
        timings.read = clock.lap()
        let mediaID = SHA256.hex(bytes)
        timings.hash = clock.lap()
        let arrival = makeArrival(path: path, name: name, bytes: bytes, mediaID: mediaID)
        let registration = try catalog.register(arrival)
        timings.register = clock.lap()
        return .registered(mediaID: arrival.mediaID, registration)
    }

    private func settled(_ path: String, now: Double) -> Bool {
        guard let info = FolderScan.stat(path) else { return true }
        return now - info.modified >= settings.settleSeconds
    }

    func makeArrival(path: String, name: String, bytes: [UInt8], mediaID: String) -> MediaArrival {
        let exif = EXIFParser.parse(jpeg: bytes)
        let layout = try? JPEGDecoder().layout(of: bytes)
        let info = FolderScan.stat(path)
        let (time, source) = Self.captureTime(exif, modified: info?.modified ?? 0)
        return MediaArrival(
            mediaID: mediaID, deploymentID: deployment(of: path), filePath: path, fileName: name,
            fileSize: bytes.count, fileModified: info?.modified ?? 0, timestamp: time, timestampSource: source,
            width: layout?.width, height: layout?.height, cameraMake: exif.make, cameraModel: exif.model,
            cameraSerial: exif.serialNumber
        )
    }

    /// EXIF's capture time (the camera's local time unless it recorded an offset), else the file's modification time.
    static func captureTime(_ exif: EXIFData, modified: Double) -> (CatalogTime, String) {
        guard let t = exif.captureTime else {
            return (CatalogTime(date: .init(timeIntervalSince1970: modified)), "file")
        }
        let key = CatalogTime.key(
            year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second,
            nanosecond: t.nanosecond, offsetSeconds: t.utcOffsetSeconds ?? 0
        )
        return (CatalogTime(iso8601: t.iso8601, hasOffset: t.hasOffset, key: key), "exif")
    }

    /// The deployment a file belongs to: its first `deploymentDepth` folders under the root.
    public func deployment(of path: String) -> String {
        let root = settings.root.hasSuffix("/") ? String(settings.root.dropLast()) : settings.root
        let rootName = String(root.split(separator: "/").last ?? "root")
        guard settings.deploymentDepth > 0, path.hasPrefix(root + "/") else { return rootName }
        let folders = path.dropFirst(root.count + 1).split(separator: "/").dropLast()
        guard folders.count >= settings.deploymentDepth else { return rootName }
        return folders.prefix(settings.deploymentDepth).joined(separator: "/")
    }
}

/// Whether JPEG data ends with its End Of Image marker (allowing a little padding some cameras append).
enum JPEGEnd {
    static func isPresent(in bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        let start = max(1, bytes.count - 4096)
        for index in stride(from: bytes.count - 1, through: start, by: -1)
        where bytes[index] == 0xD9 && bytes[index - 1] == 0xFF {
            return true
        }
        return false
    }
}

/// Seconds the intake spent on one file, by step: the head's own work on an arrival before it is batched.
public struct IntakeTimings: Sendable, Equatable {
    /// Reading the file (stat, open, read, the end-marker check).
    public var read = 0.0
    /// SHA-256 of its bytes.
    public var hash = 0.0
    /// EXIF and header, and the catalog's insert.
    public var register = 0.0

    public init() {}

    /// The steps as `BatchResult.nodeTimings` entries.
    public var nodeTimings: [String: Double] { ["head.read": read, "head.hash": hash, "head.register": register] }
}

/// A file that has arrived and been read: what the catalog records before it is labelled.
public struct MediaArrival: Sendable, Equatable {
    /// SHA-256 of the file's bytes: the media's identity.
    public var mediaID: String
    public var deploymentID: String
    public var filePath: String
    public var fileName: String
    public var fileSize: Int
    public var fileModified: Double
    public var timestamp: CatalogTime
    public var timestampSource: String
    public var width: Int?
    public var height: Int?
    public var cameraMake: String?
    public var cameraModel: String?
    public var cameraSerial: String?

    /// Creates an arrival record.
    public init(
        mediaID: String, deploymentID: String, filePath: String, fileName: String, fileSize: Int, fileModified: Double,
        timestamp: CatalogTime, timestampSource: String, width: Int? = nil, height: Int? = nil,
        cameraMake: String? = nil,
        cameraModel: String? = nil, cameraSerial: String? = nil
    ) {
        self.mediaID = mediaID
        self.deploymentID = deploymentID
        self.filePath = filePath
        self.fileName = fileName
        self.fileSize = fileSize
        self.fileModified = fileModified
        self.timestamp = timestamp
        self.timestampSource = timestampSource
        self.width = width
        self.height = height
        self.cameraMake = cameraMake
        self.cameraModel = cameraModel
        self.cameraSerial = cameraSerial
    }
}

/// What registering an arrival did.
public enum Registration: Sendable, Equatable {
    /// A new media row, pending.
    case new
    /// The same bytes were already catalogued under another path: the row now points at this one.
    case moved(from: String)
    /// The same bytes at the same path: nothing to do.
    case known
}

/// A pending media row, to be batched.
public struct PendingMedia: Sendable, Equatable {
    public var mediaID: String
    public var filePath: String
    public var deploymentID: String
    /// When the file arrived (seconds since 1970): the start of its batch's deadline.
    public var arrivedAt: Double
    /// The burst it was shot in, as the catalog knew it when its batch formed: file paths in capture order,
    /// its own included (`Catalog.bursts`); empty when not looked up.
    public var burst: [String] = []
    /// Whether the media is already labelled and is labelled again because its burst grew (`Catalog.relabelCandidates`).
    public var relabel = false
    /// Seconds the head spent on the file before it was batched, by step (`head.read`, `head.hash`,
    /// `head.register`); empty when it was not read in this process (pending from an earlier run).
    public var headSeconds: [String: Double] = [:]

    /// Creates a pending item.
    public init(mediaID: String, filePath: String, deploymentID: String, arrivedAt: Double) {
        self.mediaID = mediaID
        self.filePath = filePath
        self.deploymentID = deploymentID
        self.arrivedAt = arrivedAt
    }
}

extension Catalog {
    /// Whether a file at `path` with this size and modification time is already catalogued, so it need not be
    /// read and hashed again (rescans and restarts see every file).
    public func isKnown(path: String, size: Int, modified: Double) throws -> Bool {
        try read("known file") { db in
            try Bool.fetchOne(
                db,
                sql: "SELECT EXISTS(SELECT 1 FROM media WHERE filePath = ? AND fileSize = ? AND fileModified = ?)",
                arguments: [path, size, modified]
            ) ?? false
        }
    }

    /// Records an arrival: a new pending row, or, for bytes already catalogued, the new path of the same media.
    /// - Parameter arrival: What was read of the file.
    /// - Returns: What happened.
    /// - Throws: `CatalogError`.
    public func register(_ arrival: MediaArrival) throws -> Registration {
        try write("register \(arrival.filePath)") { db in
            try ensureDeployment(db, arrival.deploymentID, folder: arrival.deploymentID)
            // A row for this path that failed before it could be read is replaced by the real one.
            try db.execute(
                sql: "DELETE FROM media WHERE filePath = ? AND mediaID LIKE 'path:%' AND mediaID != ?",
                arguments: [arrival.filePath, arrival.mediaID]
            )
            if let existing = try String.fetchOne(
                db, sql: "SELECT filePath FROM media WHERE mediaID = ?", arguments: [arrival.mediaID])
            {
                try db.execute(
                    sql:
                        "UPDATE media SET filePath = ?, fileName = ?, fileSize = ?, fileModified = ? WHERE mediaID = ?",
                    arguments: [
                        arrival.filePath, arrival.fileName, arrival.fileSize, arrival.fileModified, arrival.mediaID,
                    ]
                )
                // A media that failed only because its file could not be read is retried at its new path.
                try db.execute(
                    sql: """
                        UPDATE media SET status = 'pending', errorCode = NULL, error = NULL
                        WHERE mediaID = ? AND status = 'failed'
                          AND errorCode IN ('not-found', 'permission-denied', 'file-changed', 'read-failed')
                        """,
                    arguments: [arrival.mediaID]
                )
                return existing == arrival.filePath ? .known : .moved(from: existing)
            }
            try insert(db, arrival, status: "pending", code: nil, error: nil)
            return .new
        }
    }

    /// Records a file that could not even be read (no permission, vanished): a `failed` row keyed by its path,
    /// replaced by the real media if the file becomes readable later.
    public func recordUnreadable(path: String, fileName: String, deploymentID: String, code: String, message: String)
        throws
    {
        try write("record unreadable \(path)") { db in
            try ensureDeployment(db, deploymentID, folder: deploymentID)
            let now = Catalog.now()
            let arrival = MediaArrival(
                mediaID: "path:" + SHA256.hex(Array(path.utf8)), deploymentID: deploymentID, filePath: path,
                fileName: fileName,
                fileSize: 0, fileModified: 0,
                timestamp: CatalogTime(iso8601: Catalog.iso(now), hasOffset: true, key: now),
                timestampSource: "arrival"
            )
            try db.execute(sql: "DELETE FROM media WHERE mediaID = ?", arguments: [arrival.mediaID])
            try insert(db, arrival, status: "failed", code: code, error: message)
        }
    }

    private func insert(_ db: Database, _ a: MediaArrival, status: String, code: String?, error: String?) throws {
        let now = Catalog.now()
        try db.execute(
            sql: """
                INSERT INTO media (mediaID, deploymentID, timestamp, timestampHasOffset, timestampSource, timeKey,
                    filePath, fileName, fileSize, fileModified, width, height, cameraMake, cameraModel, cameraSerial,
                    status, errorCode, error, arrived, arrivedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                a.mediaID, a.deploymentID, a.timestamp.iso8601, a.timestamp.hasOffset, a.timestampSource,
                a.timestamp.key,
                a.filePath, a.fileName, a.fileSize, a.fileModified, a.width, a.height, a.cameraMake, a.cameraModel,
                a.cameraSerial, status, code, error, Catalog.iso(now), now,
            ]
        )
        if a.cameraModel != nil || a.cameraSerial != nil {
            try db.execute(
                sql:
                    "UPDATE deployments SET cameraModel = COALESCE(cameraModel, ?), cameraID = COALESCE(cameraID, ?) WHERE deploymentID = ?",
                arguments: [
                    [a.cameraMake, a.cameraModel].compactMap { $0 }.joined(separator: " "), a.cameraSerial,
                    a.deploymentID,
                ]
            )
        }
    }

    func ensureDeployment(_ db: Database, _ id: String, folder: String) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO deployments (deploymentID, locationName, folder) VALUES (?, ?, ?)",
            arguments: [id, id, folder]
        )
    }

    /// The media row if it is pending.
    public func pendingItem(_ mediaID: String) throws -> PendingMedia? {
        try read("pending item") { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.pendingColumns) FROM media WHERE mediaID = ? AND status = 'pending'",
                arguments: [mediaID]
            ).map(Self.pendingMedia)
        }
    }

    /// Pending media, oldest arrival first: what a restart batches again.
    public func pending(limit: Int = 10_000) throws -> [PendingMedia] {
        try read("pending media") { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.pendingColumns) FROM media WHERE status = 'pending' ORDER BY arrivedAt LIMIT ?",
                arguments: [limit]
            ).map(Self.pendingMedia)
        }
    }

    private static let pendingColumns = "mediaID, filePath, deploymentID, arrivedAt"

    private static func pendingMedia(_ row: Row) throws -> PendingMedia {
        try PendingMedia(
            mediaID: row["mediaID"], filePath: row["filePath"], deploymentID: row["deploymentID"],
            arrivedAt: row["arrivedAt"])
    }
}

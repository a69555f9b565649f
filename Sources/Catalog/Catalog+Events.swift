extension Catalog {
    /// Groups a deployment's images into events: consecutive images (by capture time) less than `gapSeconds`
    /// apart share an event, named after the deployment and the event's first image. Observations take their
    /// media's event and its start and end.
    func assignEvents(_ db: Database, deploymentID: String, gapSeconds: Double) throws {
        let rows = try Row.fetchAll(
            db,
            sql:
                "SELECT mediaID, timeKey, timestamp, eventID FROM media WHERE deploymentID = ? AND mediaID NOT LIKE 'path:%' ORDER BY timeKey, mediaID",
            arguments: [deploymentID]
        )
        var start = 0
        while start < rows.count {
            var end = start
            while end + 1 < rows.count,
                try (rows[end + 1]["timeKey"] as Double) - (rows[end]["timeKey"] as Double) < gapSeconds
            {
                end += 1
            }
            let group = rows[start...end]
            let first: String = try rows[start]["timestamp"]
            let last: String = try rows[end]["timestamp"]
            let eventID = "\(deploymentID)/\(first)"
            for row in group where try (row["eventID"] as String?) != eventID {
                try db.execute(
                    sql: "UPDATE media SET eventID = ? WHERE mediaID = ?",
                    arguments: [eventID, try row["mediaID"] as String])
            }
            try db.execute(
                sql: """
                    UPDATE observations SET eventID = ?, eventStart = ?, eventEnd = ?
                    WHERE mediaID IN (SELECT mediaID FROM media WHERE eventID = ?)
                      AND (eventID IS NOT ? OR eventStart IS NOT ? OR eventEnd IS NOT ?)
                    """,
                arguments: [eventID, first, last, eventID, eventID, first, last]
            )
            start = end + 1
        }
    }
}

extension Catalog {
    /// The burst each item was shot in, as far as the catalog knows it now: the files of its deployment's media
    /// whose capture times chain to the item's with gaps under `gapSeconds` (as events do), in capture order, at
    /// most `limit` on each side of the item, failed media left out. An item without a capture time, or with
    /// `gapSeconds` 0, is a burst of its own.
    /// - Parameters:
    ///   - items: The batch's media.
    ///   - gapSeconds: `events.gapSeconds`.
    ///   - limit: The most frames looked at on each side.
    /// - Returns: Each item's burst, by media ID.
    /// - Throws: `CatalogError`.
    public func bursts(for items: [PendingMedia], gapSeconds: Double, limit: Int) throws -> [String: [String]] {
        try read("bursts") { db in
            var bursts: [String: [String]] = [:]
            for item in items {
                bursts[item.mediaID] = [item.filePath]
                guard gapSeconds > 0, !item.mediaID.hasPrefix("path:"),
                    let time = try Double.fetchOne(
                        db, sql: "SELECT timeKey FROM media WHERE mediaID = ?", arguments: [item.mediaID])
                else { continue }
                let span = gapSeconds * Double(limit)
                // The chain runs through failed media, as events do (`assignEvents`); their files are left out.
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT mediaID, filePath, timeKey, status FROM media
                        WHERE deploymentID = ? AND timeKey BETWEEN ? AND ? AND mediaID NOT LIKE 'path:%'
                        ORDER BY timeKey, mediaID
                        """,
                    arguments: [item.deploymentID, time - span, time + span])
                guard let own = try rows.firstIndex(where: { try ($0["mediaID"] as String) == item.mediaID }) else {
                    continue
                }
                var first = own
                while first > 0, own - first < limit,
                    try (rows[first]["timeKey"] as Double) - (rows[first - 1]["timeKey"] as Double) < gapSeconds
                {
                    first -= 1
                }
                var last = own
                while last + 1 < rows.count, last - own < limit,
                    try (rows[last + 1]["timeKey"] as Double) - (rows[last]["timeKey"] as Double) < gapSeconds
                {
                    last += 1
                }
                bursts[item.mediaID] = try rows[first...last].filter { try ($0["status"] as String) != "failed" }.map {
                    try $0["filePath"] as String
                }
            }
            return bursts
        }
    }
}

extension Catalog {
    /// Labelled frames to label again because their event has closed with more frames than were known when
    /// they were labelled (a live burst arrives frame by frame): every frame of events of at least three frames
    /// that have no pending media and have had no new media for `quietSeconds`. Each frame comes back once per
    /// growth of its event, as a pending item arriving `now` (so its deadline runs from now).
    /// - Parameters:
    ///   - quietSeconds: How long an event must have been without new media.
    ///   - now: The current time (seconds since 1970).
    ///   - limit: The most frames returned.
    /// - Returns: The frames, in capture order, marked `relabel`.
    /// - Throws: `CatalogError`.
    /// Every labelled frame captured at or after a time, to be labelled again with the current labeller
    /// (`trapline relabel`: after learning a new site head, say), in capture order and marked `relabel`.
    /// - Parameters:
    ///   - timeKey: The capture time (the catalog's `timeKey`: seconds since 1970 of the clock time).
    ///   - now: When they count as arriving.
    /// - Returns: The frames.
    /// - Throws: `CatalogError`.
    public func labelled(since timeKey: Double, now: Double) throws -> [PendingMedia] {
        try read("labelled media") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT mediaID, filePath, deploymentID FROM media
                    WHERE status = 'labeled' AND timeKey >= ? ORDER BY deploymentID, timeKey
                    """,
                arguments: [timeKey]
            ).map { try Self.relabelItem($0, now: now) }
        }
    }

    public func relabelCandidates(quietSeconds: Double, now: Double, limit: Int) throws -> [PendingMedia] {
        try read("relabel candidates") { db in
            try Row.fetchAll(
                db,
                sql: """
                    WITH events AS (
                        SELECT eventID, COUNT(*) AS frames, MAX(arrivedAt) AS lastArrival,
                               SUM(status = 'pending') AS pending
                        FROM media WHERE eventID IS NOT NULL AND status != 'failed' GROUP BY eventID)
                    SELECT m.mediaID, m.filePath, m.deploymentID
                    FROM media m JOIN observations o ON o.mediaID = m.mediaID JOIN events e ON e.eventID = m.eventID
                    WHERE m.status = 'labeled' AND e.frames >= 3 AND e.pending = 0 AND e.lastArrival < ?
                      AND o.contextFrames < MIN(e.frames, 1001)
                    ORDER BY m.deploymentID, m.timeKey LIMIT ?
                    """,
                arguments: [now - quietSeconds, limit]
            ).map { try Self.relabelItem($0, now: now) }
        }
    }

    /// A labelled media row (`mediaID`, `filePath`, `deploymentID`) as a frame to label again, arriving `now`.
    private static func relabelItem(_ row: Row, now: Double) throws -> PendingMedia {
        var item = try PendingMedia(
            mediaID: row["mediaID"], filePath: row["filePath"], deploymentID: row["deploymentID"], arrivedAt: now)
        item.relabel = true
        return item
    }
}

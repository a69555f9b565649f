import GRDB

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
                (rows[end + 1]["timeKey"] as Double) - (rows[end]["timeKey"] as Double) < gapSeconds
            {
                end += 1
            }
            let group = rows[start...end]
            let first: String = rows[start]["timestamp"]
            let last: String = rows[end]["timestamp"]
            let eventID = "\(deploymentID)/\(first)"
            for row in group where (row["eventID"] as String?) != eventID {
                try db.execute(
                    sql: "UPDATE media SET eventID = ? WHERE mediaID = ?",
                    arguments: [eventID, row["mediaID"] as String])
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

import GRDB

extension Catalog {
    /// Records the model that labels images (once per model file content).
    public func registerModel(id: String, name: String, path: String, metadataJSON: String) throws {
        try write("register model") { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO models (modelID, name, path, firstUsed, metadata) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, name, path, Catalog.iso(Catalog.now()), metadataJSON]
            )
        }
    }

    /// Writes a finished batch in one transaction: the batch row, an observation per labelled image, the media
    /// rows' new status, failures, and the events of the deployments touched. A crash before it commits loses
    /// nothing (the media stay pending and are batched again); after it, nothing is labelled twice.
    /// - Parameters:
    ///   - result: The batch.
    ///   - eventGapSeconds: Images of one deployment closer than this form an event.
    /// - Returns: The new batch's ID.
    /// - Throws: `CatalogError`.
    @discardableResult
    public func commit(_ result: BatchResult, eventGapSeconds: Double) throws -> Int64 {
        try write("commit batch") { db in
            let batchID = try insertBatch(db, result)
            let levels = "[" + result.levels.map { "\($0)" }.joined(separator: ",") + "]"
            let now = Catalog.iso(result.completed)
            for label in result.labels {
                try insertObservation(db, label, batchID: batchID, levels: levels, result: result, at: now)
            }
            for failure in result.failures {
                try db.execute(
                    sql:
                        "UPDATE media SET status = 'failed', errorCode = ?, error = ?, batchID = ? WHERE mediaID = ? AND status = 'pending'",
                    arguments: [failure.code, failure.message, batchID, failure.mediaID]
                )
            }
            let media = result.labels.map(\.mediaID) + result.failures.map(\.mediaID)
            let deployments = try String.fetchSet(
                db, sql: "SELECT DISTINCT deploymentID FROM media WHERE mediaID IN (\(placeholders(media.count)))",
                arguments: StatementArguments(media)
            )
            for deployment in deployments.sorted() {
                try assignEvents(db, deploymentID: deployment, gapSeconds: eventGapSeconds)
            }
            return batchID
        }
    }

    private func insertBatch(_ db: Database, _ r: BatchResult) throws -> Int64 {
        try db.execute(
            sql: "INSERT OR IGNORE INTO models (modelID, name, path, firstUsed, metadata) VALUES (?, ?, '', ?, '{}')",
            arguments: [r.modelID, r.modelName, Catalog.iso(r.completed)]
        )
        let timings =
            "{" + r.nodeTimings.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
            + "}"
        try db.execute(
            sql: """
                INSERT INTO batches (size, firstArrival, deadline, completed, latencyMs, met, levels, nodeTimings, modelID)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                r.labels.count + r.failures.count, Catalog.iso(r.firstArrival), Catalog.iso(r.deadline),
                Catalog.iso(r.completed),
                (r.completed - r.firstArrival) * 1000, r.metDeadline,
                "[" + r.levels.map { "\($0)" }.joined(separator: ",") + "]",
                timings, r.modelID,
            ]
        )
        return db.lastInsertedRowID
    }

    private func insertObservation(
        _ db: Database, _ label: LabelRecord, batchID: Int64, levels: String, result: BatchResult, at: String
    ) throws {
        // Only a still-pending media gets an observation: a batch resent after a restart cannot label twice.
        try db.execute(
            sql:
                "UPDATE media SET status = 'labeled', errorCode = NULL, error = NULL, batchID = ? WHERE mediaID = ? AND status = 'pending'",
            arguments: [batchID, label.mediaID]
        )
        guard db.changesCount == 1 else { return }
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO observations (observationID, deploymentID, mediaID, observationType, scientificName,
                    taxonRank, vernacularName, classIndex, count, classifiedBy, classificationTimestamp,
                    classificationProbability, animalProbability, topClasses, modelID, pruneLevels, batchID)
                SELECT 'obs-' || mediaID, deploymentID, mediaID, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
                FROM media WHERE mediaID = ?
                """,
            arguments: [
                label.observationType, label.scientificName, label.taxonRank, label.vernacularName, label.classIndex,
                label.isBlank ? nil : 1, result.modelName, at, label.probability, label.animalProbability,
                label.topClassesJSON, result.modelID, levels, batchID, label.mediaID,
            ]
        )
    }

    func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: max(count, 1)).joined(separator: ",")
    }
}

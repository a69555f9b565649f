import FoundationEssentials

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
    ///   - eventLabeler: Makes each touched event's label from its frames; nil writes no event labels.
    @discardableResult
    public func commit(_ result: BatchResult, eventGapSeconds: Double, eventLabeler: EventLabeler? = nil) throws
        -> Int64
    {
        try write("commit batch") { db in
            let batchID = try insertBatch(db, result)
            let levels = "[" + result.levels.map { "\($0)" }.joined(separator: ",") + "]"
            let now = Catalog.iso(result.completed)
            for label in result.labels {
                try insertObservation(db, label, batchID: batchID, levels: levels, result: result, at: now)
            }
            for failure in result.failures {
                if let context = failure.relabelContext {
                    try db.execute(
                        sql: "UPDATE observations SET contextFrames = ? WHERE mediaID = ?",
                        arguments: [context, failure.mediaID])
                    continue
                }
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
            if let eventLabeler {
                try labelEvents(db, media: media, deployments: deployments, result: result, at: now, eventLabeler)
            }
            return batchID
        }
    }

    /// Adds a step's time to a recorded batch's `nodeTimings` (for a step that ends after the batch is written,
    /// such as its commit).
    /// - Parameters:
    ///   - step: The entry's name.
    ///   - seconds: Its time.
    ///   - batchID: The batch.
    /// - Throws: `CatalogError` when the catalog cannot be written.
    public func addTiming(_ step: String, seconds: Double, batchID: Int64) throws {
        try write("batch timing") { db in
            let text = try String.fetchOne(
                db, sql: "SELECT nodeTimings FROM batches WHERE batchID = ?", arguments: [batchID])
            guard let text else { return }
            var timings = (try? JSONDecoder().decode([String: Double].self, from: Data(text.utf8))) ?? [:]
            timings[step, default: 0] += seconds
            try db.execute(
                sql: "UPDATE batches SET nodeTimings = ? WHERE batchID = ?",
                arguments: [Self.timingsJSON(timings), batchID])
        }
    }

    /// `nodeTimings` as the catalog writes it: keys in order, `"key": value`.
    static func timingsJSON(_ timings: [String: Double]) -> String {
        "{" + timings.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
    }

    private func insertBatch(_ db: Database, _ r: BatchResult) throws -> Int64 {
        try db.execute(
            sql: "INSERT OR IGNORE INTO models (modelID, name, path, firstUsed, metadata) VALUES (?, ?, '', ?, '{}')",
            arguments: [r.modelID, r.modelName, Catalog.iso(r.completed)]
        )
        let timings = Self.timingsJSON(r.nodeTimings)
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
        if label.relabel {
            try replaceObservation(db, label, batchID: batchID, levels: levels, result: result, at: at)
            return
        }
        // Only a still-pending media gets an observation: a batch resent after a restart cannot label twice.
        try db.execute(
            sql:
                "UPDATE media SET status = 'labeled', errorCode = NULL, error = NULL, batchID = ? WHERE mediaID = ? AND status = 'pending'",
            arguments: [batchID, label.mediaID]
        )
        guard db.changesCount == 1 else { return }
        let columns = Self.labelColumns.joined(separator: ", ")
        let marks = Array(repeating: "?", count: Self.labelColumns.count).joined(separator: ", ")
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO observations (observationID, deploymentID, mediaID, \(columns))
                SELECT 'obs-' || mediaID, deploymentID, mediaID, \(marks) FROM media WHERE mediaID = ?
                """,
            arguments: Self.labelValues(label, batchID: batchID, levels: levels, result: result, at: at))
        try insertBoxes(db, label)
    }

    /// Replaces a labelled frame's observation (and boxes) with its new label; nothing for a frame that is not
    /// labelled (a relabel never labels a pending or failed media).
    private func replaceObservation(
        _ db: Database, _ label: LabelRecord, batchID: Int64, levels: String, result: BatchResult, at: String
    ) throws {
        let assignments = Self.labelColumns.map { "\($0) = ?" }.joined(separator: ", ")
        try db.execute(
            sql: """
                UPDATE observations SET \(assignments)
                WHERE mediaID = ? AND mediaID IN (SELECT mediaID FROM media WHERE status = 'labeled')
                """,
            arguments: Self.labelValues(label, batchID: batchID, levels: levels, result: result, at: at))
        guard db.changesCount == 1 else { return }
        try insertBoxes(db, label)
    }

    /// The observation columns a label writes, in the order of `labelValues`.
    private static let labelColumns = [
        "observationType", "scientificName", "taxonRank", "vernacularName", "classIndex", "count", "classifiedBy",
        "classificationTimestamp", "classificationProbability", "animalProbability", "topClasses", "modelID",
        "pruneLevels", "batchID", "bboxX", "bboxY", "bboxWidth", "bboxHeight", "burstFrames", "contextFrames",
        "classScores",
    ]

    /// A label's values for `labelColumns`, then its media ID.
    private static func labelValues(
        _ label: LabelRecord, batchID: Int64, levels: String, result: BatchResult, at: String
    ) -> StatementArguments {
        [
            label.observationType, label.scientificName, label.taxonRank, label.vernacularName, label.classIndex,
            label.isBlank ? nil : 1, label.classifiedBy ?? result.modelName, at, label.probability,
            label.animalProbability,
            label.topClassesJSON, result.modelID, levels, batchID, label.box?.x, label.box?.y, label.box?.width,
            label.box?.height, label.burstFrames, label.contextFrames, label.classScores, label.mediaID,
        ]
    }

    private func insertBoxes(_ db: Database, _ label: LabelRecord) throws {
        try db.execute(sql: "DELETE FROM boxes WHERE mediaID = ?", arguments: [label.mediaID])
        for (index, box) in label.boxes.enumerated() {
            try db.execute(
                sql: """
                    INSERT INTO boxes (mediaID, boxIndex, bboxX, bboxY, bboxWidth, bboxHeight, motionScore)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [label.mediaID, index, box.x, box.y, box.width, box.height, box.score])
        }
    }

    /// Writes the label of every event the batch's media belong to, from all of the event's labelled frames,
    /// and drops the labels of events that no longer exist (two events merge when a frame between them arrives).
    private func labelEvents(
        _ db: Database, media: [String], deployments: Set<String>, result: BatchResult, at: String,
        _ eventLabeler: EventLabeler
    ) throws {
        let events = try String.fetchSet(
            db,
            sql:
                "SELECT DISTINCT eventID FROM media WHERE eventID IS NOT NULL AND mediaID IN (\(placeholders(media.count)))",
            arguments: StatementArguments(media))
        try db.execute(
            sql: """
                DELETE FROM event_observations WHERE deploymentID IN (\(placeholders(deployments.count)))
                  AND eventID NOT IN (SELECT eventID FROM media WHERE eventID IS NOT NULL)
                """,
            arguments: StatementArguments(Array(deployments)))
        for event in events.sorted() {
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.observationType, o.classScores, o.scientificName
                    FROM observations o JOIN media m ON m.mediaID = o.mediaID
                    WHERE m.eventID = ? ORDER BY m.timeKey
                    """,
                arguments: [event])
            let frames = try rows.map {
                try EventFrame(
                    observationType: $0["observationType"], classScores: $0["classScores"],
                    scientificName: $0["scientificName"])
            }
            guard !frames.isEmpty, let label = eventLabeler(frames) else { continue }
            let span = try Row.fetchOne(
                db,
                sql:
                    "SELECT MIN(timestamp) AS first, MAX(timestamp) AS last, deploymentID FROM media WHERE eventID = ?",
                arguments: [event])
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO event_observations (observationID, eventID, deploymentID, eventStart, eventEnd,
                        observationType, scientificName, taxonRank, vernacularName, classIndex, classifiedBy,
                        classificationTimestamp, classificationProbability, animalProbability, frames, animalFrames,
                        topClasses, modelID)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    "event-" + event, event, span?["deploymentID"] as String?, span?["first"] as String?,
                    span?["last"] as String?, label.observationType, label.scientificName, label.taxonRank,
                    label.vernacularName, label.classIndex, label.classifiedBy ?? result.modelName, at,
                    label.probability,
                    label.animalProbability, frames.count, frames.filter { $0.observationType == "animal" }.count,
                    label.topClassesJSON, result.modelID,
                ])
        }
    }

    func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: max(count, 1)).joined(separator: ",")
    }
}

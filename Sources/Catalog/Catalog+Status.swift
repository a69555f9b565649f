/// What the status page shows of the catalog, read in one transaction.
public struct StatusSnapshot: Sendable {
    public struct Observation: Sendable {
        public var mediaID: String
        public var timestamp: String
        public var deploymentID: String
        public var fileName: String
        public var observationType: String
        public var scientificName: String?
        public var taxonRank: String?
        public var vernacularName: String?
        public var probability: Double
        /// The box whose crop named the frame (x, y, width, height relative to the frame), when one did.
        public var box: [Double]? = nil
    }

    public struct SpeciesCount: Sendable {
        public var name: String
        public var images: Int
    }

    public struct Failure: Sendable {
        public var fileName: String
        public var code: String
        public var error: String
        public var arrived: String
    }

    /// One time bin of batches: how many met their deadline and their latencies.
    public struct SLOBin: Sendable {
        public var start: Double
        public var batches: Int
        public var met: Int
        public var meanLatencyMs: Double
        public var maxLatencyMs: Double
    }

    public struct ControllerEvent: Sendable {
        public var at: String
        public var kind: String
        public var node: String?
        public var levels: String?
        public var reason: String
    }

    public var pending = 0
    public var labeled = 0
    public var failed = 0
    public var latest: [Observation] = []
    public var speciesToday: [SpeciesCount] = []
    public var speciesByDeployment: [String: [SpeciesCount]] = [:]
    public var failures: [Failure] = []
    public var slo: [SLOBin] = []
    public var controller: [ControllerEvent] = []
}

extension Catalog {
    /// The status page's view of the catalog.
    /// - Parameters:
    ///   - now: Seconds since 1970 (UTC).
    ///   - hours: How far back the deadline chart reaches.
    ///   - binSeconds: The chart's bin width.
    ///   - latest: How many labelled images to list.
    public func statusSnapshot(now: Double, hours: Double = 6, binSeconds: Double = 600, latest: Int = 12) throws
        -> StatusSnapshot
    {
        try read("status page") { db in
            var s = StatusSnapshot()
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM media GROUP BY status") {
                let n: Int = try row["n"]
                switch try row["status"] as String {
                case "pending": s.pending = n
                case "labeled": s.labeled = n
                default: s.failed = n
                }
            }
            s.latest = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.mediaID, m.timestamp, o.deploymentID, m.fileName, o.observationType, o.scientificName,
                           o.taxonRank, o.vernacularName, o.classificationProbability, o.bboxX, o.bboxY, o.bboxWidth,
                           o.bboxHeight
                    FROM observations o JOIN media m ON m.mediaID = o.mediaID
                    ORDER BY o.classificationTimestamp DESC, m.timeKey DESC LIMIT ?
                    """, arguments: [latest]
            ).map { row in
                let box = try ["bboxX", "bboxY", "bboxWidth", "bboxHeight"].compactMap { try row[$0] as Double? }
                return try StatusSnapshot.Observation(
                    mediaID: row["mediaID"], timestamp: row["timestamp"], deploymentID: row["deploymentID"],
                    fileName: row["fileName"], observationType: row["observationType"],
                    scientificName: row["scientificName"], taxonRank: row["taxonRank"],
                    vernacularName: row["vernacularName"], probability: row["classificationProbability"],
                    box: box.count == 4 ? box : nil)
            }
            let today = String(Catalog.iso(now).prefix(10))
            s.speciesToday = try Row.fetchAll(
                db,
                sql: """
                    SELECT scientificName, taxonRank, vernacularName, COUNT(*) AS images FROM observations
                    WHERE observationType = 'animal' AND substr(classificationTimestamp, 1, 10) = ?
                    GROUP BY scientificName, taxonRank, vernacularName ORDER BY images DESC LIMIT 20
                    """, arguments: [today]
            ).map { try StatusSnapshot.SpeciesCount(name: Self.taxonDescription($0), images: $0["images"]) }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT deploymentID, scientificName, taxonRank, vernacularName, images FROM species_counts
                    ORDER BY deploymentID, images DESC
                    """)
            {
                let deployment: String = try row["deploymentID"]
                if s.speciesByDeployment[deployment, default: []].count < 10 {
                    try s.speciesByDeployment[deployment, default: []].append(
                        StatusSnapshot.SpeciesCount(name: Self.taxonDescription(row), images: row["images"]))
                }
            }
            s.failures = try Row.fetchAll(
                db,
                sql: """
                    SELECT fileName, COALESCE(errorCode, '') AS code, COALESCE(error, '') AS error, arrived FROM media
                    WHERE status = 'failed' ORDER BY arrivedAt DESC LIMIT 10
                    """
            ).map {
                try StatusSnapshot.Failure(
                    fileName: $0["fileName"], code: $0["code"], error: $0["error"], arrived: $0["arrived"])
            }
            let since = now - hours * 3600
            let bins = try Row.fetchAll(
                db,
                sql: """
                    SELECT CAST((julianday(completed) - 2440587.5) * 86400.0 / ? AS INTEGER) AS bin,
                           COUNT(*) AS n, SUM(met) AS met, AVG(latencyMs) AS mean, MAX(latencyMs) AS max
                    FROM batches WHERE completed >= ? GROUP BY bin ORDER BY bin
                    """, arguments: [binSeconds, Catalog.iso(since)])
            s.slo = try bins.map {
                try StatusSnapshot.SLOBin(
                    start: Double($0["bin"] as Int) * binSeconds, batches: $0["n"], met: $0["met"],
                    meanLatencyMs: $0["mean"], maxLatencyMs: $0["max"])
            }
            s.controller = try Row.fetchAll(
                db, sql: "SELECT at, kind, node, levels, reason FROM controller_events ORDER BY eventID DESC LIMIT 8"
            ).map {
                try StatusSnapshot.ControllerEvent(
                    at: $0["at"], kind: $0["kind"], node: $0["node"], levels: $0["levels"], reason: $0["reason"])
            }
            return s
        }
    }

    /// The number of the latest controller decision (0 when there is none): decisions are numbered in order.
    public func lastControllerEventID() throws -> Int {
        try read("controller events") { db in
            try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(eventID), 0) FROM controller_events") ?? 0
        }
    }

    /// Which of these media IDs the catalog still holds.
    public func existingMedia(_ ids: [String]) throws -> Set<String> {
        try read("media lookup") { db in
            var found = Set<String>()
            for chunk in stride(from: 0, to: ids.count, by: 500) {
                let part = Array(ids[chunk..<min(chunk + 500, ids.count)])
                let rows = try String.fetchAll(
                    db, sql: "SELECT mediaID FROM media WHERE mediaID IN (\(placeholders(part.count)))",
                    arguments: StatementArguments(part))
                found.formUnion(rows)
            }
            return found
        }
    }
}

/// What `trapline status` shows: images by status, the commonest species, deadline attainment.
public struct CatalogSummary: Sendable {
    public var pending: Int
    public var labeled: Int
    public var failed: Int
    public var blank: Int
    public var species: [(name: String, images: Int)]
    public var batches: Int
    public var batchesMet: Int
    public var meanLatencyMs: Double?
    public var lastBatch: String?
    public var recentFailures: [(path: String, error: String)]
}

extension Catalog {
    /// Summarises the catalog.
    /// - Parameter topSpecies: How many species to list.
    public func summary(topSpecies: Int = 10) throws -> CatalogSummary {
        try read("summary") { db in
            let counts = try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM media GROUP BY status")
            func count(_ status: String) throws -> Int {
                try counts.first { try ($0["status"] as String) == status }?["n"] ?? 0
            }
            let species = try Row.fetchAll(
                db,
                sql: """
                    SELECT scientificName, taxonRank, vernacularName, SUM(images) AS n FROM species_counts
                    GROUP BY scientificName, taxonRank, vernacularName ORDER BY n DESC LIMIT ?
                    """,
                arguments: [topSpecies]
            ).map { try (name: Self.taxonDescription($0), images: $0["n"] as Int) }
            let slo = try Row.fetchOne(
                db,
                sql:
                    "SELECT COUNT(*) AS n, COALESCE(SUM(met), 0) AS met, AVG(latencyMs) AS latency, MAX(completed) AS last FROM batches"
            )
            let failures = try Row.fetchAll(
                db, sql: "SELECT filePath, error FROM media WHERE status = 'failed' ORDER BY arrivedAt DESC LIMIT 5"
            ).map { try (path: $0["filePath"] as String, error: ($0["error"] as String?) ?? "") }
            return try CatalogSummary(
                pending: count("pending"), labeled: count("labeled"), failed: count("failed"),
                blank: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM observations WHERE observationType = 'blank'")
                    ?? 0,
                species: species, batches: slo?["n"] ?? 0, batchesMet: slo?["met"] ?? 0, meanLatencyMs: slo?["latency"],
                lastBatch: slo?["last"], recentFailures: failures
            )
        }
    }
}

extension Catalog {
    /// `Vulpes vulpes (species, red fox)`, `Canidae (family)`, or the vernacular name alone (rows written before
    /// labels had scientific names).
    static func taxonDescription(_ row: Row) throws -> String {
        let scientific: String? = try row["scientificName"]
        let rank: String? = try row["taxonRank"]
        let vernacular: String? = try row["vernacularName"]
        guard let scientific, !scientific.isEmpty else { return vernacular ?? "unnamed" }
        let details = [rank, vernacular].compactMap { $0 }.filter { !$0.isEmpty }
        return details.isEmpty ? scientific : "\(scientific) (\(details.joined(separator: ", ")))"
    }
}

import FoundationEssentials

/// One recorded batch's size and step timings (`batches.nodeTimings`).
public struct BatchTimingRecord: Sendable, Equatable {
    public var batchID: Int64
    public var size: Int
    public var latencyMs: Double
    public var met: Bool
    /// Seconds by step (counts such as `burst.crops` and `attempts` too).
    public var timings: [String: Double]

    public init(batchID: Int64, size: Int, latencyMs: Double, met: Bool, timings: [String: Double]) {
        self.batchID = batchID
        self.size = size
        self.latencyMs = latencyMs
        self.met = met
        self.timings = timings
    }
}

extension Catalog {
    /// The step timings of recorded batches, oldest first.
    /// - Parameters:
    ///   - since: Only batches completed at or after this time (seconds since 1970).
    ///   - last: Only the newest this many.
    /// - Returns: The batches; a row whose timings cannot be read has none.
    /// - Throws: `CatalogError` when the catalog cannot be read.
    public func batchTimings(since: Double? = nil, last: Int? = nil) throws -> [BatchTimingRecord] {
        let rows = try read("batch timings") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT batchID, size, latencyMs, met, nodeTimings FROM batches
                    WHERE completed >= ? ORDER BY batchID DESC LIMIT ?
                    """,
                arguments: [since.map(Catalog.iso) ?? "", last ?? -1]
            ).map { row in
                (
                    id: try row["batchID"] as Int64, size: try row["size"] as Int,
                    latency: try row["latencyMs"] as Double,
                    met: try row["met"] as Bool, text: try row["nodeTimings"] as String
                )
            }
        }
        return rows.reversed().map { row in
            let timings = (try? JSONDecoder().decode([String: Double].self, from: Data(row.text.utf8))) ?? [:]
            return BatchTimingRecord(
                batchID: row.id, size: row.size, latencyMs: row.latency, met: row.met, timings: timings)
        }
    }
}

/// Where batches' time went on the head, step by step, and on each ring node (`trapline timings`).
public struct TimingSummary: Sendable, Equatable {
    /// One step: its total, and its cost per image over the batches that recorded it.
    public struct Step: Sendable, Equatable {
        public var key: String
        public var name: String
        /// Whether the head spends its own CPU on it (false: it waits, or another node works).
        public var work: Bool
        public var batches: Int
        public var images: Int
        public var totalSeconds: Double
        /// Total over every batch's images (a batch that did not record it spent nothing on it), in
        /// milliseconds.
        public var msPerImage: Double
        /// Per-batch milliseconds per image: median and 95th percentile.
        public var p50: Double
        public var p95: Double
    }

    public var batches: Int
    public var images: Int
    public var meanLatencyMs: Double
    public var met: Int
    /// Batches whose images a worker prepared.
    public var offloaded: Int
    /// The head's steps in the order a batch takes them.
    public var head: [Step]
    /// Every ring node's hop steps (`n1.compute`, ...), by node and then step; the head's own hop is also in
    /// `head.slice` and `head.codec`.
    public var nodes: [Step]

    /// The head's own work per image (the `work` steps), in milliseconds.
    public var headWorkMsPerImage: Double { head.filter(\.work).map(\.msPerImage).reduce(0, +) }

    /// The head's steps: key, name, and whether it is the head's own work. `head.ring` includes `head.slice` and
    /// `head.codec`; the summary shows what is left of it as the wait for the other nodes.
    static let headSteps: [(key: String, name: String, work: Bool)] = [
        ("head.read", "read the file", true),
        ("head.hash", "SHA-256", true),
        ("head.register", "EXIF, header, catalog insert", true),
        ("head.prepareWait", "wait for the decoder", false),
        ("head.offloadRead", "read files for a worker", true),
        ("head.offload", "wait for a worker to prepare", false),
        ("jpeg.decode", "decode", true),
        ("burst.grayDecode", "grey decode (bursts)", true),
        ("burst.localise", "localise", true),
        ("burst.cropDecode", "crop decode", true),
        ("head.normalise", "normalise", true),
        ("head.slice", "the head's units", true),
        ("head.codec", "encode and decode activations", true),
        ("head.ringWait", "wait for the other nodes", false),
        ("head.control", "controller", true),
        ("local", "classify (one node, no ring)", true),
        ("head.label", "label", true),
        ("head.commit", "catalog commit", true),
    ]

    static let nodeSteps = ["prepare", "compute", "queue", "link", "decode", "encode"]

    /// Summarises batches.
    /// - Parameter records: The batches.
    public init(_ records: [BatchTimingRecord]) {
        batches = records.count
        images = records.map(\.size).reduce(0, +)
        meanLatencyMs = records.isEmpty ? 0 : records.map(\.latencyMs).reduce(0, +) / Double(records.count)
        met = records.filter(\.met).count
        offloaded = records.filter { ($0.timings["offloaded"] ?? 0) > 0 }.count
        let derived = records.map { record -> BatchTimingRecord in
            var record = record
            if let ring = record.timings["head.ring"] {
                let own = (record.timings["head.slice"] ?? 0) + (record.timings["head.codec"] ?? 0)
                record.timings["head.ringWait"] = max(0, ring - own)
            }
            return record
        }
        let images = images
        head = Self.headSteps.compactMap { Self.step($0.key, name: $0.name, work: $0.work, derived, images: images) }
        let nodeNames = Set(
            derived.flatMap { record in
                record.timings.keys.compactMap { key -> String? in
                    let parts = key.split(separator: ".")
                    guard parts.count == 2, Self.nodeSteps.contains(String(parts[1])), parts[0] != "head",
                        parts[0] != "jpeg", parts[0] != "burst"
                    else { return nil }
                    return String(parts[0])
                }
            }
        )
        nodes = nodeNames.sorted().flatMap { node in
            Self.nodeSteps.compactMap {
                Self.step("\(node).\($0)", name: "\(node) \($0)", work: false, derived, images: images)
            }
        }
    }

    private static func step(
        _ key: String, name: String, work: Bool, _ records: [BatchTimingRecord], images: Int
    ) -> Step? {
        let having = records.filter { $0.timings[key] != nil && $0.size > 0 }
        guard !having.isEmpty, images > 0 else { return nil }
        let total = having.map { $0.timings[key] ?? 0 }.reduce(0, +)
        let perBatch = having.map { ($0.timings[key] ?? 0) * 1000 / Double($0.size) }.sorted()
        return Step(
            key: key, name: name, work: work, batches: having.count, images: images, totalSeconds: total,
            msPerImage: total * 1000 / Double(images), p50: percentile(perBatch, 0.5), p95: percentile(perBatch, 0.95))
    }

    /// The nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}

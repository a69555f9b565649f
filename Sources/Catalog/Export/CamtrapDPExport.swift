import FoundationEssentials

/// Options for a Camtrap DP export.
public struct CamtrapDPOptions: Sendable {
    /// The UTC offset of cameras that wrote no offset (`+02:00`); Camtrap DP timestamps must carry one.
    public var utcOffset: String?
    public var title: String
    public var contact: String
    /// Media paths under this folder are written relative to it.
    public var root: String?

    /// Creates options.
    public init(utcOffset: String?, title: String, contact: String, root: String?) {
        self.utcOffset = utcOffset
        self.title = title
        self.contact = contact
        self.root = root
    }
}

/// Writes the catalog as a Camtrap DP 1.0 data package: `datapackage.json` plus `deployments.csv`,
/// `media.csv` and `observations.csv`, whose columns are the standard's. Labelled and failed media are
/// exported (failed ones without observations); pending media are left out.
enum CamtrapDPExport {
    static let version = "1.0.2"
    /// Where the profile and table schemas of the version the package follows live; validators fetch them.
    static let base = "https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0.2"

    static let deploymentColumns = [
        "deploymentID", "locationID", "locationName", "latitude", "longitude", "coordinateUncertainty",
        "deploymentStart",
        "deploymentEnd", "setupBy", "cameraID", "cameraModel", "cameraDelay", "cameraHeight", "cameraDepth",
        "cameraTilt",
        "cameraHeading", "detectionDistance", "timestampIssues", "baitUse", "featureType", "habitat",
        "deploymentGroups",
        "deploymentTags", "deploymentComments",
    ]
    static let mediaColumns = [
        "mediaID", "deploymentID", "captureMethod", "timestamp", "filePath", "filePublic", "fileName", "fileMediatype",
        "exifData", "favorite", "mediaComments",
    ]
    static let observationColumns = [
        "observationID", "deploymentID", "mediaID", "eventID", "eventStart", "eventEnd", "observationLevel",
        "observationType", "cameraSetupType", "scientificName", "count", "lifeStage", "sex", "behavior", "individualID",
        "individualPositionRadius", "individualPositionAngle", "individualSpeed", "bboxX", "bboxY", "bboxWidth",
        "bboxHeight", "classificationMethod", "classifiedBy", "classificationTimestamp", "classificationProbability",
        "observationTags", "observationComments",
    ]

    struct Tables {
        var deployments = CSVWriter()
        var media = CSVWriter()
        var observations = CSVWriter()
        /// Event-level rows written after the media-level ones.
        var eventObservations = 0
        var start = ""
        var end = ""
        /// Every written taxon: its scientific name, rank and vernacular name.
        var taxa: [String: (rank: String?, vernacular: String?)] = [:]
        var box: (minLat: Double, maxLat: Double, minLon: Double, maxLon: Double) = (90, -90, 180, -180)

        /// Writes an observation row and notes its taxon (with the row's rank and vernacular name) for the
        /// package's taxonomic list.
        mutating func addObservation(_ fields: [String?], _ row: Row) throws {
            if let name = fields[9], !name.isEmpty, taxa[name] == nil {
                taxa[name] = try (row["taxonRank"], row["vernacularName"])
            }
            observations.row(fields)
        }
    }

    static func build(_ db: Database, _ options: CamtrapDPOptions) throws -> Tables {
        var tables = Tables()
        tables.deployments.row(deploymentColumns)
        tables.media.row(mediaColumns)
        tables.observations.row(observationColumns)
        try writeMedia(db, options, &tables)
        try writeDeployments(db, options, &tables)
        try writeObservations(db, options, &tables)
        return tables
    }

    private static func writeDeployments(_ db: Database, _ options: CamtrapDPOptions, _ tables: inout Tables) throws {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT d.deploymentID, d.locationName, d.latitude, d.longitude, d.coordinateUncertainty, d.cameraID,
                       d.cameraModel, MIN(m.timestamp) AS first, MAX(m.timestamp) AS last
                FROM deployments d JOIN media m ON m.deploymentID = d.deploymentID
                WHERE m.status != 'pending' AND m.mediaID NOT LIKE 'path:%'
                GROUP BY d.deploymentID ORDER BY d.deploymentID
                """
        )
        for row in rows {
            let id: String = try row["deploymentID"]
            guard let latitude = try row["latitude"] as Double?, let longitude = try row["longitude"] as Double? else {
                throw CatalogError(
                    .export,
                    "deployment \(id) has no coordinates, which Camtrap DP requires; set them with: sqlite3 CATALOG "
                        + "\"UPDATE deployments SET latitude = 4.21, longitude = -71.35 WHERE deploymentID = '\(id)'\""
                )
            }
            tables.box = (
                min(tables.box.minLat, latitude), max(tables.box.maxLat, latitude), min(tables.box.minLon, longitude),
                max(tables.box.maxLon, longitude)
            )
            var fields = [String?](repeating: nil, count: deploymentColumns.count)
            fields[0] = id
            fields[2] = try row["locationName"]
            fields[3] = "\(latitude)"
            fields[4] = "\(longitude)"
            fields[5] = try (row["coordinateUncertainty"] as Int?).map(String.init)
            fields[6] = try timestamp(row["first"], options)
            fields[7] = try timestamp(row["last"], options)
            fields[9] = try row["cameraID"]
            fields[10] = try (row["cameraModel"] as String?).flatMap { $0.isEmpty ? nil : $0 }
            tables.deployments.row(fields)
        }
    }

    private static func writeMedia(_ db: Database, _ options: CamtrapDPOptions, _ tables: inout Tables) throws {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT mediaID, deploymentID, timestamp, timestampHasOffset, filePath, fileName, fileMediatype, error
                FROM media WHERE status != 'pending' AND mediaID NOT LIKE 'path:%' ORDER BY deploymentID, timeKey
                """
        )
        let relativePaths = try relative(rows.map { try $0["filePath"] as String }, root: options.root)
        for (row, relative) in zip(rows, relativePaths) {
            let time = try timestamp(row["timestamp"], options)
            tables.start = tables.start.isEmpty ? time : min(tables.start, time)
            tables.end = max(tables.end, time)
            try tables.media.row([
                row["mediaID"], row["deploymentID"], "activityDetection", time, relative, "false", row["fileName"],
                row["fileMediatype"], nil, nil, row["error"],
            ])
        }
    }

    private static func writeObservations(_ db: Database, _ options: CamtrapDPOptions, _ tables: inout Tables) throws {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT o.*, m.timestamp AS mediaTime FROM observations o JOIN media m ON m.mediaID = o.mediaID
                ORDER BY o.deploymentID, m.timeKey
                """
        )
        for row in rows {
            var fields = [String?](repeating: nil, count: observationColumns.count)
            let mediaTime: String = try row["mediaTime"]
            fields[0] = try row["observationID"]
            fields[1] = try row["deploymentID"]
            fields[2] = try row["mediaID"]
            fields[3] = try row["eventID"]
            fields[4] = try timestamp(row["eventStart"] ?? mediaTime, options)
            fields[5] = try timestamp(row["eventEnd"] ?? mediaTime, options)
            fields[6] = "media"
            fields[7] = try row["observationType"]
            fields[9] = try row["scientificName"]
            fields[10] = try (row["count"] as Int?).map(String.init)
            if let x = try row["bboxX"] as Double?, let y = try row["bboxY"] as Double?,
                let w = try row["bboxWidth"] as Double?,
                let h = try row["bboxHeight"] as Double?
            {
                // Camtrap DP: bboxX and bboxY in 0...1, bboxWidth and bboxHeight in 1e-15...1.
                fields[18] = "\(x)"
                fields[19] = "\(y)"
                fields[20] = "\(max(1e-15, w))"
                fields[21] = "\(max(1e-15, h))"
            }
            fields[22] = "machine"
            fields[23] = try row["classifiedBy"]
            fields[24] = try timestamp(row["classificationTimestamp"], options)
            fields[25] = try (row["classificationProbability"] as Double?).map { "\($0)" }
            // Camtrap DP tags are `key:value` pairs separated by `|`.
            let levels: String = try row["pruneLevels"] ?? ""
            let animal = try (row["animalProbability"] as Double?).map { "\($0)" } ?? ""
            fields[26] = try "pruneLevels:\(levels)|animalProbability:\(animal)|batchID:\(row["batchID"] ?? "")"
            try tables.addObservation(fields, row)
        }
        try writeEventObservations(db, options, &tables)
    }

    /// One event-level observation per event (no mediaID): the label made from all of the event's frames.
    private static func writeEventObservations(_ db: Database, _ options: CamtrapDPOptions, _ tables: inout Tables)
        throws
    {
        let rows = try Row.fetchAll(
            db, sql: "SELECT * FROM event_observations ORDER BY deploymentID, eventStart, eventID")
        for row in rows {
            var fields = [String?](repeating: nil, count: observationColumns.count)
            fields[0] = try row["observationID"]
            fields[1] = try row["deploymentID"]
            fields[3] = try row["eventID"]
            fields[4] = try timestamp(row["eventStart"], options)
            fields[5] = try timestamp(row["eventEnd"], options)
            fields[6] = "event"
            fields[7] = try row["observationType"]
            fields[9] = try row["scientificName"]
            fields[10] = try (row["observationType"] as String?) == "blank" ? nil : "1"
            fields[22] = "machine"
            fields[23] = try row["classifiedBy"]
            fields[24] = try timestamp(row["classificationTimestamp"], options)
            fields[25] = try (row["classificationProbability"] as Double?).map { "\($0)" }
            let animal = try (row["animalProbability"] as Double?).map { "\($0)" } ?? ""
            fields[26] =
                try
                "frames:\(row["frames"] ?? "")|animalFrames:\(row["animalFrames"] ?? "")|animalProbability:\(animal)"
            tables.eventObservations += 1
            try tables.addObservation(fields, row)
        }
    }

    /// Media paths as Camtrap DP wants them: relative (no leading `/`, `.` or `~`, no `..`). Paths under `root`
    /// (the watch folder) are written relative to it; any others relative to the deepest folder they share.
    static func relative(_ paths: [String], root: String?) -> [String] {
        let prefix = root.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        var result = paths.map { path in
            prefix.flatMap { path.hasPrefix($0) ? String(path.dropFirst($0.count)) : nil } ?? path
        }
        let outside = result.indices.filter { result[$0].hasPrefix("/") }
        if !outside.isEmpty {
            var common = result[outside[0]].split(separator: "/", omittingEmptySubsequences: false).dropLast()
            for index in outside.dropFirst() {
                let folders = result[index].split(separator: "/", omittingEmptySubsequences: false).dropLast()
                common = common.prefix(zip(common, folders).prefix { $0 == $1 }.count)
            }
            let shared = common.joined(separator: "/") + "/"
            for index in outside { result[index] = String(result[index].dropFirst(shared.count)) }
        }
        return result
    }

    /// A catalog timestamp as Camtrap DP wants it: ISO 8601 to the second (its format is `%Y-%m-%dT%H:%M:%S%z`,
    /// without fractions), with an offset (`Z`, `+02:00`).
    static func timestamp(_ raw: String, _ options: CamtrapDPOptions) throws -> String {
        var value = raw
        if value.count > 19, value[value.index(value.startIndex, offsetBy: 19)] == "." {
            let fraction = value.index(value.startIndex, offsetBy: 19)
            let rest = value[value.index(after: fraction)...].drop { $0.isNumber }
            value = String(value[..<fraction]) + rest
        }
        if value.hasSuffix("Z") || value.dropFirst(19).contains(where: { $0 == "+" || $0 == "-" }) { return value }
        guard let offset = options.utcOffset else {
            throw CatalogError(
                .export,
                "capture times without a UTC offset (\(value)): give the cameras' offset with --utc-offset (for example +02:00)"
            )
        }
        return value + offset
    }
}

import FoundationEssentials

/// The catalog as a MegaDetector batch output file (format 1.4), the format camera-trap tools (Timelapse,
/// EcoAssist, the MegaDetector postprocessing scripts) read. trapline classifies whole frames and does not
/// locate animals, so an image with an animal, a person or a vehicle has one detection covering the whole frame
/// (`bbox` [0, 0, 1, 1]) of that category, its confidence the probability of the category. An animal's
/// classifications are the written taxon first (its category named by the scientific name, `Vulpes vulpes`),
/// then the model's top classes (categories named by the class); a blank image has no detections; an image
/// that failed has `failure`. Pending images are left out.
public struct MegaDetectorExport: Encodable {
    struct Info: Encodable {
        let formatVersion = "1.4"
        let detector: String
        let detectionCompletionTime: String
        let classifier: String
        let classificationCompletionTime: String

        enum CodingKeys: String, CodingKey {
            case formatVersion = "format_version", detector, classifier
            case detectionCompletionTime = "detection_completion_time"
            case classificationCompletionTime = "classification_completion_time"
        }
    }

    /// Category ids of the written taxa start here, clear of any class index.
    static let taxonCategoryBase = 100_000

    struct Detection: Encodable {
        var category = "1"
        let conf: Double
        /// The moving region whose crop named the frame, else the whole frame `[0, 0, 1, 1]`.
        var bbox: [Double] = [0, 0, 1, 1]
        let classifications: [[ClassificationValue]]
    }

    enum ClassificationValue: Encodable {
        case category(String)
        case confidence(Double)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .category(let value): try container.encode(value)
            case .confidence(let value): try container.encode(value)
            }
        }
    }

    struct Image: Encodable {
        let file: String
        let detections: [Detection]?
        let failure: String?
    }

    let info: Info
    let detectionCategories = ["1": "animal", "2": "person", "3": "vehicle"]
    let classificationCategories: [String: String]
    let images: [Image]

    enum CodingKeys: String, CodingKey {
        case info, images
        case detectionCategories = "detection_categories"
        case classificationCategories = "classification_categories"
    }

    private struct TopClass: Decodable {
        let index: Int
        let name: String
        let probability: Double
    }

    /// Builds the export from a catalog.
    /// - Parameter root: File paths under this folder are written relative to it.
    static func build(_ db: Database, root: String?) throws -> MegaDetectorExport {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT m.filePath, m.status, m.errorCode, m.error, o.observationType, o.animalProbability, o.topClasses,
                       o.classifiedBy, o.classificationTimestamp, o.scientificName, o.classificationProbability,
                       o.bboxX, o.bboxY, o.bboxWidth, o.bboxHeight
                FROM media m LEFT JOIN observations o ON o.mediaID = m.mediaID
                WHERE m.status != 'pending' ORDER BY m.filePath
                """
        )
        var categories: [String: String] = [:]
        var taxonCategories: [String: String] = [:]
        var images: [Image] = []
        var classifier = "trapline"
        var latest = ""
        let prefix = root.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        for row in rows {
            let path: String = try row["filePath"]
            let file = prefix.flatMap { path.hasPrefix($0) ? String(path.dropFirst($0.count)) : nil } ?? path
            guard try (row["status"] as String) == "labeled" else {
                try images.append(
                    Image(file: file, detections: nil, failure: "\(row["errorCode"] ?? ""): \(row["error"] ?? "")"))
                continue
            }
            classifier = try row["classifiedBy"] ?? classifier
            latest = try max(latest, row["classificationTimestamp"] ?? "")
            let type: String? = try row["observationType"]
            if let category = ["human": "2", "vehicle": "3"][type ?? ""] {
                let detection = try Detection(
                    category: category, conf: row["classificationProbability"] ?? 0, classifications: [])
                images.append(Image(file: file, detections: [detection], failure: nil))
                continue
            }
            guard type == "animal" else {
                images.append(Image(file: file, detections: [], failure: nil))
                continue
            }
            let top =
                (try? JSONDecoder().decode([TopClass].self, from: Data(((row["topClasses"] as String?) ?? "[]").utf8)))
                ?? []
            for entry in top { categories[String(entry.index)] = entry.name }
            var classifications = top.map {
                [ClassificationValue.category(String($0.index)), .confidence($0.probability)]
            }
            if let name = try row["scientificName"] as String?, !name.isEmpty {
                let id =
                    taxonCategories[name]
                    ?? String(Self.taxonCategoryBase + taxonCategories.count)
                taxonCategories[name] = id
                categories[id] = name
                try classifications.insert(
                    [.category(id), .confidence(row["classificationProbability"] ?? 0)], at: 0)
            }
            var detection = try Detection(conf: row["animalProbability"] ?? 0, classifications: classifications)
            if let x = try row["bboxX"] as Double?, let y = try row["bboxY"] as Double?,
                let w = try row["bboxWidth"] as Double?,
                let h = try row["bboxHeight"] as Double?
            {
                detection.bbox = [x, y, w, h]
            }
            images.append(Image(file: file, detections: [detection], failure: nil))
        }
        let info = Info(
            detector: "trapline burst localiser (motion against the burst's background; whole frame when none)",
            detectionCompletionTime: latest,
            classifier: classifier,
            classificationCompletionTime: latest
        )
        return MegaDetectorExport(info: info, classificationCategories: categories, images: images)
    }
}

extension Catalog {
    /// Writes the catalog as a MegaDetector batch output file.
    /// - Parameters:
    ///   - path: The JSON file to write.
    ///   - root: File paths under this folder are written relative to it.
    /// - Returns: The number of images written.
    /// - Throws: `CatalogError`.
    @discardableResult
    public func exportMegaDetector(to path: String, root: String?) throws -> Int {
        let export = try read("MegaDetector export") { db in try MegaDetectorExport.build(db, root: root) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
            try encoder.encode(export).write(to: URL(fileURLWithPath: path))
        } catch {
            throw CatalogError(.export, "cannot write \(path)", cause: error)
        }
        return export.images.count
    }
}

import Catalog
import FoundationEssentials
import Labels

#if canImport(Glibc)
    import Glibc
#endif

/// Where `trapline learn` finds its examples, and the checks they pass before any is used.
enum LearnSources {
    static func isJPEG(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")
    }

    static func list(_ folder: String) -> [String]? {
        (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter { !$0.hasPrefix(".") }.sorted()
    }

    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// `FOLDER/<name>/*.jpg`, and `FOLDER/<name>/<burst>/*.jpg` for bursts. Files that are not JPEGs are listed
    /// as skipped by `checked` (their names are kept with an empty class).
    static func folders(_ roots: [String]) throws -> [LearnExample] {
        var examples: [LearnExample] = []
        for root in roots {
            guard isFolder(root), let names = list(root) else {
                throw CLIError("\(root): not a folder that can be read")
            }
            let classFolders = names.filter { isFolder(root + "/" + $0) }
            guard !classFolders.isEmpty else {
                throw CLIError("\(root): no class folders in it (FOLDER/<name>/*.jpg, one folder per class)")
            }
            for name in classFolders {
                let folder = root + "/" + name
                for entry in list(folder) ?? [] {
                    let path = folder + "/" + entry
                    if isFolder(path) {
                        let frames = (list(path) ?? []).map { path + "/" + $0 }
                        let jpegs = frames.filter(isJPEG)
                        for frame in frames {
                            examples.append(
                                LearnExample(
                                    path: frame, className: isJPEG(frame) ? name : "", burst: jpegs,
                                    source: "\(name)/"))
                        }
                    } else {
                        examples.append(
                            LearnExample(
                                path: path, className: isJPEG(path) ? name : "", burst: [path], source: "\(name)/"))
                    }
                }
            }
        }
        return examples
    }

    /// A Camtrap DP package's media labelled by their observations: the scientific name, or `blank`; media with
    /// people, vehicles, or disagreeing observations are left out.
    static func camtrapDP(_ folder: String) throws -> [LearnExample] {
        let media = try CSVTable(path: folder + "/media.csv")
        let observations = try CSVTable(path: folder + "/observations.csv")
        for (table, columns) in [(media, ["mediaID", "filePath"]), (observations, ["mediaID", "observationType"])] {
            for column in columns where table.column(column) == nil {
                throw CLIError("\(table.path): no \(column) column (is this a Camtrap DP package?)")
            }
        }
        var pathOf: [String: String] = [:]
        for row in media.rows {
            let id = media.value(row, "mediaID"), path = media.value(row, "filePath")
            pathOf[id] = path.hasPrefix("/") ? path : folder + "/" + path
        }
        var label: [String: String?] = [:]
        for row in observations.rows {
            let id = observations.value(row, "mediaID")
            guard !id.isEmpty else { continue }  // an event-level observation
            let type = observations.value(row, "observationType")
            let name: String? =
                type == "blank" ? "blank" : type == "animal" ? nonEmpty(observations.value(row, "scientificName")) : nil
            if let previous = label[id], previous != name { label[id] = .some(nil) } else { label[id] = name }
        }
        return label.keys.sorted().compactMap { id in
            guard let name = label[id] ?? nil, let path = pathOf[id] else { return nil }
            return LearnExample(path: path, className: name, burst: [path], source: "observation of \(id)")
        }
    }

    /// A MegaDetector output file: each image's most confident detection at or above `threshold` names it by
    /// its most confident classification; an image with no such detection is `blank`.
    static func megaDetector(_ path: String, threshold: Double) throws -> [LearnExample] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        let file: MegaDetectorFile
        do { file = try JSONDecoder().decode(MegaDetectorFile.self, from: data) } catch {
            throw CLIError("\(path) is not a MegaDetector output file: \(error)")
        }
        let base = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        var examples: [LearnExample] = []
        for image in file.images {
            let filePath = image.file.hasPrefix("/") ? image.file : (base.isEmpty ? "." : base) + "/" + image.file
            let detections = (image.detections ?? []).filter { $0.conf >= threshold }
            let name: String?
            if let best = detections.max(by: { $0.conf < $1.conf }) {
                let top = (best.classifications ?? []).max {
                    $0.count == 2 && $1.count == 2 && $0[1].number < $1[1].number
                }
                name = top.flatMap { $0.first?.text }.flatMap { file.classification_categories?[$0] }
            } else {
                name = image.failure == nil ? "blank" : nil
            }
            if let name {
                examples.append(LearnExample(path: filePath, className: name, burst: [filePath], source: path))
            }
        }
        return examples
    }

    /// Checks the examples: files that are not JPEGs or cannot be read are skipped (and listed); the same image
    /// (by SHA-256) under two classes is refused, naming both; the same image twice under one class counts once.
    static func checked(_ examples: [LearnExample], skipped: inout [(String, String)]) throws -> [LearnExample] {
        var kept: [LearnExample] = []
        var seen: [String: LearnExample] = [:]
        var conflicts: [String] = []
        for example in examples {
            guard !example.className.isEmpty, isJPEG(example.path) else {
                skipped.append((example.path, "not a JPEG file"))
                continue
            }
            guard let data = FileManager.default.contents(atPath: example.path) else {
                skipped.append((example.path, "cannot be read"))
                continue
            }
            let hash = SHA256.hex([UInt8](data))
            if let other = seen[hash] {
                if other.className != example.className {
                    conflicts.append(
                        "\(example.path) (\(example.className)) is the same image as \(other.path) (\(other.className))"
                    )
                }
                continue
            }
            seen[hash] = example
            kept.append(example)
        }
        guard conflicts.isEmpty else {
            throw CLIError("the same image is under two classes:\n" + conflicts.joined(separator: "\n"))
        }
        return kept
    }

    static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
}

/// The parts of MegaDetector's batch output format that `learn` reads.
struct MegaDetectorFile: Decodable {
    struct Image: Decodable {
        var file: String
        var failure: String?
        var detections: [Detection]?
    }
    struct Detection: Decodable {
        var category: String?
        var conf: Double
        var classifications: [[Scalar]]?
    }
    /// A classification's entries: a category ID (a string) and a confidence (a number).
    enum Scalar: Decodable {
        case text(String)
        case value(Double)

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .value(try container.decode(Double.self))
            }
        }
        var text: String? { if case .text(let t) = self { t } else { nil } }
        var number: Double { if case .value(let v) = self { v } else { -1 } }
    }
    var images: [Image]
    var classification_categories: [String: String]?
}

/// A CSV file with a header row (RFC 4180: quoted fields may hold commas, quotes and line breaks).
struct CSVTable {
    let path: String
    let header: [String]
    let rows: [[String]]

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        self.path = path
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var iterator = String(decoding: data, as: UTF8.self).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" {
                            field.append("\"")
                        } else {
                            quoted = false
                            pending = next
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                record.append(field)
                field = ""
            } else if c == "\n" || c == "\r\n" {
                record.append(field)
                records.append(record)
                (record, field) = ([], "")
            } else if c != "\r" {
                field.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        guard let first = records.first else { throw CLIError("\(path) is empty") }
        header = first
        rows = Array(records.dropFirst())
    }

    func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    func value(_ row: [String], _ name: String) -> String {
        guard let index = column(name), index < row.count else { return "" }
        return row[index]
    }
}

/// What `learn` prints: the cross-validation, per class, and the confusion table.
enum LearnReport {
    static func text(_ head: SiteHead) -> String {
        var lines: [String] = []
        let names = head.classes.map { $0.scientificName ?? "blank" }
        for c in head.classes {
            let rank = c.taxonRank.map { " (\($0))" } ?? ""
            let vernacular = c.vernacularName.map { ", \($0)" } ?? ""
            let above = c.lineage.isEmpty ? "" : " < " + c.lineage.prefix(3).joined(separator: " < ")
            lines.append(
                "\(c.name): \(c.scientificName ?? "blank")\(rank)\(vernacular)\(above); \(c.examples) examples")
        }
        guard let v = head.validation else {
            lines.append("no cross-validation: a class has fewer than 2 examples per fold")
            return lines.joined(separator: "\n")
        }
        let total = v.confusion.joined().reduce(0, +)
        lines.append("")
        lines.append(
            "cross-validated accuracy (\(v.folds) folds): \(percent(v.accuracy)) of \(total) examples")
        lines.append("recall per class:")
        for (name, recall) in zip(names, v.recall) { lines.append("  \(name): \(percent(recall))") }
        lines.append("confusion (rows: true class, columns: predicted, in the order above):")
        let width = max(4, v.confusion.joined().map { String($0).count }.max() ?? 1)
        for (name, row) in zip(names, v.confusion) {
            let cells = row.map { String(repeating: " ", count: width - String($0).count) + String($0) }
            lines.append("  " + cells.joined(separator: " ") + "  " + name)
        }
        return lines.joined(separator: "\n")
    }

    static func percent(_ value: Double) -> String {
        let tenths = Int((value * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}

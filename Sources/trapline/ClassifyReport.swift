import FoundationEssentials
import Imaging
import Inference
import Labels

/// The JSON shape of `trapline classify --json`.
struct ClassifyReport: Encodable {
    struct ErrorField: Encodable {
        var code: String
        var message: String
    }

    struct Image: Encodable {
        var path: String
        var ok: Bool
        var error: ErrorField?
        var top: [ClassScore]?
        var animalProbability: Float?
        var blank: Bool?
        /// `animal`, `human`, `vehicle` or `blank`.
        var observationType: String?
        /// The label the catalog would write: scientific name, rank, vernacular name, probability.
        var label: WrittenLabel?
        /// Which head wrote the label: `model`, or `site` (with `--site-head`).
        var head: String?
        /// Where the site head wrote it: what the model alone would have written.
        var model: ModelLabel?
    }

    var level: Double
    /// With `--levels`: the option each slice ran, in plan order.
    var levels: [String]?
    var images: [Image]

    init(images paths: [String], outcomes: [ImageClassifier.Outcome], level: Double, levels: [String]? = nil) {
        self.level = level
        self.levels = levels
        images = zip(paths, outcomes).map { path, outcome in
            switch outcome {
            case .labeled(let label, _):
                return Image(
                    path: path, ok: true, top: label.top, animalProbability: label.animalProbability,
                    blank: label.isBlank, observationType: label.observationType.rawValue, label: label.written,
                    head: label.bySiteHead ? "site" : "model", model: label.model)
            case .failed(let error):
                return Image(
                    path: path, ok: false, error: ErrorField(code: error.code.description, message: error.message))
            }
        }
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

enum ClassifyText {
    static func describe(_ path: String, _ outcome: ImageClassifier.Outcome) -> String {
        switch outcome {
        case .failed(let error):
            return "\(path)\n  error   [\(error.code)] \(error.message)"
        case .labeled(let label, _):
            var lines = [path]
            let by = label.bySiteHead ? "  (site head)" : ""
            lines.append("  \(written(label))  animal probability \(percent(label.animalProbability))\(by)")
            if let model = label.model {
                var alone = label
                alone.observationType = model.observationType
                alone.written = model.label
                lines.append("  model alone: \(written(alone))")
            }
            for score in label.top {
                lines.append(
                    "  \(percent(score.probability).padded(7)) \(score.index.description.padded(4)) \(score.name)")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// `animal  Vulpes vulpes (species, red fox) 81.0%`, `vehicle  pickup 64.2%`, `blank 97.0%`.
    static func written(_ label: ImageLabel) -> String {
        let w = label.written
        var text = label.observationType.rawValue
        if let name = w.scientificName {
            let details = [w.taxonRank, w.vernacularName].compactMap { $0 }
            text += "  " + name + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")
        } else if let vernacular = w.vernacularName {
            text += "  " + vernacular
        }
        return text + " " + percent(w.probability)
    }

    static func percent(_ value: Float) -> String {
        let tenths = Int((value * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

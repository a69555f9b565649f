import FoundationEssentials
import Imaging
import Inference

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
    }

    var level: Double
    var images: [Image]

    init(images paths: [String], outcomes: [ImageClassifier.Outcome], level: Double) {
        self.level = level
        images = zip(paths, outcomes).map { path, outcome in
            switch outcome {
            case .labeled(let label, _):
                return Image(
                    path: path, ok: true, top: label.top, animalProbability: label.animalProbability,
                    blank: label.isBlank)
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
            let verdict = label.isBlank ? "blank" : "animal"
            lines.append("  \(verdict)  animal probability \(percent(label.animalProbability))")
            for score in label.top {
                lines.append(
                    "  \(percent(score.probability).padded(7)) \(score.index.description.padded(4)) \(score.name)")
            }
            return lines.joined(separator: "\n")
        }
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

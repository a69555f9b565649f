import ArgumentParser
import Inference

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect model files.",
        subcommands: [ModelInfo.self]
    )
}

struct ModelInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract:
            "Show a model file's metadata, prune levels, slice plans, and parameters and compute per slice and level."
    )

    @Argument(help: "The model file (default: the bundled model).", completion: .file(extensions: ["safetensors"]))
    var file: String?

    func run() throws {
        let model = try CLISupport.loadModel(file)
        print(ModelInfoText.describe(model.metadata))
        if let kernel = Trapline.blasKernel {
            print("")
            print("runs on        OpenBLAS kernel \(kernel)")
        }
    }
}

enum ModelInfoText {
    static func describe(_ m: ModelMetadata) -> String {
        var lines: [String] = []
        lines.append("name           \(m.name) (\(m.architecture), format \(m.formatVersion))")
        lines.append(
            "input          \(m.input.width)x\(m.input.height) RGB, (x - \(m.input.mean[0])) / \(m.input.scale[0]), crop \(m.input.crop)"
        )
        let animals = m.classes.names.indices.filter(m.isAnimal).count
        lines.append("classes        \(m.classes.names.count), of which \(animals) animals")
        lines.append("units          \(m.units.count): stem, \(m.units.count - 2) blocks, head")
        lines.append("prune levels   \(m.pruneLevels.map { "\($0)" }.joined(separator: ", "))")
        if let license = m.license { lines.append("licence        \(license)") }
        for (key, value) in (m.provenance ?? [:]).sorted(by: { $0.key < $1.key }) {
            lines.append("provenance     \(key): \(value)")
        }
        lines.append("")
        lines.append("whole network per image, by level:")
        for level in m.pruneLevels.indices {
            let cost = m.cost(units: 0..<m.units.count, level: level)
            lines.append(
                "  level \(m.pruneLevels[level])  \(millions(cost.parameters)) M parameters, \(millions(cost.multiplyAdds)) M multiply-adds"
            )
        }
        for nodes in 1...8 {
            guard let plan = m.slicePlan(nodes: nodes) else { continue }
            lines.append("")
            lines.append("\(nodes)-node plan, unit boundaries \(plan.map(String.init).joined(separator: " ")):")
            for (slice, range) in zip(plan, plan.dropFirst()).enumerated() {
                let costs = m.pruneLevels.indices.map { m.cost(units: range.0..<range.1, level: $0) }
                let text = costs.map { "\(millions($0.parameters))M p / \(millions($0.multiplyAdds))M madd" }
                lines.append("  slice \(slice) units \(range.0)..<\(range.1): " + text.joined(separator: " | "))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func millions(_ value: Int) -> String {
        let hundredths = (value + 5_000) / 10_000
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}

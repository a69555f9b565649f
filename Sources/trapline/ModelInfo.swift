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
            "Show a model file's metadata, prune levels, slice options, slice plans, and parameters, compute and "
            + "measured accuracy per slice and option."
    )

    @Argument(help: "The model file (default: the bundled model).", completion: .file(extensions: ["safetensors"]))
    var file: String?

    func run() throws {
        let model = try CLISupport.loadModel(file)
        print(ModelInfoText.describe(model.metadata))
        print("")
        print("weights        \(ModelInfoText.megabytes(model.weightBytes)) MB in memory, every level folded")
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
        lines.append(
            "slice options  \((0..<m.optionCount).map(m.optionName).joined(separator: ", "))"
                + (m.hasRefitLevels ? " (pruned levels re-fitted by least squares)" : ""))
        if let skippable = m.skippableUnits {
            lines.append("skippable      units \(skippable.map(String.init).joined(separator: ", "))")
        }
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
            let curves = m.accuracy.flatMap { $0.plan == nodes ? $0.slices : nil }
            for (slice, range) in zip(plan, plan.dropFirst()).enumerated() {
                lines.append("  slice \(slice) units \(range.0)..<\(range.1):")
                for option in 0..<m.optionCount {
                    let cost = m.cost(units: range.0..<range.1, option: option)
                    let name = m.optionName(option)
                    var text = "    \(name)\(String(repeating: " ", count: max(0, 6 - name.count)))"
                    text += " \(millions(cost.parameters))M p / \(millions(cost.multiplyAdds))M madd"
                    if let curve = curves?[slice], option < curve.count {
                        text += ", \(m.accuracy?.metric ?? "accuracy") \(percent(curve[option]))"
                    }
                    lines.append(text)
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    static func megabytes(_ bytes: Int) -> String { millions(bytes) }

    static func percent(_ value: Double) -> String {
        let tenths = Int((value * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    static func millions(_ value: Int) -> String {
        let hundredths = (value + 5_000) / 10_000
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}

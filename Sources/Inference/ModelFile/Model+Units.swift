extension Model {
    static func loadUnit(_ index: Int, _ metadata: ModelMetadata, _ reader: inout WeightReader) throws -> UnitWeights {
        let unit = metadata.units[index]
        let kept = metadata.keptChannels[index]
        switch unit.kind {
        case .stem: return try loadStem(unit, kept, metadata.pruneLevels.count, &reader)
        case .mbconv: return try loadBlock(blockIndex: index - 1, unit, kept, refit: metadata.hasRefitLevels, &reader)
        case .head: return try loadHead(unit, kept, refit: metadata.hasRefitLevels, &reader)
        }
    }

    /// The batch norm a level normalises with: its own (format 1) or level 0's on the kept channels (format 2).
    private static func normLevel(_ level: Int, _ reader: WeightReader) -> Int {
        reader.refit ? 0 : level
    }

    /// A pruned level's own least-squares layer (format 2): weights [out, kept] as stored (no batch norm to fold)
    /// and its bias.
    private static func refitLayer(
        _ prefix: String, level: Int, out: Int, kept: Int, spatial: Bool, _ reader: inout WeightReader
    ) throws -> PointwiseWeights {
        let shape = spatial ? [out, kept, 1, 1] : [out, kept]
        let weights = try reader.tensor("\(prefix).level\(level).weight", shape)
        let bias = try reader.tensor("\(prefix).level\(level).bias", [out])
        guard weights.allSatisfy(\.isFinite), bias.allSatisfy(\.isFinite) else {
            throw InferenceError.model("\(prefix).level\(level) has non-finite values")
        }
        return PointwiseWeights(inChannels: kept, outChannels: out, weights: weights, bias: bias)
    }

    private static func loadStem(
        _ unit: ModelMetadata.Unit, _ kept: [Int], _ levels: Int, _ reader: inout WeightReader
    ) throws -> UnitWeights {
        let out = unit.outChannels ?? 0
        let kernel = unit.kernel ?? 3
        guard kept.allSatisfy({ $0 == out }) else { throw InferenceError.model("the stem cannot be pruned") }
        let weights = try reader.tensor("stem.conv.weight", [out, unit.inChannels, kernel, kernel])
        let folded = try (0..<levels).map { level in
            let bn = try reader.batchNorm("stem.bn", level: normLevel(level, reader), channels: out)
            return Folding.stem(
                weights, out: out, inChannels: unit.inChannels, kernel: kernel, scale: bn.scale, shift: bn.shift)
        }
        return .stem(kernel: kernel, stride: unit.stride ?? 2, levels: folded)
    }

    private static func loadBlock(
        blockIndex b: Int, _ unit: ModelMetadata.Unit, _ kept: [Int], refit: Bool, _ reader: inout WeightReader
    ) throws -> UnitWeights {
        let (cin, cout) = (unit.inChannels, unit.outChannels ?? 0)
        let (expanded, kernel, stride) = (unit.expandedChannels ?? 0, unit.kernel ?? 3, unit.stride ?? 1)
        let expands = unit.expand == true
        guard expands || kept.allSatisfy({ $0 == expanded }) else {
            throw InferenceError.model("block \(b) has no expansion and cannot be pruned")
        }
        let expandWeights = expands ? try reader.tensor("block\(b).expand.weight", [expanded, cin, 1, 1]) : []
        let depthwise = try reader.tensor("block\(b).depthwise.weight", [expanded, 1, kernel, kernel])
        let project = try reader.tensor("block\(b).project.weight", [cout, expanded, 1, 1])
        var levels: [BlockLevel] = []
        for (level, width) in kept.enumerated() {
            let norm = normLevel(level, reader)
            var expand: PointwiseWeights?
            if expands {
                let bn0 = try reader.batchNorm("block\(b).bn0", level: norm, channels: expanded)
                expand = Folding.pointwise(
                    expandWeights, inFull: cin, outKept: width, inKept: cin, scale: bn0.scale, bias: bn0.shift)
            }
            let bn1 = try reader.batchNorm("block\(b).bn1", level: norm, channels: expanded)
            let projectLevel: PointwiseWeights
            if refit && expands && level > 0 {
                projectLevel = try refitLayer(
                    "block\(b).project", level: level, out: cout, kept: width, spatial: true, &reader)
            } else {
                let bn2 = try reader.batchNorm("block\(b).bn2", level: norm, channels: cout)
                projectLevel = Folding.pointwise(
                    project, inFull: expanded, outKept: cout, inKept: width, scale: bn2.scale, bias: bn2.shift)
            }
            levels.append(
                BlockLevel(
                    expand: expand,
                    depthwise: Folding.depthwise(
                        depthwise, kernel: kernel, stride: stride, kept: width, scale: bn1.scale, shift: bn1.shift),
                    project: projectLevel
                )
            )
        }
        return .block(residual: stride == 1 && cin == cout, levels: levels)
    }

    private static func loadHead(
        _ unit: ModelMetadata.Unit, _ kept: [Int], refit: Bool, _ reader: inout WeightReader
    ) throws -> UnitWeights {
        let (cin, features, classes) = (unit.inChannels, unit.features ?? 0, unit.classes ?? 0)
        let conv = try reader.tensor("head.conv.weight", [features, cin, 1, 1])
        let fc = try reader.tensor("head.fc.weight", [classes, features])
        let fcBias = try reader.tensor("head.fc.bias", [classes])
        var levels: [HeadLevel] = []
        for (level, width) in kept.enumerated() {
            let bn = try reader.batchNorm("head.bn", level: normLevel(level, reader), channels: features)
            let classifier =
                refit && level > 0
                ? try refitLayer("head.fc", level: level, out: classes, kept: width, spatial: false, &reader)
                : Folding.pointwise(fc, inFull: features, outKept: classes, inKept: width, scale: nil, bias: fcBias)
            levels.append(
                HeadLevel(
                    conv: Folding.pointwise(
                        conv, inFull: cin, outKept: width, inKept: cin, scale: bn.scale, bias: bn.shift),
                    classifier: classifier))
        }
        return .head(levels: levels)
    }
}

extension ModelMetadata {
    /// Checks that the metadata describes a network trapline can run, and is consistent with itself.
    func validate() throws {
        guard format == "trapline-model" else {
            throw InferenceError.model("metadata format is \"\(format)\", not trapline-model")
        }
        guard (1...3).contains(formatVersion) else {
            throw InferenceError.model("model format version \(formatVersion) is not supported (1, 2 and 3 are)")
        }
        guard activation == "relu6", padding == "tf-same" else {
            throw InferenceError.model("activation \(activation) / padding \(padding) unsupported (relu6, tf-same)")
        }
        guard batchNormEpsilon > 0, batchNormEpsilon < 1 else {
            throw InferenceError.model("batchNormEpsilon out of range")
        }
        try validateInput()
        try validateUnits()
        try validateLevels()
        try validatePlans()
        try validateOptions()
        try validateAccuracy()
        try validateClasses()
        try taxonomy?.validate(classCount: classes.names.count, isAnimal: isAnimal)
    }

    private func validateInput() throws {
        guard input.channels == 3, input.width > 0, input.height > 0, input.width <= 4096, input.height <= 4096,
            input.mean.count == 3, input.scale.count == 3, input.scale.allSatisfy({ $0 != 0 && $0.isFinite }),
            input.crop == "center" || input.crop == "full"
        else { throw InferenceError.model("input description is invalid: \(input)") }
    }

    private func validateUnits() throws {
        guard units.count >= 2, units.first?.kind == .stem, units.last?.kind == .head,
            units.dropFirst().dropLast().allSatisfy({ $0.kind == .mbconv })
        else { throw InferenceError.model("units must be a stem, blocks, then a head") }
        var channels = 3
        for (index, unit) in units.enumerated() {
            guard unit.inChannels == channels else {
                throw InferenceError.model("unit \(index) takes \(unit.inChannels) channels but receives \(channels)")
            }
            channels = try unit.checkedOutChannels(index)
        }
    }

    private func validateLevels() throws {
        guard !pruneLevels.isEmpty, pruneLevels.first == 0,
            zip(pruneLevels, pruneLevels.dropFirst()).allSatisfy({ $0 < $1 }),
            pruneLevels.allSatisfy({ $0 >= 0 && $0 < 1 })
        else { throw InferenceError.model("pruneLevels must start at 0 and increase below 1: \(pruneLevels)") }
        guard keptChannels.count == units.count else {
            throw InferenceError.model("keptChannels has \(keptChannels.count) entries for \(units.count) units")
        }
        for (index, kept) in keptChannels.enumerated() {
            let width = units[index].prunableWidth
            guard kept.count == pruneLevels.count, kept.first == width,
                kept.allSatisfy({ $0 >= 1 && $0 <= width }), zip(kept, kept.dropFirst()).allSatisfy({ $0 >= $1 })
            else { throw InferenceError.model("keptChannels of unit \(index) is invalid for width \(width): \(kept)") }
        }
    }

    private func validatePlans() throws {
        guard slicePlans["1"] != nil else { throw InferenceError.model("slicePlans lacks the one-node plan") }
        for (key, plan) in slicePlans {
            guard let nodes = Int(key), nodes >= 1, plan.count == nodes + 1, plan.first == 0, plan.last == units.count,
                zip(plan, plan.dropFirst()).allSatisfy({ $0 < $1 })
            else { throw InferenceError.model("slice plan \(key) is invalid: \(plan)") }
        }
    }

    private func validateClasses() throws {
        let count = units.last?.classes ?? 0
        guard classes.names.count == count else {
            throw InferenceError.model("\(classes.names.count) class names for \(count) classes")
        }
        guard classes.animalRanges.allSatisfy({ $0.count == 2 && $0[0] >= 0 && $0[0] <= $0[1] && $0[1] < count }) else {
            throw InferenceError.model("animalRanges out of range: \(classes.animalRanges)")
        }
    }
}

extension ModelMetadata.Unit {
    /// The width that pruning levels cut: expanded channels, head features, or the stem's outputs.
    var prunableWidth: Int {
        switch kind {
        case .stem: outChannels ?? 0
        case .mbconv: expandedChannels ?? 0
        case .head: features ?? 0
        }
    }

    func checkedOutChannels(_ index: Int) throws -> Int {
        func positive(_ value: Int?, _ name: String, limit: Int = 1 << 16) throws -> Int {
            guard let value, value > 0, value <= limit else {
                throw InferenceError.model("unit \(index): \(name) missing or invalid")
            }
            return value
        }
        switch kind {
        case .stem:
            guard kernel == 3, stride == 2 else {
                throw InferenceError.model("unit \(index): the stem must be 3x3 stride 2")
            }
            return try positive(outChannels, "outChannels")
        case .mbconv:
            guard let kernel, [3, 5].contains(kernel), let stride, [1, 2].contains(stride) else {
                throw InferenceError.model("unit \(index): kernel must be 3 or 5 and stride 1 or 2")
            }
            let expanded = try positive(expandedChannels, "expandedChannels")
            if expand != true && expanded != inChannels {
                throw InferenceError.model("unit \(index): a block without expansion must keep \(inChannels) channels")
            }
            return try positive(outChannels, "outChannels")
        case .head:
            _ = try positive(features, "features")
            return try positive(classes, "classes")
        }
    }
}

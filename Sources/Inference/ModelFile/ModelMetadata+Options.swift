/// What a slice can run (docs/pruned-levels.md). Option `o` below `pruneLevels.count` runs every unit of the
/// slice at width level `o`; a later option is `sliceOptions[o - pruneLevels.count]`: the slice's skippable
/// units run as the identity and the others at the option's width level. Per unit, the engine takes a width
/// level index or ``skipLevel``.
extension ModelMetadata {
    /// Whether the pruned levels carry their own least-squares project and fc weights (format 2). Formats 1 and
    /// 3 give every level its own batch norms instead.
    public var hasRefitLevels: Bool { formatVersion == 2 }

    /// Whether the file declares skippable units and slice options (formats 2 and 3).
    public var hasSliceOptions: Bool { formatVersion >= 2 }

    /// The number of options each slice has: the width levels, then the slice options.
    public var optionCount: Int { pruneLevels.count + (sliceOptions?.count ?? 0) }

    /// The per-unit level index that runs a skippable residual block as the identity.
    public var skipLevel: Int { pruneLevels.count }

    /// Whether unit `index` may be skipped.
    public func isSkippable(_ index: Int) -> Bool { skippableUnits?.contains(index) ?? false }

    /// An option's name: `w1`, `w0.75`, ... for the width levels (the share of channels kept), then the slice
    /// options' own names.
    public func optionName(_ option: Int) -> String {
        if option < pruneLevels.count {
            let kept = (1 - pruneLevels[option]) * 1e6
            let rounded = kept.rounded() / 1e6
            return rounded == rounded.rounded() ? "w\(Int(rounded))" : "w\(rounded)"
        }
        let index = option - pruneLevels.count
        guard let options = sliceOptions, options.indices.contains(index) else { return "option\(option)" }
        return options[index].name
    }

    /// The option with this name, or a width level given as its prune fraction (`0.5`) or index (`#2`).
    public func option(named name: String) -> Int? {
        if let found = (0..<optionCount).first(where: { optionName($0) == name }) { return found }
        if name.hasPrefix("#"), let index = Int(name.dropFirst()), (0..<optionCount).contains(index) { return index }
        if let fraction = Double(name) { return pruneLevels.firstIndex { abs($0 - fraction) < 1e-9 } }
        return nil
    }

    /// The prune fraction an option runs its unskipped units at.
    public func widthFraction(option: Int) -> Double {
        if option < pruneLevels.count { return pruneLevels[max(option, 0)] }
        let index = option - pruneLevels.count
        guard let options = sliceOptions, options.indices.contains(index) else { return 0 }
        return pruneLevels[options[index].level]
    }

    /// The per-unit level indices of a slice over `units` running `option`.
    public func unitLevels(_ units: Range<Int>, option: Int) -> [Int] {
        if (0..<pruneLevels.count).contains(option) { return Array(repeating: option, count: units.count) }
        let index = option - pruneLevels.count
        guard let options = sliceOptions, options.indices.contains(index) else {
            return Array(repeating: -1, count: units.count)  // not an option: the engine refuses level -1
        }
        let spec = options[index]
        return units.map { spec.skip && isSkippable($0) ? skipLevel : spec.level }
    }

    /// The per-unit level indices of the whole network when slice `s` of `plan` (its unit boundaries) runs
    /// `options[s]`.
    public func unitLevels(plan: [Int], options: [Int]) -> [Int] {
        zip(zip(plan, plan.dropFirst()), options).flatMap { bounds, option in
            unitLevels(bounds.0..<bounds.1, option: option)
        }
    }

    func validateOptions() throws {
        guard hasSliceOptions else {
            guard skippableUnits == nil, sliceOptions == nil else {
                throw InferenceError.model("skippableUnits and sliceOptions need format version 2 or 3")
            }
            return
        }
        guard let skippable = skippableUnits, let options = sliceOptions, !options.isEmpty else {
            throw InferenceError.model(
                "a format \(formatVersion) model needs skippableUnits and at least one of sliceOptions")
        }
        guard zip(skippable, skippable.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw InferenceError.model("skippableUnits must be ascending without repeats: \(skippable)")
        }
        for unit in skippable {
            guard units.indices.contains(unit), units[unit].hasResidual else {
                throw InferenceError.model("skippableUnits: unit \(unit) is not a residual block")
            }
        }
        var names = Set((0..<pruneLevels.count).map(optionName))
        for option in options {
            guard !option.name.isEmpty, option.name.count <= 32, names.insert(option.name).inserted,
                option.name.allSatisfy({ $0.isLetter || $0.isNumber || "+-_.".contains($0) })
            else {
                throw InferenceError.model(
                    "slice option name \"\(option.name)\" is empty, repeated, too long or has odd characters")
            }
            guard option.skip, pruneLevels.indices.contains(option.level) else {
                throw InferenceError.model(
                    "slice option \(option.name): skip must be true and level one of 0..<\(pruneLevels.count)")
            }
        }
    }

    /// The accuracy curves fit the plan they name, the levels and options, and lie in 0...1.
    func validateAccuracy() throws {
        guard let curves = accuracy else { return }
        guard let plan = slicePlan(nodes: curves.plan), curves.slices.count == plan.count - 1 else {
            throw InferenceError.model("accuracy curves need one curve per slice of a plan the model has")
        }
        guard curves.slices.allSatisfy({ $0.count == optionCount }) else {
            throw InferenceError.model("accuracy curves need one value per slice option (\(optionCount))")
        }
        guard curves.uniform.map({ $0.count == pruneLevels.count }) ?? true else {
            throw InferenceError.model("the uniform accuracy curve needs one value per prune level")
        }
        let values = curves.slices.joined() + (curves.uniform ?? [])
        guard values.allSatisfy({ $0.isFinite && (0...1).contains($0) }) else {
            throw InferenceError.model("accuracy values must lie in 0...1")
        }
    }
}

extension ModelMetadata.Unit {
    /// Whether the unit is a block that adds its input to its output (stride 1, as many channels out as in).
    public var hasResidual: Bool { kind == .mbconv && stride == 1 && outChannels == inChannels }
}

extension Controller {
    static func validate(profiles: [SliceProfile], accuracy: AccuracyTable, levelCount: Int) throws(ControlError) {
        guard !profiles.isEmpty else {
            throw ControlError(.mismatch, "the pipeline has no slices; give one profile per slice")
        }
        guard levelCount >= 1 else {
            throw ControlError(.mismatch, "the model must have at least one level (full width), not \(levelCount)")
        }
        for profile in profiles {
            try profile.validate(levelCount: levelCount)
        }
        try accuracy.validate(sliceCount: profiles.count, levelCount: levelCount)
    }

    static func validate(policy: Policy, sliceCount: Int, levelCount: Int) throws(ControlError) {
        guard case .fixed(let levels) = policy else { return }
        guard levels.count == sliceCount else {
            throw ControlError(
                .invalidPolicy,
                "the static levels \(Formatting.levels(levels)) name \(levels.count) slices but the pipeline has "
                    + "\(sliceCount); give one level per slice")
        }
        guard levels.allSatisfy({ (0..<levelCount).contains($0) }) else {
            throw ControlError(
                .invalidPolicy,
                "the static levels \(Formatting.levels(levels)) must each be in 0...\(levelCount - 1)")
        }
    }
}

extension AccuracyTable {
    /// Checks that the table has a curve of `levelCount` points for each of `sliceCount` slices.
    /// - Parameters:
    ///   - sliceCount: The number of slices in the pipeline.
    ///   - levelCount: The number of prune levels.
    /// - Throws: ``ControlError/Code/mismatch`` when a count differs; ``ControlError/Code/invalidAccuracy``
    ///   when a value is outside 0...1 or a slice's full-width accuracy is zero.
    public func validate(sliceCount: Int, levelCount: Int) throws(ControlError) {
        guard full.isFinite, (0...1).contains(full) else {
            throw ControlError(.invalidAccuracy, "the full accuracy \(full) is not in 0...1; check the model file")
        }
        guard slices.count == sliceCount else {
            throw ControlError(
                .mismatch,
                "the model has accuracy curves for \(slices.count) slices but the pipeline has \(sliceCount); "
                    + "use the model's slice plan for this ring")
        }
        for (index, curve) in slices.enumerated() {
            try validate(curve: curve, slice: index, levelCount: levelCount)
        }
    }

    private func validate(curve: [Double], slice: Int, levelCount: Int) throws(ControlError) {
        guard curve.count == levelCount else {
            throw ControlError(
                .mismatch, "the accuracy curve of slice \(slice) has \(curve.count) levels, not \(levelCount)")
        }
        guard curve.allSatisfy({ $0.isFinite && (0...1).contains($0) }), curve[0] > 0 else {
            throw ControlError(
                .invalidAccuracy,
                "the accuracy curve of slice \(slice) must lie in 0...1 with a positive full-width point: \(curve)")
        }
    }
}

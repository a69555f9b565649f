extension SliceProfile {
    /// Checks that the profile can be used by a controller with `levelCount` prune levels.
    /// - Parameter levelCount: The number of prune levels every batch size must have a time for.
    /// - Throws: ``ControlError/Code/invalidProfile`` when there are no batch sizes, they are not strictly
    ///   ascending and positive, or a time is not a positive finite number; ``ControlError/Code/mismatch`` when a
    ///   row does not have `levelCount` times.
    public func validate(levelCount: Int) throws(ControlError) {
        guard !batchSizes.isEmpty else {
            throw ControlError(
                .invalidProfile, "the profile of node '\(node)' has no batch sizes; run `trapline profile` again")
        }
        guard batchSizes[0] > 0, zip(batchSizes, batchSizes.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ControlError(
                .invalidProfile,
                "the batch sizes \(batchSizes) of node '\(node)' must be positive and strictly ascending")
        }
        guard serviceMs.count == batchSizes.count else {
            throw ControlError(
                .invalidProfile,
                "node '\(node)' has \(serviceMs.count) rows of times for \(batchSizes.count) batch sizes")
        }
        for (index, row) in serviceMs.enumerated() {
            try validate(row: row, batch: batchSizes[index], levelCount: levelCount)
        }
    }

    private func validate(row: [Double], batch: Int, levelCount: Int) throws(ControlError) {
        guard row.count == levelCount else {
            throw ControlError(
                .mismatch,
                "node '\(node)' has \(row.count) level times at batch \(batch) but the model has \(levelCount) levels; "
                    + "profile the node with this model")
        }
        guard row.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw ControlError(
                .invalidProfile, "node '\(node)' has a time that is not a positive number at batch \(batch): \(row)")
        }
    }
}

/// One slice's profiled service time on its node: the median milliseconds per batch at each prune level and
/// batch size, as `trapline profile` measures them on the node itself.
public struct SliceProfile: Sendable, Codable, Equatable {
    /// The node the slice was profiled on.
    public var node: String
    /// The `[lower, upper)` range of network units the slice runs.
    public var units: [Int]
    /// The measured batch sizes, strictly ascending (for example `[1, 2, 4, 8]`).
    public var batchSizes: [Int]
    /// Median milliseconds per batch, indexed `[batchSizeIndex][levelIndex]`.
    public var serviceMs: [[Double]]

    /// Creates a profile.
    /// - Parameters:
    ///   - node: The node the slice was profiled on.
    ///   - units: The `[lower, upper)` range of network units the slice runs.
    ///   - batchSizes: The measured batch sizes, strictly ascending.
    ///   - serviceMs: Median milliseconds per batch, indexed `[batchSizeIndex][levelIndex]`.
    public init(node: String, units: [Int], batchSizes: [Int], serviceMs: [[Double]]) {
        self.node = node
        self.units = units
        self.batchSizes = batchSizes
        self.serviceMs = serviceMs
    }

    /// The profiled milliseconds for one batch of `batch` images at prune level `level`.
    ///
    /// Between two measured batch sizes the time is interpolated linearly; below the smallest or above the
    /// largest it is scaled in proportion to the batch size from the nearest measured size. A level beyond the
    /// measured ones is clamped to the nearest measured level.
    /// - Parameters:
    ///   - batch: The number of images in the batch.
    ///   - level: The prune level index (0 is full width).
    /// - Returns: Milliseconds per batch, or NaN for a profile with no measurements (which
    ///   ``validate(levelCount:)`` rejects).
    public func serviceMs(batch: Int, level: Int) -> Double {
        guard let first = batchSizes.first, let last = batchSizes.last, serviceMs.count == batchSizes.count else {
            return .nan
        }
        let size = Double(batch)
        if batch <= first { return time(0, level) * size / Double(first) }
        if batch >= last { return time(batchSizes.count - 1, level) * size / Double(last) }
        // batchSizes is ascending and first < batch < last, so an upper neighbour exists.
        let upper = batchSizes.firstIndex { $0 >= batch } ?? batchSizes.count - 1
        let (b0, b1) = (Double(batchSizes[upper - 1]), Double(batchSizes[upper]))
        let weight = (size - b0) / (b1 - b0)
        return time(upper - 1, level) * (1 - weight) + time(upper, level) * weight
    }

    /// The measured time at one batch-size index, with the level clamped to the measured ones.
    private func time(_ sizeIndex: Int, _ level: Int) -> Double {
        let row = serviceMs[sizeIndex]
        guard !row.isEmpty else { return .nan }
        return row[min(max(level, 0), row.count - 1)]
    }
}

/// Every level vector of a pipeline, numbered in mixed radix (slice 0 most significant), with each vector's
/// expected accuracy and whether it clears the accuracy floor.
struct LevelSpace: Sendable {
    /// The largest space searched exactly: 5 options (4 width levels and a slice option) on 8 slices is 390,625
    /// vectors.
    static let maximumCount = 1 << 19

    let sliceCount: Int
    let levelCount: Int
    /// The number of vectors: `levelCount` to the power `sliceCount`.
    let count: Int
    /// The expected accuracy of each vector, by index (empty when the space is not enumerated).
    let accuracy: [Double]
    /// Whether each vector may be chosen: it clears the floor, or (when full width does not) it is full width (empty
    /// when the space is not enumerated).
    let allowed: [Bool]
    /// Whether ``accuracy`` and ``allowed`` hold every vector. A space larger than ``maximumCount`` is only numbered:
    /// the frontier search chooses in it without walking it.
    let isEnumerated: Bool

    /// Builds the space and its accuracy table.
    /// - Parameter enumerate: Whether a space larger than ``maximumCount`` is refused (true) or only numbered.
    /// - Throws: ``ControlError/Code/searchTooLarge`` when there are more than ``maximumCount`` vectors and
    ///   `enumerate` is true, or more than `Int.max`.
    init(sliceCount: Int, levelCount: Int, table: AccuracyTable, floor: Double, enumerate: Bool = true)
        throws(ControlError)
    {
        var count = 1
        for _ in 0..<sliceCount {
            let (product, overflow) = count.multipliedReportingOverflow(by: levelCount)
            guard !overflow, product <= Self.maximumCount || !enumerate else {
                throw ControlError(
                    .searchTooLarge,
                    "\(levelCount) levels on \(sliceCount) slices is more than "
                        + "\(enumerate ? Self.maximumCount : Int.max) level vectors; use fewer slices or levels")
            }
            count = product
        }
        self.sliceCount = sliceCount
        self.levelCount = levelCount
        self.count = count
        self.isEnumerated = count <= Self.maximumCount
        guard isEnumerated else {
            (accuracy, allowed) = ([], [])
            return
        }
        var accuracy = [Double](repeating: 0, count: count)
        var levels = [Int](repeating: 0, count: sliceCount)
        for index in 0..<count {
            accuracy[index] = table.expected(levels)
            Self.advance(&levels, levelCount: levelCount)
        }
        self.accuracy = accuracy
        // Full width is index 0; if even it misses the floor, it is the only vector allowed.
        let fullMeetsFloor = accuracy[0] >= floor
        self.allowed = accuracy.indices.map { fullMeetsFloor ? accuracy[$0] >= floor : $0 == 0 }
    }

    /// The index of a level vector.
    func index(of levels: [Int]) -> Int {
        levels.reduce(0) { $0 * levelCount + $1 }
    }

    /// The level vector at an index.
    func levels(at index: Int) -> [Int] {
        var levels = [Int](repeating: 0, count: sliceCount)
        var rest = index
        for slice in stride(from: sliceCount - 1, through: 0, by: -1) {
            levels[slice] = rest % levelCount
            rest /= levelCount
        }
        return levels
    }

    /// Steps `levels` to the next vector in index order (wrapping after the last).
    static func advance(_ levels: inout [Int], levelCount: Int) {
        var slice = levels.count - 1
        while slice >= 0 {
            levels[slice] += 1
            if levels[slice] < levelCount { return }
            levels[slice] = 0
            slice -= 1
        }
    }
}

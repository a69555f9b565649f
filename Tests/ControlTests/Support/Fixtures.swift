import Control

/// A four-node ring like the appliance's: EfficientNet-Lite0 cut into four slices, four prune levels
/// (0, 25, 50 and 75% of the expanded channels pruned).
enum Fixtures {
    /// Each slice's median milliseconds at batch 8, full width (a Raspberry Pi 4B-like spread).
    static let base8: [Double] = [34, 38, 31, 36]
    /// The fraction of the full-width time each level takes.
    static let levelFactor: [Double] = [1, 0.8, 0.6, 0.45]
    static let batchSizes = [1, 2, 4, 8]
    static let levelCount = 4

    /// A per-batch overhead plus a per-image cost, normalised so batch 8 is 1.
    static func batchScale(_ batch: Int) -> Double { 0.16 + 0.105 * Double(batch) }

    /// The profiled milliseconds of slice `slice` at `level` for a batch of 8, computed from the fixture's
    /// numbers rather than through ``SliceProfile``.
    static func ms8(_ slice: Int, _ level: Int) -> Double { base8[slice] * levelFactor[level] }

    static let profiles: [SliceProfile] = base8.indices.map { slice in
        SliceProfile(
            node: "pi\(slice + 1)", units: [[0, 5], [5, 10], [10, 14], [14, 18]][slice], batchSizes: batchSizes,
            serviceMs: batchSizes.map { batch in levelFactor.map { base8[slice] * batchScale(batch) * $0 } })
    }

    /// The bundled model's measured curves: pruning any slice costs a lot of accuracy.
    static let measured = AccuracyTable(
        full: 0.99,
        slices: [
            [0.99, 0.68, 0.42, 0.07], [0.99, 0.51, 0.19, 0.05], [0.99, 0.41, 0.19, 0.05], [0.99, 0.46, 0.25, 0.07],
        ])

    /// A hypothetical model trained to stay accurate when pruned (the paper's goal).
    static let robust = AccuracyTable(
        full: 1,
        slices: [[1, 0.99, 0.97, 0.9], [1, 0.98, 0.95, 0.85], [1, 0.985, 0.96, 0.88], [1, 0.99, 0.96, 0.87]])

    static let fullWidth = [0, 0, 0, 0]

    /// 144 images per second in batches of 8 is one batch every 55.6 ms; at 90% utilisation the slowest stage
    /// may take 50 ms. The unpruned pipeline's slowest stage (slice 1) takes 38 ms.
    static let arrivalRate = 144.0
    static let throughputBoundMs = 0.9 * 8 / 144 * 1000

    static func controller(
        _ table: AccuracyTable, policy: Policy = .adaptive, settings: ControllerSettings = ControllerSettings()
    ) throws -> Controller {
        try Controller(profiles: profiles, accuracy: table, levelCount: levelCount, policy: policy, settings: settings)
    }
}

/// The expected top-1 agreement of a level vector, from the model file's per-slice accuracy curves.
///
/// Curve `i` holds the accuracy of the whole network when only slice `i` is pruned to each level and every
/// other slice runs at full width. The table combines them by assuming that slices degrade accuracy
/// independently: pruning slice `i` to level `l` keeps the fraction `slices[i][l] / slices[i][0]` of the
/// full network's accuracy, whatever the other slices do, so the fractions multiply. The assumption is
/// measured only along the axes; it is a ranking model for the controller, not a promise.
public struct AccuracyTable: Sendable, Equatable {
    /// The accuracy of the unpruned network.
    public var full: Double
    /// Per-slice curves, indexed `[slice][levelIndex]`.
    public var slices: [[Double]]

    /// Creates a table.
    /// - Parameters:
    ///   - full: The accuracy of the unpruned network.
    ///   - slices: Per-slice curves, indexed `[slice][levelIndex]`; `slices[i][0]` is the full width.
    public init(full: Double, slices: [[Double]]) {
        self.full = full
        self.slices = slices
    }

    /// The expected accuracy of running slice `i` at `levels[i]`: `full * prod_i(slices[i][l_i] / slices[i][0])`.
    ///
    /// A level beyond a curve is clamped to its last point; a slice without a level (a shorter vector) counts as
    /// full width, as does a curve whose full-width point is zero.
    /// - Parameter levels: The level of each slice.
    /// - Returns: The expected accuracy.
    public func expected(_ levels: [Int]) -> Double {
        var accuracy = full
        for (curve, level) in zip(slices, levels) {
            accuracy *= retained(curve, level)
        }
        return accuracy
    }

    /// The fraction of the full accuracy that one slice keeps at `level`.
    func retained(_ curve: [Double], _ level: Int) -> Double {
        guard let top = curve.first, top > 0 else { return 1 }
        return curve[min(max(level, 0), curve.count - 1)] / top
    }
}

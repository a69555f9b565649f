/// An exponentially weighted moving average of a non-negative measurement that restarts on a level shift.
///
/// The average alone lags a step: with weight 0.3 a node that slows down 2x reads as 1.3x, 1.51x, 1.66x, ...,
/// so the controller would prune it in a staircase over several batches. When ``shiftSamples`` samples in a row
/// differ from the average by more than the threshold in the same direction, the average restarts at their
/// mean. One outlier never restarts it, and noise smaller than the threshold never does.
struct Smoother: Sendable, Equatable {
    /// Samples in a row, beyond the threshold on one side, that count as a level shift.
    static let shiftSamples = 2

    /// The smoothed value; nil before the first sample.
    private(set) var value: Double?
    private var outliers: [Double] = []
    private var direction = 0

    /// Adds a sample.
    /// - Parameters:
    ///   - sample: The newest measurement; ignored unless finite and non-negative.
    ///   - weight: The weight of the newest sample in the average.
    ///   - shiftThreshold: The relative deviation that counts towards a level shift.
    mutating func add(_ sample: Double, weight: Double, shiftThreshold: Double) {
        guard sample.isFinite, sample >= 0 else { return }
        guard let current = value else {
            value = sample
            return
        }
        track(sample, side: side(of: sample, from: current, threshold: shiftThreshold))
        if outliers.count >= Self.shiftSamples {
            value = outliers.reduce(0, +) / Double(outliers.count)
            outliers.removeAll()
            direction = 0
        } else {
            value = weight * sample + (1 - weight) * current
        }
    }

    /// The value to plan with: the average, or the newest sample while it stands above the average by more than
    /// the threshold (a rise the shift detector has not confirmed yet). Planning for a slowdown only partly seen
    /// would change levels twice, once for the partial average and again when the shift is confirmed; a single
    /// high outlier costs at most one change and its relaxation instead.
    var planning: Double? {
        guard let value else { return nil }
        guard direction > 0, let newest = outliers.last else { return value }
        return max(value, newest)
    }

    /// Forgets every sample.
    mutating func reset() {
        self = Smoother()
    }

    private func side(of sample: Double, from current: Double, threshold: Double) -> Int {
        guard current > 0 else { return sample > 0 ? 1 : 0 }
        let deviation = (sample - current) / current
        return deviation > threshold ? 1 : deviation < -threshold ? -1 : 0
    }

    private mutating func track(_ sample: Double, side: Int) {
        if side != 0, side == direction {
            outliers.append(sample)
        } else {
            outliers = side == 0 ? [] : [sample]
            direction = side
        }
    }
}

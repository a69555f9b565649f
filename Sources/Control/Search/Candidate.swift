/// One level vector, by index in its ``LevelSpace``, with its prediction and expected accuracy.
struct Candidate: Sendable, Equatable {
    var index: Int
    var prediction: Prediction
    var accuracy: Double

    /// Accuracies closer than this are a tie: the table's products differ by rounding only.
    static let accuracyTolerance = 1e-12
    /// Overloads closer than this fraction are a tie.
    static let overloadTolerance = 1e-9

    /// Whether this vector is preferred to `other` among feasible ones: higher accuracy, then lower latency.
    func isMoreAccurate(than other: Candidate) -> Bool {
        if abs(accuracy - other.accuracy) > Self.accuracyTolerance { return accuracy > other.accuracy }
        return prediction.latencyMs < other.prediction.latencyMs
    }

    /// Whether this vector is preferred to `other` when nothing is feasible: smaller overload, then higher
    /// accuracy, then lower latency.
    func isLessOverloaded(than other: Candidate, under constraints: Constraints) -> Bool {
        let (mine, theirs) = (constraints.overload(prediction), constraints.overload(other.prediction))
        if abs(mine - theirs) > Self.overloadTolerance * max(abs(mine), abs(theirs)) { return mine < theirs }
        return isMoreAccurate(than: other)
    }
}

extension Optional where Wrapped == Candidate {
    /// Keeps the more accurate of the held candidate and `candidate`.
    mutating func keepMoreAccurate(_ candidate: Candidate) {
        if let held = self, !candidate.isMoreAccurate(than: held) { return }
        self = candidate
    }
}

/// What one exhaustive pass over the level space found.
struct SearchOutcome: Sendable {
    /// The current vector.
    var current: Candidate
    /// Whether the current vector meets both constraints.
    var currentFits: Bool
    /// The feasible vector with the highest accuracy (then lowest latency).
    var best: Candidate?
    /// The best feasible vector that sheds no less on any slice than the current one (each slice's predicted
    /// time no higher: with width levels alone that is "prunes more, never less"; it also orders slice options
    /// such as skip, whose index says nothing about their cost).
    var bestTightening: Candidate?
    /// The best vector more accurate than the current one that has fit within the relax margin for long enough.
    var bestRelaxation: Candidate?
    /// The best vector more accurate than the current one that fits within the relax margin now, however long.
    var pendingRelaxation: Candidate?
    /// The allowed vector that overshoots the constraints least.
    var leastOverloaded: Candidate
}

/// Searches every allowed level vector exactly (the space is at most ``LevelSpace/maximumCount``), and counts, per
/// vector, the consecutive batches it has fit within the relax margin.
struct LevelSearch: Sendable {
    let space: LevelSpace
    let model: StageModel
    let constraints: Constraints
    let relaxMargin: Double
    let relaxAfter: Int

    /// Runs the pass.
    /// - Parameters:
    ///   - current: The levels the pipeline runs at now.
    ///   - streaks: Per vector index, the consecutive batches it has fit within the margin; updated.
    func run(current: [Int], streaks: inout [Int]) -> SearchOutcome {
        let now = candidate(space.index(of: current), current)
        var outcome = SearchOutcome(
            current: now, currentFits: constraints.fits(now.prediction), leastOverloaded: now)
        var levels = [Int](repeating: 0, count: space.sliceCount)
        var stages = [Double](repeating: 0, count: model.stageCount)
        for index in 0..<space.count {
            defer { LevelSpace.advance(&levels, levelCount: space.levelCount) }
            guard space.allowed[index] else { continue }
            let found = Candidate(
                index: index, prediction: model.predict(levels, stages: &stages), accuracy: space.accuracy[index])
            streaks[index] = constraints.fits(found.prediction, margin: relaxMargin) ? streaks[index] + 1 : 0
            consider(
                found, tightening: levels.indices.allSatisfy { model.sheds(slice: $0, levels[$0], from: current[$0]) },
                streak: streaks[index],
                into: &outcome)
        }
        return outcome
    }

    private func consider(_ found: Candidate, tightening: Bool, streak: Int, into outcome: inout SearchOutcome) {
        if found.isLessOverloaded(than: outcome.leastOverloaded, under: constraints) {
            outcome.leastOverloaded = found
        }
        guard constraints.fits(found.prediction) else { return }
        outcome.best.keepMoreAccurate(found)
        if tightening { outcome.bestTightening.keepMoreAccurate(found) }
        guard streak > 0, found.accuracy > outcome.current.accuracy + Candidate.accuracyTolerance else { return }
        outcome.pendingRelaxation.keepMoreAccurate(found)
        if streak >= relaxAfter { outcome.bestRelaxation.keepMoreAccurate(found) }
    }

    private func candidate(_ index: Int, _ levels: [Int]) -> Candidate {
        Candidate(index: index, prediction: model.predict(levels), accuracy: space.accuracy[index])
    }
}

extension Controller {
    /// How the adaptive policy moved.
    enum Move: Sendable {
        /// The current levels still meet both constraints and no relaxation has lasted.
        case keep
        /// A more accurate vector has fit within the relax margin for `relaxAfter` batches.
        case relax
        /// The current levels miss; the best vector that only prunes more fits.
        case prune
        /// The current levels miss and no vector that only prunes more fits (the accuracy floor forbids it):
        /// the best vector that fits.
        case rebalance
        /// Nothing fits: the vector that overshoots least.
        case overloaded
    }

    /// Chooses and applies the adaptive policy's levels.
    mutating func adapt(_ model: StageModel, _ constraints: Constraints) -> Decision {
        let search = LevelSearch(
            space: space, model: model, constraints: constraints, relaxMargin: settings.relaxMargin,
            relaxAfter: settings.relaxAfter)
        let outcome = search.run(current: levels, streaks: &streaks)
        let (choice, move) = Self.choose(outcome)
        let reason = explain(move, choice: choice, outcome: outcome, constraints: constraints)
        return commit(
            space.levels(at: choice.index), reason: reason, prediction: choice.prediction, constraints: constraints,
            feasible: move != .overloaded)
    }

    /// Pruning more applies at once; pruning less (relaxing) only once the relaxed vector has lasted. Even when
    /// the current levels miss, a vector that only prunes more is preferred to one that also relaxes some slice,
    /// so that a slice is never relaxed without its own slack having lasted.
    static func choose(_ outcome: SearchOutcome) -> (Candidate, Move) {
        if outcome.currentFits {
            if let relaxed = outcome.bestRelaxation { return (relaxed, .relax) }
            return (outcome.current, .keep)
        }
        if let tightened = outcome.bestTightening { return (tightened, .prune) }
        if let best = outcome.best { return (best, .rebalance) }
        return (outcome.leastOverloaded, .overloaded)
    }
}

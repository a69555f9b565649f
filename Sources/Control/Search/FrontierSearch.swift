/// Levels and boundaries chosen together by the frontier search.
struct FrontierChoice: Sendable, Equatable {
    /// The level of each plan slice.
    var levels: [Int]
    /// Stage `s` runs units `bounds[s]..<bounds[s + 1]`.
    var bounds: [Int]
    /// The slowest stage or link.
    var bottleneckMs: Double
    /// The sum of every stage and link.
    var totalMs: Double
    /// The expected accuracy, multiplied in slice order as ``AccuracyTable/expected(_:)`` does.
    var accuracy: Double
}

/// The joint search of levels and boundaries without enumerating level vectors, for rings whose level space is
/// too large to walk every batch (5 options on 16 slices is 1.5e11 vectors).
///
/// A dynamic programme over stages in ring order. A state is (stages placed, units covered, the level of the plan
/// slice the last boundary cuts through, if it does); stage `s` running units `lower..<upper` chooses the levels of
/// the plan slices that start in that range. Each state keeps the Pareto front of its partial choices by total time,
/// slowest stage and accuracy: the rest of the ring adds the same times and multiplies the same fractions to each,
/// so a partial choice that another beats on all three can never become the best. The slowest stage matters only
/// under a backlog (latency is `backlog * bottleneck + total`); without one it is dropped from the comparison
/// and checked against the cap alone. Exact: the best choice equals the brute force over every vector and every
/// partition (`FrontierSearchTests`).
///
/// Its cost grows with stages times units times the options of the few slices one stage can start, times the
/// fronts' sizes, rather than with options to the power of slices.
struct FrontierSearch: Sendable {
    let costs: JointCosts
    /// Per plan slice, per option: the fraction of the full accuracy the slice keeps.
    let retained: [[Double]]
    let full: Double
    let sliceCount: Int

    /// Prepares a search over one batch's predicted costs.
    init(costs: JointCosts, table: AccuracyTable, sliceCount: Int) {
        self.costs = costs
        self.full = table.full
        self.sliceCount = sliceCount
        self.retained = (0..<sliceCount).map { slice in
            (0..<costs.optionCount).map { option in
                slice < table.slices.count ? table.retained(table.slices[slice], option) : 1
            }
        }
    }

    /// One partial choice: where it came from and what it chose.
    private struct Label {
        var totalMs: Double
        var bottleneckMs: Double
        var accuracy: Double
        /// The label it extends (-1: the start).
        var parent: Int32
        /// The first unit of the stage it added.
        var lower: Int16
        /// The first plan slice whose level it chose (the options of slices `firstFree...` in mixed radix).
        var firstFree: Int16
        var chosenCount: Int16
        var code: Int32
    }

    /// The most accurate levels and boundaries whose every stage and link takes at most `capMs` and whose latency
    /// `backlog * bottleneck + total` is at most `deadlineMs`; among equally accurate ones (within
    /// ``Candidate/accuracyTolerance``), the one with the least latency.
    /// - Parameters:
    ///   - options: Per slice, the options it may take (nil: all).
    ///   - floor: The least accuracy allowed.
    /// - Returns: The choice, or nil when nothing fits.
    ///   - above: Only choices more accurate than this are wanted (with ``Candidate/accuracyTolerance``): partial
    ///     choices that cannot reach it, even with every later slice at its most accurate option, are dropped.
    func best(
        capMs: Double, deadlineMs: Double, options: [[Bool]]? = nil, floor: Double = -.infinity,
        above: Double = -.infinity
    ) -> FrontierChoice? {
        let stageCount = costs.stageCount
        let unitCount = costs.unitCount
        let optionCount = costs.optionCount
        let slice = costs.sliceOfUnit
        guard stageCount >= 1, unitCount >= stageCount, slice.count == unitCount else { return nil }
        let backlog = costs.backlogBatches
        let useBottleneck = backlog > 0
        let carries = optionCount + 1  // the carried level, or `optionCount` for none
        let none = optionCount
        func state(_ stage: Int, _ unit: Int, _ carry: Int) -> Int {
            (stage * (unitCount + 1) + unit) * carries + carry
        }
        var labels: [Label] = [
            Label(
                totalMs: 0, bottleneckMs: 0, accuracy: full, parent: -1, lower: 0, firstFree: 0, chosenCount: 0,
                code: 0)
        ]
        var fronts = [[Int32]](repeating: [], count: (stageCount + 1) * (unitCount + 1) * carries)
        fronts[state(0, 0, none)] = [0]
        let allowed = (0..<sliceCount).map { s in
            (0..<optionCount).filter { option in options.map { s < $0.count && $0[s][option] } ?? true }
        }
        // The most accuracy slices `s...` can keep: the product of their best allowed options.
        var reachable = [Double](repeating: 1, count: sliceCount + 1)
        for slice in stride(from: sliceCount - 1, through: 0, by: -1) {
            reachable[slice] = reachable[slice + 1] * (allowed[slice].map { retained[slice][$0] }.max() ?? 0)
        }
        let wanted = max(floor, above.isFinite ? above + Candidate.accuracyTolerance : -.infinity)
        var levels = [Int](repeating: 0, count: sliceCount)
        var odometer = [Int](repeating: 0, count: sliceCount)
        for stage in 0..<stageCount {
            let lastStage = stage == stageCount - 1
            for lower in stage...(unitCount - (stageCount - stage)) {
                let hop = stage == 0 ? 0 : costs.linkMs[(stage - 1) * (unitCount + 1) + lower]
                guard hop <= capMs else { continue }
                for carry in 0..<carries {
                    let front = fronts[state(stage, lower, carry)]
                    guard !front.isEmpty else { continue }
                    let uppers =
                        lastStage ? unitCount...unitCount : (lower + 1)...(unitCount - (stageCount - stage - 1))
                    for upper in uppers {
                        let firstFree = carry == none ? slice[lower] : slice[lower] + 1
                        let lastSlice = slice[upper - 1]
                        if carry != none { levels[slice[lower]] = carry }
                        let chosen = max(lastSlice - firstFree + 1, 0)
                        if (0..<chosen).contains(where: { allowed[firstFree + $0].isEmpty }) { continue }
                        for index in 0..<chosen { odometer[index] = 0 }
                        var code: Int32 = 0
                        var anyFits = false
                        while true {
                            for index in 0..<chosen {
                                levels[firstFree + index] = allowed[firstFree + index][odometer[index]]
                            }
                            var stageMs = stage < costs.overheadMs.count ? costs.overheadMs[stage] : 0
                            for unit in lower..<upper {
                                stageMs += costs.unitMs[(stage * unitCount + unit) * optionCount + levels[slice[unit]]]
                            }
                            if stageMs <= capMs {
                                anyFits = true
                                let carried = upper < unitCount && slice[upper] == lastSlice ? levels[lastSlice] : none
                                let target = state(stage + 1, upper, carried)
                                for from in front {
                                    let previous = labels[Int(from)]
                                    let total = previous.totalMs + hop + stageMs
                                    let bottleneck = max(previous.bottleneckMs, hop, stageMs)
                                    guard backlog * bottleneck + total <= deadlineMs else { continue }
                                    var accuracy = previous.accuracy
                                    for index in 0..<chosen {
                                        accuracy *= retained[firstFree + index][levels[firstFree + index]]
                                    }
                                    guard accuracy * reachable[lastSlice + 1] >= wanted else { continue }
                                    let label = Label(
                                        totalMs: total, bottleneckMs: bottleneck, accuracy: accuracy, parent: from,
                                        lower: Int16(lower), firstFree: Int16(firstFree), chosenCount: Int16(chosen),
                                        code: code)
                                    Self.insert(
                                        label, into: &fronts[target], labels: &labels, byBottleneck: useBottleneck)
                                }
                            }
                            // The next combination of the chosen slices' options.
                            var index = chosen - 1
                            while index >= 0 {
                                odometer[index] += 1
                                if odometer[index] < allowed[firstFree + index].count { break }
                                odometer[index] = 0
                                index -= 1
                            }
                            if index < 0 { break }
                            code += 1
                        }
                        // A longer range only adds units (no time is negative): if no choice fits now, none will.
                        if !anyFits { break }
                    }
                }
            }
        }
        return choose(
            fronts[state(stageCount, unitCount, none)], labels: labels, allowed: allowed, floor: wanted,
            backlog: backlog)
    }

    /// Adds a label to a front unless one there is no worse on every count; drops those it beats.
    /// `byBottleneck` false compares total and accuracy only (without a backlog the slowest stage is only capped):
    /// the front is then kept sorted by total time, accuracy rising with it, and a label is placed by bisection.
    private static func insert(_ label: Label, into front: inout [Int32], labels: inout [Label], byBottleneck: Bool) {
        guard !byBottleneck else {
            func beats(_ a: Label, _ b: Label) -> Bool {
                a.totalMs <= b.totalMs && a.accuracy >= b.accuracy && a.bottleneckMs <= b.bottleneckMs
            }
            for held in front where beats(labels[Int(held)], label) { return }
            front.removeAll { beats(label, labels[Int($0)]) }
            front.append(Int32(labels.count))
            labels.append(label)
            return
        }
        // The first position whose total exceeds the label's.
        var (low, high) = (0, front.count)
        while low < high {
            let middle = (low + high) / 2
            if labels[Int(front[middle])].totalMs <= label.totalMs { low = middle + 1 } else { high = middle }
        }
        // The label just before has the most accuracy of every label no slower than this one.
        if low > 0, labels[Int(front[low - 1])].accuracy >= label.accuracy { return }
        // Drop the labels it beats: one as fast (just before it) and the slower ones no more accurate (just after).
        var start = low
        if start > 0, labels[Int(front[start - 1])].totalMs == label.totalMs { start -= 1 }
        var end = low
        while end < front.count, labels[Int(front[end])].accuracy <= label.accuracy { end += 1 }
        front.replaceSubrange(start..<end, with: [Int32(labels.count)])
        labels.append(label)
    }

    /// The most accurate complete choice at or above the floor (ties: the least latency), traced back.
    private func choose(_ front: [Int32], labels: [Label], allowed: [[Int]], floor: Double, backlog: Double)
        -> FrontierChoice?
    {
        var best: Label?
        for index in front {
            let label = labels[Int(index)]
            guard label.accuracy >= floor else { continue }
            guard let held = best else {
                best = label
                continue
            }
            let latency = backlog * label.bottleneckMs + label.totalMs
            let heldLatency = backlog * held.bottleneckMs + held.totalMs
            if label.accuracy > held.accuracy + Candidate.accuracyTolerance
                || (abs(label.accuracy - held.accuracy) <= Candidate.accuracyTolerance && latency < heldLatency)
            {
                best = label
            }
        }
        guard let best else { return nil }
        var levels = [Int](repeating: 0, count: sliceCount)
        var bounds = [costs.unitCount]
        var label = best
        while label.parent >= 0 {
            bounds.append(Int(label.lower))
            var code = Int(label.code)
            for index in stride(from: Int(label.chosenCount) - 1, through: 0, by: -1) {
                let slice = Int(label.firstFree) + index
                let choices = allowed[slice]
                levels[slice] = choices[code % choices.count]
                code /= choices.count
            }
            label = labels[Int(label.parent)]
        }
        return FrontierChoice(
            levels: levels, bounds: bounds.reversed(), bottleneckMs: best.bottleneckMs, totalMs: best.totalMs,
            accuracy: best.accuracy)
    }
}

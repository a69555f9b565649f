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

    /// The most accurate levels and boundaries whose every stage and link takes at most `capMs` and whose latency
    /// `backlog * bottleneck + total` is at most `deadlineMs`; among equally accurate ones (within
    /// ``Candidate/accuracyTolerance``), the one with the least latency.
    /// - Parameters:
    ///   - options: Per slice, the options it may take (nil: all).
    ///   - floor: The least accuracy allowed.
    ///   - above: Only choices more accurate than this are wanted (with ``Candidate/accuracyTolerance``): partial
    ///     choices that cannot reach it, even with every later slice at its most accurate option, are dropped.
    /// - Returns: The choice, or nil when nothing fits.
    func best(
        capMs: Double, deadlineMs: Double, options: [[Bool]]? = nil, floor: Double = -.infinity,
        above: Double = -.infinity
    ) -> FrontierChoice? {
        guard costs.stageCount >= 1, costs.unitCount >= costs.stageCount, costs.sliceOfUnit.count == costs.unitCount
        else { return nil }
        let allowed = (0..<sliceCount).map { s in
            (0..<costs.optionCount).filter { option in options.map { s < $0.count && $0[s][option] } ?? true }
        }
        let wanted = max(floor, above.isFinite ? above + Candidate.accuracyTolerance : -.infinity)
        var run = FrontierRun(search: self, capMs: capMs, deadlineMs: deadlineMs, allowed: allowed, wanted: wanted)
        for stage in 0..<costs.stageCount { run.place(stage) }
        return run.choose()
    }
}

/// One partial choice of the frontier search: where it came from and what it chose.
private struct FrontierLabel {
    var totalMs: Double
    var bottleneckMs: Double
    var accuracy: Double
    /// The label it extends (-1: the start).
    var parent: Int32
    /// The first unit of the stage it added.
    var lower: Int16
    /// The first plan slice whose level it chose, and how many (their options in mixed radix in `code`).
    var firstFree: Int16
    var chosenCount: Int16
    var code: Int32
}

/// One run of ``FrontierSearch/best(capMs:deadlineMs:options:floor:above:)``: every label made, and each state's
/// front of label indices.
private struct FrontierRun {
    let costs: JointCosts
    let retained: [[Double]]
    let capMs: Double
    let deadlineMs: Double
    let wanted: Double
    /// Per slice, the options it may take.
    let allowed: [[Int]]
    /// The most accuracy slices `s...` can keep: the product of their best allowed options.
    let reachable: [Double]
    /// The carried level's "none": a boundary between plan slices.
    let none: Int
    let byBottleneck: Bool
    var labels: [FrontierLabel]
    var fronts: [[Int32]]
    /// Scratch: each slice's level in the combination being tried, and the combination's counter.
    var levels: [Int]
    var odometer: [Int]

    init(search: FrontierSearch, capMs: Double, deadlineMs: Double, allowed: [[Int]], wanted: Double) {
        costs = search.costs
        retained = search.retained
        self.capMs = capMs
        self.deadlineMs = deadlineMs
        self.wanted = wanted
        self.allowed = allowed
        var reachable = [Double](repeating: 1, count: search.sliceCount + 1)
        for slice in stride(from: search.sliceCount - 1, through: 0, by: -1) {
            reachable[slice] = reachable[slice + 1] * (allowed[slice].map { search.retained[slice][$0] }.max() ?? 0)
        }
        self.reachable = reachable
        none = costs.optionCount
        byBottleneck = costs.backlogBatches > 0
        labels = [
            FrontierLabel(
                totalMs: 0, bottleneckMs: 0, accuracy: search.full, parent: -1, lower: 0, firstFree: 0,
                chosenCount: 0, code: 0)
        ]
        fronts = Array(repeating: [], count: (costs.stageCount + 1) * (costs.unitCount + 1) * (none + 1))
        levels = Array(repeating: 0, count: search.sliceCount)
        odometer = Array(repeating: 0, count: search.sliceCount)
        fronts[state(0, 0, none)] = [0]
    }

    func state(_ stage: Int, _ unit: Int, _ carry: Int) -> Int {
        (stage * (costs.unitCount + 1) + unit) * (none + 1) + carry
    }

    /// Extends every front of stages `0..<stage` by stage `stage`.
    mutating func place(_ stage: Int) {
        let (stages, units) = (costs.stageCount, costs.unitCount)
        for lower in stage...(units - (stages - stage)) {
            let hop = stage == 0 ? 0 : costs.linkMs[(stage - 1) * (units + 1) + lower]
            guard hop <= capMs else { continue }
            for carry in 0...none where !fronts[state(stage, lower, carry)].isEmpty {
                let uppers = stage == stages - 1 ? units...units : (lower + 1)...(units - (stages - stage - 1))
                // A longer range only adds units (no time is negative): once none fits the cap, none will.
                for upper in uppers {
                    if !extend(stage, lower..<upper, carry: carry, hopMs: hop) { break }
                }
            }
        }
    }

    /// Tries every combination of options for the slices that start in `range`, run by `stage` after the state's
    /// labels. Returns whether any combination kept the stage within the cap.
    mutating func extend(_ stage: Int, _ range: Range<Int>, carry: Int, hopMs: Double) -> Bool {
        let slice = costs.sliceOfUnit
        let firstFree = carry == none ? slice[range.lowerBound] : slice[range.lowerBound] + 1
        let lastSlice = slice[range.upperBound - 1]
        let chosen = max(lastSlice - firstFree + 1, 0)
        if carry != none { levels[slice[range.lowerBound]] = carry }
        if (0..<chosen).contains(where: { allowed[firstFree + $0].isEmpty }) { return false }
        for index in 0..<chosen { odometer[index] = 0 }
        var code: Int32 = 0
        var anyFits = false
        repeat {
            for index in 0..<chosen { levels[firstFree + index] = allowed[firstFree + index][odometer[index]] }
            let stageMs = stageTime(stage, range)
            if stageMs <= capMs {
                anyFits = true
                let carried =
                    range.upperBound < costs.unitCount && slice[range.upperBound] == lastSlice
                    ? levels[lastSlice] : none
                let step = Step(
                    stage: stage, range: range, hopMs: hopMs, stageMs: stageMs, firstFree: firstFree,
                    chosen: chosen, code: code, target: state(stage + 1, range.upperBound, carried))
                add(step, after: state(stage, range.lowerBound, carry))
            }
            code += 1
        } while nextCombination(firstFree: firstFree, chosen: chosen)
        return anyFits
    }

    /// What one stage adds to a label.
    struct Step {
        var stage: Int
        var range: Range<Int>
        var hopMs: Double
        var stageMs: Double
        var firstFree: Int
        var chosen: Int
        var code: Int32
        var target: Int
    }

    /// The stage's time on `range` at the scratch levels: its work outside the units plus the units'.
    func stageTime(_ stage: Int, _ range: Range<Int>) -> Double {
        var ms = stage < costs.overheadMs.count ? costs.overheadMs[stage] : 0
        for unit in range {
            ms += costs.unitMs[(stage * costs.unitCount + unit) * costs.optionCount + levels[costs.sliceOfUnit[unit]]]
        }
        return ms
    }

    /// Steps the odometer over the chosen slices' allowed options; false after the last combination.
    mutating func nextCombination(firstFree: Int, chosen: Int) -> Bool {
        var index = chosen - 1
        while index >= 0 {
            odometer[index] += 1
            if odometer[index] < allowed[firstFree + index].count { return true }
            odometer[index] = 0
            index -= 1
        }
        return false
    }

    /// Extends every label of the state `from` by one step, into the step's target front.
    mutating func add(_ step: Step, after from: Int) {
        // The last slice decided (the carried one when the stage starts none).
        let lastSlice = step.firstFree + step.chosen - 1
        for parent in fronts[from] {
            let previous = labels[Int(parent)]
            let total = previous.totalMs + step.hopMs + step.stageMs
            let bottleneck = max(previous.bottleneckMs, step.hopMs, step.stageMs)
            guard costs.backlogBatches * bottleneck + total <= deadlineMs else { continue }
            var accuracy = previous.accuracy
            for slice in step.firstFree..<(step.firstFree + step.chosen) { accuracy *= retained[slice][levels[slice]] }
            guard accuracy * reachable[lastSlice + 1] >= wanted else { continue }
            insert(
                FrontierLabel(
                    totalMs: total, bottleneckMs: bottleneck, accuracy: accuracy, parent: parent,
                    lower: Int16(step.range.lowerBound), firstFree: Int16(step.firstFree),
                    chosenCount: Int16(step.chosen), code: step.code),
                into: step.target)
        }
    }

    /// Adds a label to a front unless one there is no worse on every count; drops those it beats. Without a
    /// backlog a front is kept sorted by total time, accuracy rising with it, and a label is placed by bisection.
    mutating func insert(_ label: FrontierLabel, into target: Int) {
        guard !byBottleneck else {
            func beats(_ a: FrontierLabel, _ b: FrontierLabel) -> Bool {
                a.totalMs <= b.totalMs && a.accuracy >= b.accuracy && a.bottleneckMs <= b.bottleneckMs
            }
            for held in fronts[target] where beats(labels[Int(held)], label) { return }
            fronts[target].removeAll { beats(label, labels[Int($0)]) }
            fronts[target].append(Int32(labels.count))
            labels.append(label)
            return
        }
        let front = fronts[target]
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
        fronts[target].replaceSubrange(start..<end, with: [Int32(labels.count)])
        labels.append(label)
    }

    /// The most accurate complete choice at or above the wanted accuracy (ties: the least latency), traced back.
    func choose() -> FrontierChoice? {
        let backlog = costs.backlogBatches
        var best: FrontierLabel?
        for index in fronts[state(costs.stageCount, costs.unitCount, none)] {
            let label = labels[Int(index)]
            guard label.accuracy >= wanted else { continue }
            guard let held = best else {
                best = label
                continue
            }
            let (latency, heldLatency) = (
                backlog * label.bottleneckMs + label.totalMs, backlog * held.bottleneckMs + held.totalMs
            )
            if label.accuracy > held.accuracy + Candidate.accuracyTolerance
                || (abs(label.accuracy - held.accuracy) <= Candidate.accuracyTolerance && latency < heldLatency)
            {
                best = label
            }
        }
        return best.map(trace)
    }

    /// The levels and boundaries a complete label chose, from its chain of parents.
    func trace(_ best: FrontierLabel) -> FrontierChoice {
        var levels = [Int](repeating: 0, count: self.levels.count)
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

import Testing

@testable import Control

/// The frontier search (levels and boundaries together, without enumerating level vectors) against the brute force
/// over every level vector and every partition, on random rings of up to 8 slices.
@Suite struct FrontierSearchTests {
    /// A random ring: `stages` stages, one plan slice per stage, `units` units cut into slices at random.
    struct Case {
        var costs: JointCosts
        var plan: [Int]
        var table: AccuracyTable
        var capMs: Double
        var deadlineMs: Double
        var options: [[Bool]]?
        var floor: Double

        init(_ random: inout SplitMix64, stages: Int, options optionCount: Int, masked: Bool) {
            let units = random.int(stages...(stages + 3))
            // Slice boundaries at random: `stages - 1` distinct cuts among the units' inner boundaries.
            var cuts = Set<Int>()
            while cuts.count < stages - 1 { cuts.insert(random.int(1...(units - 1))) }
            plan = [0] + cuts.sorted() + [units]
            var sliceOfUnit: [Int] = []
            for slice in 0..<stages { sliceOfUnit += Array(repeating: slice, count: plan[slice + 1] - plan[slice]) }
            // Option 0 is full width; the others cost 30-100% of it on each stage (a skip may cost more than a width).
            var unitMs: [Double] = []
            for _ in 0..<stages {
                let slow = random.double(0.7...3)
                for _ in 0..<units {
                    let base = slow * random.double(0.5...12)
                    unitMs.append(base)
                    for _ in 1..<optionCount { unitMs.append(base * random.double(0.3...1)) }
                }
            }
            let linkMs = (0..<(stages * (units + 1))).map { _ in random.double(0...6) }
            var costs = JointCosts(
                stageCount: stages, unitCount: units, optionCount: optionCount, unitMs: unitMs, linkMs: linkMs,
                sliceOfUnit: sliceOfUnit, backlogBatches: Double(random.int(0...2)))
            costs.overheadMs = (0..<stages).map { _ in random.int(0...2) == 0 ? random.double(0...20) : 0 }
            self.costs = costs
            self.table = AccuracyTable(
                full: random.double(0.8...1),
                slices: (0..<stages).map { _ in [1] + (1..<optionCount).map { _ in random.double(0.5...1) } })
            // The full-width network on an average stage; caps and deadlines on both sides of what it needs.
            let network =
                stride(from: 0, to: unitMs.count, by: optionCount).reduce(0.0) { $0 + unitMs[$1] }
                / Double(stages)
            capMs = random.double(0.5...1.6) * network / Double(stages)
            deadlineMs = random.double(0.5...1.5) * network * (1 + costs.backlogBatches / Double(stages))
            self.options =
                masked
                ? (0..<stages).map { _ in
                    var allowed = (0..<optionCount).map { _ in random.int(0...2) > 0 }
                    allowed[random.int(0...(optionCount - 1))] = true
                    return allowed
                } : nil
            floor = random.int(0...2) == 0 ? random.double(0.3...0.9) : -.infinity
        }

        /// The stage and link times of one vector on one partition, summed here in unit order.
        func timing(_ levels: [Int], _ bounds: [Int]) -> (bottleneck: Double, latency: Double) {
            var bottleneck = 0.0
            var total = 0.0
            let units = costs.unitCount
            for stage in 0..<costs.stageCount {
                var ms = costs.overheadMs[stage]
                for unit in bounds[stage]..<bounds[stage + 1] {
                    ms += costs.unitMs[(stage * units + unit) * costs.optionCount + levels[costs.sliceOfUnit[unit]]]
                }
                bottleneck = max(bottleneck, ms)
                total += ms
                if stage > 0 {
                    let link = costs.linkMs[(stage - 1) * (units + 1) + bounds[stage]]
                    bottleneck = max(bottleneck, link)
                    total += link
                }
            }
            return (bottleneck, costs.backlogBatches * bottleneck + total)
        }

        /// The brute force: the best accuracy that fits, and the least latency among vectors that reach it.
        func bruteForce() -> (accuracy: Double, latency: Double)? {
            let partitions = RepartitionTests.Ring.partitions(units: costs.unitCount, parts: costs.stageCount)
            var best: (accuracy: Double, latency: Double)?
            var levels = [Int](repeating: 0, count: costs.stageCount)
            for _ in 0..<Int(pow(costs.optionCount, costs.stageCount)) {
                defer { LevelSpace.advance(&levels, levelCount: costs.optionCount) }
                if let options, levels.indices.contains(where: { !options[$0][levels[$0]] }) { continue }
                let accuracy = table.expected(levels)
                guard accuracy >= floor else { continue }
                if let held = best, accuracy < held.accuracy - Candidate.accuracyTolerance { continue }
                for bounds in partitions {
                    let (bottleneck, latency) = timing(levels, bounds)
                    guard bottleneck <= capMs, latency <= deadlineMs else { continue }
                    if let held = best, abs(accuracy - held.accuracy) <= Candidate.accuracyTolerance {
                        best = (max(accuracy, held.accuracy), min(latency, held.latency))
                    } else if best == nil || accuracy > best!.accuracy {
                        best = (accuracy, latency)
                    }
                }
            }
            return best
        }
    }

    private static func pow(_ base: Int, _ exponent: Int) -> Double {
        (0..<exponent).reduce(1.0) { product, _ in product * Double(base) }
    }

    /// Random rings of 1-8 slices (5 options up to 5 slices, 3 beyond, so the brute force stays quick), with and
    /// without a backlog, a per-slice option mask and an accuracy floor: the search finds a choice exactly when the
    /// brute force does, as accurate (the two multiply the same fractions in the same order, so equal to rounding
    /// of the tie tolerance, 1e-12), with no more latency than the brute force's least among equally accurate
    /// vectors (both sum the same times in another order: relative 1e-12), and its choice meets both bounds when
    /// timed here.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func bestEqualsBruteForce(stages: Int) {
        var random = SplitMix64(seed: UInt64(40 + stages))
        var outcomes = (found: 0, none: 0)
        let optionCount = stages <= 5 ? 5 : 3
        for trial in 0..<(stages <= 6 ? 60 : 20) {
            let test = Case(&random, stages: stages, options: optionCount, masked: trial % 3 == 2)
            let search = FrontierSearch(costs: test.costs, table: test.table, sliceCount: stages)
            let found = search.best(
                capMs: test.capMs, deadlineMs: test.deadlineMs, options: test.options, floor: test.floor)
            let reference = test.bruteForce()
            #expect((found == nil) == (reference == nil), "trial \(trial)")
            guard let found, let reference else {
                outcomes.none += 1
                continue
            }
            outcomes.found += 1
            #expect(abs(found.accuracy - reference.accuracy) <= Candidate.accuracyTolerance, "trial \(trial)")
            #expect(found.accuracy == test.table.expected(found.levels))
            let (bottleneck, latency) = test.timing(found.levels, found.bounds)
            #expect(bottleneck <= test.capMs * (1 + 1e-12) && latency <= test.deadlineMs * (1 + 1e-12))
            #expect(latency <= reference.latency * (1 + 1e-12), "trial \(trial)")
            #expect(abs(bottleneck - found.bottleneckMs) <= 1e-12 * bottleneck)
            if let options = test.options {
                #expect(found.levels.indices.allSatisfy { options[$0][found.levels[$0]] })
            }
        }
        // Both outcomes occur, so that each side of the comparison is exercised.
        #expect(outcomes.found >= 3 && outcomes.none >= 1, "\(outcomes)")
    }
}

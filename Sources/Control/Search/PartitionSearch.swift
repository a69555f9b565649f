/// The timing of one partition of the units over the stages: its slowest stage or link, and the sum of every
/// stage and link (the time a batch spends in the ring when nothing is queued).
public struct PartitionTiming: Sendable, Equatable {
    /// The time of the slowest stage or link.
    public var bottleneckMs: Double
    /// The sum of every stage's and link's time.
    public var totalMs: Double
}

/// Where the units go for one level vector: stage `s` runs units `bounds[s]..<bounds[s + 1]` (at least one),
/// in ring order, and sends its output to stage `s + 1`.
///
/// Costs are given per stage and unit (a stage is a node, and a slow node's units cost more on it), links per
/// sending stage and boundary (the activation entering unit `b` differs in size from one boundary to the next).
struct PartitionSearch: Sendable {
    let stageCount: Int
    let unitCount: Int
    /// `prefix[s * (unitCount + 1) + u]`: the cost of units `0..<u` on stage `s`.
    private var prefix: [Double]
    /// `link[s * (unitCount + 1) + b]`: stage `s` sending the activation entering unit `b` to stage `s + 1`.
    private var link: [Double]
    /// Per stage: time it spends on the batch whatever units it runs (the head preparing the images).
    private var overhead: [Double]

    /// Creates a search with every cost zero.
    init(stageCount: Int, unitCount: Int) {
        self.stageCount = stageCount
        self.unitCount = unitCount
        prefix = Array(repeating: 0, count: stageCount * (unitCount + 1))
        link = Array(repeating: 0, count: stageCount * (unitCount + 1))
        overhead = Array(repeating: 0, count: stageCount)
    }

    /// Sets the costs of one level vector.
    /// - Parameters:
    ///   - unitMs: `unitMs(stage, unit)`: the unit's time on the stage.
    ///   - linkMs: `linkMs(stage, boundary)`: the stage's transfer of that boundary's activation.
    ///   - overheadMs: `overheadMs(stage)`: the stage's time on the batch outside its units (0: none).
    mutating func set(
        unitMs: (Int, Int) -> Double, linkMs: (Int, Int) -> Double, overheadMs: (Int) -> Double = { _ in 0 }
    ) {
        let width = unitCount + 1
        for stage in 0..<stageCount {
            overhead[stage] = overheadMs(stage)
            var sum = 0.0
            prefix[stage * width] = 0
            for unit in 0..<unitCount {
                sum += unitMs(stage, unit)
                prefix[stage * width + unit + 1] = sum
            }
            for boundary in 0...unitCount { link[stage * width + boundary] = linkMs(stage, boundary) }
        }
    }

    func stageMs(_ stage: Int, _ lower: Int, _ upper: Int) -> Double {
        overhead[stage] + prefix[stage * (unitCount + 1) + upper] - prefix[stage * (unitCount + 1) + lower]
    }

    func linkMs(_ stage: Int, _ boundary: Int) -> Double {
        link[stage * (unitCount + 1) + boundary]
    }

    /// Times one partition.
    func timing(_ bounds: [Int]) -> PartitionTiming {
        var bottleneck = 0.0
        var total = 0.0
        for stage in 0..<stageCount {
            let ms = stageMs(stage, bounds[stage], bounds[stage + 1])
            bottleneck = max(bottleneck, ms)
            total += ms
            if stage + 1 < stageCount {
                let hop = linkMs(stage, bounds[stage + 1])
                bottleneck = max(bottleneck, hop)
                total += hop
            }
        }
        return PartitionTiming(bottleneckMs: bottleneck, totalMs: total)
    }

    /// The partition with the least total time among those whose every stage and link takes at most `capMs`:
    /// an exact dynamic programme over (stages placed, units covered), O(stages x units^2).
    /// - Returns: The bounds, or nil when no partition keeps every stage and link within the cap.
    func leastTotal(capMs: Double) -> [Int]? {
        solve { _, previous, stage, hop in
            guard stage <= capMs, hop <= capMs else { return nil }
            return (0, previous.1 + stage + hop)
        }
    }

    /// The partition with the least latency `backlog * bottleneck + total` among those whose every stage and link
    /// takes at most `capMs`, exact.
    ///
    /// Without a backlog that is ``leastTotal(capMs:)``. With one, the best partition's bottleneck is one of the
    /// stage or link times, so sweeping the cap up through them and taking the least total under each finds it:
    /// under the cap equal to its bottleneck the least total is no larger than its own. The sweep stops once
    /// `backlog * cap` plus the least total under the full cap (no partition under the cap has less) reaches the
    /// best latency found.
    func leastLatency(capMs: Double, backlog: Double) -> [Int]? {
        guard let loose = leastTotal(capMs: capMs) else { return nil }
        guard backlog > 0 else { return loose }
        let looseTiming = timing(loose)
        var best = loose
        var bestMs = backlog * looseTiming.bottleneckMs + looseTiming.totalMs
        for cap in capCandidates(upTo: min(capMs, looseTiming.bottleneckMs)) {
            if backlog * cap + looseTiming.totalMs >= bestMs { break }
            guard let bounds = leastTotal(capMs: cap) else { continue }
            let found = timing(bounds)
            let ms = backlog * found.bottleneckMs + found.totalMs
            if ms < bestMs {
                best = bounds
                bestMs = ms
            }
        }
        return best
    }

    /// Every stage and link time up to `limit`, ascending: the bottlenecks a partition can have.
    private func capCandidates(upTo limit: Double) -> [Double] {
        var values: [Double] = []
        for stage in 0..<stageCount {
            for lower in 0..<unitCount {
                for upper in (lower + 1)...unitCount {
                    let ms = stageMs(stage, lower, upper)
                    if ms <= limit { values.append(ms) }
                }
            }
            if stage + 1 < stageCount {
                for boundary in 1..<unitCount where linkMs(stage, boundary) <= limit {
                    values.append(linkMs(stage, boundary))
                }
            }
        }
        return values.sorted()
    }

    /// The partition whose slowest stage or link is fastest (ties: the least total), exact over every partition:
    /// the min-max recurrence carries (bottleneck, total) pairs ordered by bottleneck first.
    ///
    /// For the bottleneck the recurrence is exact (the max of a prefix and the next stage is monotone in the
    /// prefix's max). The total among partitions of equal bottleneck is the least one the recurrence keeps,
    /// which can miss a tie that a worse prefix would have reached: only the bottleneck is promised.
    func leastBottleneck() -> [Int] {
        solve { _, previous, stage, hop in (max(previous.0, stage, hop), previous.1 + stage + hop) } ?? even
    }

    /// Contiguous ranges of (almost) equal unit counts: a fallback that is never needed when every stage has a
    /// unit (``solve`` always finds a partition then).
    var even: [Int] {
        (0...stageCount).map { $0 * unitCount / stageCount }
    }

    /// The dynamic programme shared by both searches: `best[s][u]` is the best (key, total) for stages `0..<s`
    /// covering units `0..<u`, where stage `s - 1` ends at unit `u`. `step` combines a prefix with the next stage
    /// and the link into it (nil: not allowed). Pairs compare lexicographically.
    private func solve(
        _ step: (_ stageIndex: Int, _ previous: (Double, Double), _ stageMs: Double, _ hopMs: Double) -> (
            Double, Double
        )?
    ) -> [Int]? {
        guard stageCount >= 1, unitCount >= stageCount else { return nil }
        let width = unitCount + 1
        let unreachable = (Double.infinity, Double.infinity)
        var best = Array(repeating: unreachable, count: (stageCount + 1) * width)
        var from = Array(repeating: -1, count: (stageCount + 1) * width)
        best[0] = (0, 0)
        for stage in 0..<stageCount {
            // Stage `stage` runs units lower..<upper; every later stage needs at least one unit.
            let lastUpper = unitCount - (stageCount - stage - 1)
            for upper in (stage + 1)...lastUpper {
                if stage == stageCount - 1, upper != unitCount { continue }
                for lower in stage..<upper {
                    let previous = best[stage * width + lower]
                    guard previous.0.isFinite else { continue }
                    let hop = stage == 0 ? 0 : linkMs(stage - 1, lower)
                    guard let next = step(stage, previous, stageMs(stage, lower, upper), hop) else { continue }
                    let index = (stage + 1) * width + upper
                    if next < best[index] {
                        best[index] = next
                        from[index] = lower
                    }
                }
            }
        }
        guard best[stageCount * width + unitCount].0.isFinite else { return nil }
        var bounds = [Int](repeating: 0, count: stageCount + 1)
        bounds[stageCount] = unitCount
        for stage in stride(from: stageCount, to: 0, by: -1) {
            bounds[stage - 1] = from[stage * width + bounds[stage]]
        }
        return bounds
    }
}

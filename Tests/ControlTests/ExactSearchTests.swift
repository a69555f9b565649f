import Control
import Testing

/// A one-batch situation, solved by brute force in the test and by the controller.
struct SearchCase: Sendable, CustomTestStringConvertible {
    var name: String
    var table: AccuracyTable
    var slowdowns: [Double]
    var placement: [Int] = [0, 1, 2, 3]
    var linkMs: [Double] = [3, 3, 3]
    var arrivalRate = Fixtures.arrivalRate
    var backlogBatches = 1.0
    var deadlineMs = 400.0
    /// The controller's drain target (0: the next batch waits for the whole queue).
    var drainBatches = 0.0

    var testDescription: String { name }
}

/// The reference: every level vector by four nested loops, timed from the fixture's numbers.
struct BruteForce {
    let problem: SearchCase

    struct Answer {
        var levels: [Int]
        var latencyMs: Double
        var accuracy: Double
        var overload: Double
    }

    /// Times a vector; under a drain target the throughput bound shrinks by `drain / (drain + backlog)` while
    /// `draining`, and the latency is that of a batch behind a drained queue.
    func answer(_ levels: [Int], draining: Bool = true) -> Answer {
        var stageMs: [Int: Double] = [:]
        for slice in 0..<4 {
            stageMs[problem.placement[slice], default: 0] +=
                problem.slowdowns[slice] * Fixtures.ms8(slice, levels[slice])
        }
        let bottleneck = max(stageMs.values.max() ?? 0, problem.linkMs.max() ?? 0)
        let drain = problem.drainBatches
        let queued = drain > 0 ? 0 : problem.backlogBatches
        let latency = queued * bottleneck + stageMs.values.reduce(0, +) + problem.linkMs.reduce(0, +)
        var accuracy = problem.table.full
        for slice in 0..<4 { accuracy *= problem.table.slices[slice][levels[slice]] / problem.table.slices[slice][0] }
        var bound = problem.arrivalRate > 0 ? 0.9 * 8 / problem.arrivalRate * 1000 : Double.infinity
        if draining, drain > 0 { bound *= drain / (drain + problem.backlogBatches) }
        return Answer(
            levels: levels, latencyMs: latency, accuracy: accuracy,
            overload: max(bottleneck / bound, latency / problem.deadlineMs))
    }

    func all(draining: Bool = true) -> [Answer] {
        var answers: [Answer] = []
        for a in 0..<4 {
            for b in 0..<4 {
                for c in 0..<4 { for d in 0..<4 { answers.append(answer([a, b, c, d], draining: draining)) } }
            }
        }
        return answers
    }

    /// The most accurate feasible vector (ties: lowest latency), or the least overloaded when none is feasible;
    /// under a drain target, the bounds that only keep up apply when no vector drains the queue in time.
    var optimum: Answer {
        let drained = all(draining: true)
        if let best = Self.mostAccurate(drained) { return best }
        let answers = problem.drainBatches > 0 ? all(draining: false) : drained
        if let best = Self.mostAccurate(answers) { return best }
        return answers.min(by: { ($0.overload, -$0.accuracy) < ($1.overload, -$1.accuracy) })!
    }

    private static func mostAccurate(_ answers: [Answer]) -> Answer? {
        answers.filter { $0.overload <= 1 }.max(by: { ($0.accuracy, -$0.latencyMs) < ($1.accuracy, -$1.latencyMs) })
    }
}

@Suite struct ExactSearchTests {
    static let cases: [SearchCase] = [
        SearchCase(name: "one slow node, measured curves", table: Fixtures.measured, slowdowns: [1, 2, 1, 1]),
        // Node 3 failed and node 2 took over its slice: pruning both of its slices one level beats pruning either
        // two levels, which a one-slice-at-a-time search would miss.
        SearchCase(
            name: "two slices on one node", table: Fixtures.measured, slowdowns: [1, 1, 1, 1],
            placement: [0, 1, 1, 2], linkMs: [3, 3], arrivalRate: 120),
        SearchCase(
            name: "deadline-bound, robust curves", table: Fixtures.robust, slowdowns: [1.2, 1, 1.1, 1], linkMs: [],
            arrivalRate: 0, backlogBatches: 0, deadlineMs: 140),
        SearchCase(
            name: "both constraints, queue of two", table: Fixtures.robust, slowdowns: [1.5, 1.4, 1, 1.3],
            arrivalRate: 100, backlogBatches: 2, deadlineMs: 200),
        // Slices 2 and 3 lose the same accuracy per level; pruning slice 3 (36 ms) saves more time than slice 2
        // (31 ms), so the tie goes to the lower latency.
        SearchCase(
            name: "accuracy tie broken by latency",
            table: AccuracyTable(
                full: 1, slices: [[1, 0.9, 0.8, 0.7], [1, 0.9, 0.8, 0.7], [1, 0.99, 0.9, 0.8], [1, 0.99, 0.9, 0.8]]),
            slowdowns: [1, 1, 1, 1], linkMs: [], arrivalRate: 0, backlogBatches: 0, deadlineMs: 135),
        // A 55 ms hop is slower than the 50 ms the arrivals allow, and no pruning shortens it: nothing is feasible,
        // every vector overshoots equally, and the most accurate one is kept.
        SearchCase(
            name: "a slow link", table: Fixtures.measured, slowdowns: [1, 1.2, 1, 1], linkMs: [3, 55, 3],
            deadlineMs: 150),
        SearchCase(name: "nothing feasible", table: Fixtures.measured, slowdowns: [4, 4, 4, 4]),
        // A queue of eight drained within eight arrivals: the bound halves to 25 ms, below full width's 38 ms.
        SearchCase(
            name: "a queue drained", table: Fixtures.robust, slowdowns: [1, 1, 1, 1], backlogBatches: 8,
            drainBatches: 8),
        // A queue of 20: the bound would be 14.3 ms, under even the most pruned vector's 23 ms on the slowed
        // slice 0, so the bounds only keep up: slice 0 at 51 ms must still be pruned, and only that much.
        SearchCase(
            name: "a queue no vector drains", table: Fixtures.robust, slowdowns: [1.5, 1, 1, 1], backlogBatches: 20,
            drainBatches: 8),
    ]

    @Test(arguments: cases)
    func choiceEqualsBruteForceOptimum(problem: SearchCase) throws {
        var settings = ControllerSettings()
        settings.drainBatches = problem.drainBatches
        var controller = try Fixtures.controller(problem.table, settings: settings)
        // The first sample initialises each slowdown, so a noise-free batch sets them exactly.
        let observation = BatchObservation(
            batchSize: 8, sliceMs: (0..<4).map { problem.slowdowns[$0] * Fixtures.ms8($0, 0) },
            sliceLevels: Fixtures.fullWidth, placement: problem.placement, linkMs: problem.linkMs,
            arrivalRate: problem.arrivalRate, backlogBatches: problem.backlogBatches, deadlineMs: problem.deadlineMs)
        let decision = controller.observe(observation)
        let optimum = BruteForce(problem: problem).optimum
        #expect(decision.levels == optimum.levels, "\(decision.reason)")
        #expect(abs(decision.predictedLatencyMs - optimum.latencyMs) < 1e-9)
        #expect(abs(decision.expectedAccuracy - optimum.accuracy) < 1e-12)
        #expect(decision.feasible == (optimum.overload <= 1))
    }

    @Test func everyCaseStartsOverloaded() {
        // Each case starts at full width and must move, or it would not test the search.
        for problem in Self.cases {
            #expect(BruteForce(problem: problem).answer(Fixtures.fullWidth).overload > 1, "\(problem.name)")
        }
    }
}

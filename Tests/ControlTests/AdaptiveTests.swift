import Control
import Testing

@Suite struct AdaptiveTests {
    static let tables: [AccuracyTable] = [Fixtures.measured, Fixtures.robust]

    @Test(arguments: tables)
    func steadyLoadIsNeverPruned(table: AccuracyTable) throws {
        var controller = try Fixtures.controller(table)
        var simulator = SlowdownSimulator(noise: 0.10, seed: 1) { _ in [1, 1, 1, 1] }
        let decisions = drive(&controller, &simulator, batches: 50)
        for decision in decisions {
            #expect(decision.levels == Fixtures.fullWidth, "\(decision.reason)")
            #expect(decision.feasible)
        }
        #expect(changeCount(decisions) == 0)
    }

    @Test(arguments: tables)
    func slowNodeIsPrunedAtOnceAndRelaxedAfterItRecovers(table: AccuracyTable) throws {
        // Slice 1 (38 ms) slowed 2x takes 76 ms, beyond the 50 ms the arrivals allow; at level 2 (0.6) it takes
        // 45.6 ms. Pruning any other slice does not shorten its stage.
        #expect(2 * Fixtures.ms8(1, 0) > Fixtures.throughputBoundMs)
        #expect(2 * Fixtures.ms8(1, 2) < Fixtures.throughputBoundMs)
        let settings = ControllerSettings()
        var controller = try Fixtures.controller(table, settings: settings)
        var simulator = SlowdownSimulator(noise: 0.10, seed: 7) { batch in
            (10..<40).contains(batch) ? [1, 2, 1, 1] : [1, 1, 1, 1]
        }
        let decisions = drive(&controller, &simulator, batches: 70)

        #expect(decisions[..<10].allSatisfy { $0.levels == Fixtures.fullWidth })
        // The batch at index 10 is the first slow one: pruned after it or the next.
        let pruned = try #require(decisions.indices.first { decisions[$0].levels != Fixtures.fullWidth })
        #expect((10...11).contains(pruned))
        for decision in decisions[12..<40] {
            #expect(decision.levels[1] >= 2 && [0, 2, 3].allSatisfy { decision.levels[$0] == 0 }, "\(decision.reason)")
            #expect(decision.feasible)
        }
        // The batch at index 40 is the first recovered one.
        let relaxed = try #require((40..<70).first { decisions[$0].levels == Fixtures.fullWidth })
        // Relaxing takes relaxAfter batches of slack, counted from the first recovered batch at the earliest.
        #expect(relaxed >= 40 + settings.relaxAfter - 1)
        #expect(relaxed < 40 + settings.relaxAfter + 3)
        #expect(decisions[relaxed...].allSatisfy { $0.levels == Fixtures.fullWidth })
        #expect(changeCount(decisions) <= 4)
    }

    @Test func hysteresisStopsFlappingAtALevelBoundary() throws {
        // Slice 1 slowed 1.3x takes 49.4 ms at full width against a 50 ms bound: with 15% noise the unpruned
        // pipeline is feasible on some batches and not on others.
        #expect(abs(1.3 * Fixtures.ms8(1, 0) - Fixtures.throughputBoundMs) < 1)
        var loose = ControllerSettings()
        loose.relaxAfter = 1
        loose.relaxMargin = 1
        let damped = try flappingRun(ControllerSettings())
        let undamped = try flappingRun(loose)
        #expect(damped <= 4)
        #expect(undamped >= 10)
        #expect(undamped > 3 * damped)
    }

    private func flappingRun(_ settings: ControllerSettings) throws -> Int {
        var controller = try Fixtures.controller(Fixtures.robust, settings: settings)
        var simulator = SlowdownSimulator(noise: 0.15, seed: 42) { _ in [1, 1.3, 1, 1] }
        return changeCount(drive(&controller, &simulator, batches: 200))
    }

    @Test func relaxingWaitsEvenWhenAnotherSliceMustBePrunedAtOnce() throws {
        // Slice 0 is slow, then recovers on the same batch that slice 2 slows down: slice 2 is pruned at once,
        // but slice 0 keeps its level until its own slack has lasted.
        var controller = try Fixtures.controller(Fixtures.robust)
        var simulator = SlowdownSimulator(noise: 0.05, seed: 11) { batch in batch < 20 ? [2, 1, 1, 1] : [1, 1, 2, 1] }
        let decisions = drive(&controller, &simulator, batches: 40)
        #expect(decisions[19].levels[0] > 0 && decisions[19].levels[2] == 0)
        #expect(decisions[21].levels[0] > 0 && decisions[21].levels[2] > 0, "\(decisions[21].reason)")
        #expect(decisions[21].feasible)
        #expect(decisions[39].levels[0] == 0 && decisions[39].levels[2] > 0)
    }

    @Test func deadlinePrunesWhenThroughputDoesNot() throws {
        // No arrivals to keep up with, but a queue of 3 batches ahead: latency = 3 * 38 + 139 + 9 = 262 ms at full
        // width, over a 250 ms deadline, so something must be pruned.
        var controller = try Fixtures.controller(Fixtures.robust)
        var simulator = SlowdownSimulator(noise: 0, seed: 0) { _ in [1, 1, 1, 1] }
        simulator.arrivalRate = 0
        simulator.backlogBatches = 3
        simulator.deadlineMs = 250
        let decision = try #require(drive(&controller, &simulator, batches: 1).first)
        #expect(decision.levels != Fixtures.fullWidth)
        #expect(decision.feasible)
        #expect(decision.predictedLatencyMs <= 250)
        #expect(decision.reason.contains("misses the deadline"))
    }

    /// A queue of four batches for ten batches, then none: under a drain target of eight arrivals the bound is
    /// 50 x 8 / 12 = 33.3 ms, so slices 0, 1 and 3 (34, 38 and 36 ms) prune one level while it drains, and full
    /// width returns once the queue is gone: two decisions change levels in the whole episode.
    @Test func aDrainTargetPrunesOnceAndRelaxesOnce() throws {
        var settings = ControllerSettings()
        settings.drainBatches = 8
        var controller = try Fixtures.controller(Fixtures.robust, settings: settings)
        var simulator = SlowdownSimulator(noise: 0, seed: 0) { _ in [1, 1, 1, 1] }
        var decisions: [Decision] = []
        for batch in 0..<40 {
            simulator.backlogBatches = (10..<20).contains(batch) ? 4 : 0
            decisions.append(controller.observe(simulator.next(levels: controller.levels)))
        }
        #expect(decisions[9].levels == Fixtures.fullWidth)
        #expect(decisions[10].levels == [1, 1, 0, 1], "\(decisions[10].reason)")
        #expect(decisions[10].reason.contains("draining 4.0 queued batches within 8 arrivals"))
        #expect(decisions.allSatisfy { $0.feasible })
        #expect(decisions[39].levels == Fixtures.fullWidth)
        #expect(changeCount(decisions) == 2)
    }

    /// A queue of 20 batches that no vector drains within eight arrivals: with a drain target the controller
    /// keeps up at full width and lets the queue drain in the utilisation's slack; planning the next batch behind
    /// the whole queue (no drain target) prunes every slice to the bottom for as long as the queue lasts.
    @Test func aQueueNoVectorDrainsIsNotPrunedFor() throws {
        func run(drain: Double) throws -> [Decision] {
            var settings = ControllerSettings()
            settings.drainBatches = drain
            var controller = try Fixtures.controller(Fixtures.robust, settings: settings)
            var simulator = SlowdownSimulator(noise: 0, seed: 0) { _ in [1, 1, 1, 1] }
            simulator.backlogBatches = 20
            return drive(&controller, &simulator, batches: 10)
        }
        let draining = try run(drain: 8)
        #expect(draining.allSatisfy { $0.levels == Fixtures.fullWidth && $0.feasible })
        #expect(draining[0].reason.contains("keeping up: nothing drains the 20.0 queued batches"))
        // Behind the whole queue: 20 x 17.1 + 62.6 + 9 = 414 ms at the most pruned vector, over the 400 ms deadline.
        let whole = try run(drain: 0)
        #expect(whole.allSatisfy { $0.levels == [3, 3, 3, 3] && !$0.feasible })
    }
}

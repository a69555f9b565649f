import Control
import Testing

@Suite struct AccuracyFloorTests {
    /// The measured curves' expected accuracy, computed by hand: 0.99 times each slice's retained fraction.
    static func measuredAccuracy(_ levels: [Int]) -> Double {
        levels.indices.reduce(0.99) { $0 * Fixtures.measured.slices[$1][levels[$1]] / 0.99 }
    }

    @Test func floorHoldsWhenNothingIsFeasible() throws {
        // Slice 2 slowed 3x takes 93 ms; only level 3 (41.9 ms) keeps up, and it would leave 5% accuracy.
        var settings = ControllerSettings()
        settings.accuracyFloor = 0.5
        var controller = try Fixtures.controller(Fixtures.measured, settings: settings)
        var simulator = SlowdownSimulator(noise: 0.05, seed: 3) { _ in [1, 1, 3, 1] }
        for decision in drive(&controller, &simulator, batches: 30) {
            #expect(!decision.feasible)
            #expect(Self.measuredAccuracy(decision.levels) >= 0.5, "\(decision.levels)")
            #expect(decision.expectedAccuracy >= 0.5)
            #expect(decision.reason.contains("accuracy floor"))
        }
    }

    @Test func withoutTheFloorTheSameLoadIsPruned() throws {
        var controller = try Fixtures.controller(Fixtures.measured)
        var simulator = SlowdownSimulator(noise: 0.05, seed: 3) { _ in [1, 1, 3, 1] }
        let last = try #require(drive(&controller, &simulator, batches: 30).last)
        #expect(last.feasible)
        #expect(last.levels == [0, 0, 3, 0])
    }

    @Test func floorAboveFullAccuracyKeepsFullWidth() throws {
        var settings = ControllerSettings()
        settings.accuracyFloor = 0.995
        var controller = try Fixtures.controller(Fixtures.measured, settings: settings)
        var simulator = SlowdownSimulator(noise: 0.05, seed: 4) { _ in [2, 2, 2, 2] }
        for decision in drive(&controller, &simulator, batches: 10) {
            #expect(decision.levels == Fixtures.fullWidth)
            #expect(!decision.feasible)
        }
    }
}

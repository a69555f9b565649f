import Control
import Testing

@Suite struct PolicyTests {
    @Test func noneNeverPrunes() throws {
        var controller = try Fixtures.controller(Fixtures.robust, policy: .none)
        var simulator = SlowdownSimulator(noise: 0.1, seed: 5) { _ in [1, 2, 1, 1] }
        let decisions = drive(&controller, &simulator, batches: 20)
        #expect(decisions.allSatisfy { $0.levels == Fixtures.fullWidth && $0.changes.isEmpty })
        // It still reports that full width misses the throughput bound, and measures the slowdown.
        #expect(decisions.allSatisfy { !$0.feasible })
        #expect(abs(controller.slowdowns[1] - 2) < 0.25)
    }

    @Test func staticKeepsItsLevels() throws {
        var controller = try Fixtures.controller(Fixtures.robust, policy: .fixed([1, 2, 0, 3]))
        #expect(controller.levels == [1, 2, 0, 3])
        var simulator = SlowdownSimulator(noise: 0.1, seed: 6) { batch in batch < 10 ? [1, 1, 1, 1] : [3, 3, 3, 3] }
        let decisions = drive(&controller, &simulator, batches: 20)
        #expect(decisions.allSatisfy { $0.levels == [1, 2, 0, 3] && $0.changes.isEmpty })
        #expect(decisions[..<10].allSatisfy { $0.feasible })
        #expect(decisions[12...].allSatisfy { !$0.feasible })
    }
}

/// An input the controller must refuse, and the error code it must refuse it with.
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    var code: ControlError.Code
    var profiles = Fixtures.profiles
    var accuracy = Fixtures.measured
    var levelCount = Fixtures.levelCount
    var policy = Policy.adaptive
    var settings = ControllerSettings()

    var testDescription: String { name }
}

@Suite struct ValidationTests {
    static let inputs: [BadInput] = {
        var profiles = Fixtures.profiles
        var unsorted = profiles
        unsorted[2].batchSizes = [1, 4, 2, 8]
        var shortRow = profiles
        shortRow[1].serviceMs[3] = [38, 30]
        var negative = profiles
        negative[0].serviceMs[0][1] = -1
        var settings = ControllerSettings()
        settings.relaxMargin = 1.5
        var noSmoothing = ControllerSettings()
        noSmoothing.smoothing = 0
        profiles.removeLast()
        return [
            BadInput(name: "three profiles, four curves", code: .mismatch, profiles: profiles),
            BadInput(name: "no profiles", code: .mismatch, profiles: []),
            BadInput(
                name: "three curves", code: .mismatch,
                accuracy: AccuracyTable(full: 0.99, slices: Array(Fixtures.measured.slices.prefix(3)))),
            BadInput(name: "five levels", code: .mismatch, levelCount: 5),
            BadInput(name: "unsorted batch sizes", code: .invalidProfile, profiles: unsorted),
            BadInput(name: "short row", code: .mismatch, profiles: shortRow),
            BadInput(name: "negative time", code: .invalidProfile, profiles: negative),
            BadInput(
                name: "accuracy above 1", code: .invalidAccuracy,
                accuracy: AccuracyTable(
                    full: 0.99, slices: [[0.99, 1.2, 0.4, 0.1]] + Fixtures.measured.slices.dropFirst())),
            BadInput(name: "static vector too short", code: .invalidPolicy, policy: .fixed([0, 1, 2])),
            BadInput(name: "static level out of range", code: .invalidPolicy, policy: .fixed([0, 1, 4, 0])),
            BadInput(name: "relax margin above 1", code: .invalidSettings, settings: settings),
            BadInput(name: "zero smoothing", code: .invalidSettings, settings: noSmoothing),
        ]
    }()

    @Test(arguments: inputs)
    func initRefuses(input: BadInput) {
        let error = #expect(throws: ControlError.self) {
            try Controller(
                profiles: input.profiles, accuracy: input.accuracy, levelCount: input.levelCount,
                policy: input.policy, settings: input.settings)
        }
        #expect(error?.code == input.code, "\(String(describing: error))")
        #expect(error?.message.isEmpty == false)
    }

    /// Without unit profiles a space too large to walk (4^10 vectors) starts the controller, which keeps full
    /// width and says why, however slow a slice gets.
    @Test func tooLargeASpaceWithoutUnitProfilesKeepsItsLevels() throws {
        let profiles = Array(repeating: Fixtures.profiles[0], count: 10)
        let table = AccuracyTable(full: 0.99, slices: Array(repeating: Fixtures.measured.slices[0], count: 10))
        var controller = try Controller(profiles: profiles, accuracy: table, levelCount: 4, policy: .adaptive)
        var simulator = SlowdownSimulator(noise: 0.1, seed: 9) { _ in Array(repeating: 4, count: 10) }
        simulator.profiles = profiles
        simulator.linkMs = Array(repeating: 3, count: 9)
        let decisions = drive(&controller, &simulator, batches: 5)
        #expect(decisions.allSatisfy { $0.levels == Array(repeating: 0, count: 10) })
        #expect(decisions.allSatisfy { $0.reason.contains("too many level vectors") }, "\(decisions.map(\.reason))")
    }
}

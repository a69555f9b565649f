import Control
import Foundation
import Inference
import Ring
import TestSupport
import Testing

@testable import Appliance

@Suite struct PruningControlTests {
    static func metadata() throws -> ModelMetadata {
        try Model.load(
            path: Fixtures.repositoryRoot.appendingPathComponent("Models/efficientnet-lite0.safetensors").path
        ).metadata
    }

    @Test func theModelsOwnPlanUsesItsMeasuredCurves() throws {
        let metadata = try Self.metadata()
        let curves = try #require(metadata.accuracy)
        let plan = try #require(metadata.slicePlan(nodes: curves.plan))
        let table = PruningControl.accuracyTable(metadata, plan: plan)
        #expect(table.slices == curves.slices)
        #expect(table.full == curves.slices[0][0])
    }

    @Test func anotherPlanGetsTheUniformCurveSharedOutByUnits() throws {
        let metadata = try Self.metadata()
        let uniform = try #require(metadata.accuracy?.uniform)
        let plan = try #require(metadata.slicePlan(nodes: 2))
        let table = PruningControl.accuracyTable(metadata, plan: plan)
        #expect(table.slices.count == 2)
        // Pruning both slices at a level multiplies out to the uniform curve at that level.
        for level in 0..<uniform.count {
            let product = table.slices.map { $0[level] / uniform[0] }.reduce(uniform[0], *)
            #expect(abs(product - uniform[level]) < 1e-9)
        }
        // Slice options were measured for the file's own plan only: elsewhere they count as keeping nothing.
        #expect(
            table.slices.allSatisfy { $0.count == metadata.optionCount && $0[uniform.count...].allSatisfy { $0 == 0 } })
    }

    @Test func profileEntriesBecomeATableAndBack() throws {
        let slices = [
            SliceProfile(
                node: "n0", units: [0, 8], batchSizes: [1, 8], serviceMs: [[5, 4, 3, 2], [30, 24, 18, 12]]),
            SliceProfile(
                node: "n0", units: [8, 18], batchSizes: [1, 8], serviceMs: [[6, 5, 4, 3], [36, 30, 24, 18]]),
        ]
        let document = ProfileStore.Document(modelID: "m", plan: [0, 8, 18], measuredAt: "now", slices: slices)
        #expect(PruningControl.profile(document.entries, node: "n0", units: [8, 18]) == slices[1])
        #expect(PruningControl.profile(document.entries, node: "n0", units: [0, 8]) == slices[0])
        #expect(PruningControl.profile(document.entries, node: "n0", units: [0, 9]) == nil)
        // A table with a hole is refused rather than guessed.
        let holed = document.entries.filter { !($0.firstUnit == 8 && $0.batch == 8 && $0.level == 2) }
        #expect(PruningControl.profile(holed, node: "n0", units: [8, 18]) == nil)
    }

    @Test func profilesRoundTripThroughTheStore() throws {
        try withTemporaryDirectory { directory in
            let slices = [SliceProfile(node: "n0", units: [0, 18], batchSizes: [8], serviceMs: [[1, 2, 3, 4]])]
            let document = ProfileStore.Document(modelID: "m", plan: [0, 18], measuredAt: "now", slices: slices)
            let path = directory.file("profile.json")
            #expect(try ProfileStore.load(path) == nil)
            try ProfileStore.save(document, to: path)
            #expect(try ProfileStore.load(path) == document)
            try "{".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: ConfigError.self) { try ProfileStore.load(path) }
        }
    }

    @Test func loadMeterFollowsTheArrivalRate() {
        let meter = LoadMeter(window: 1)
        for n in 0..<40 { meter.arrived(at: 1000 + Double(n) * 0.1) }  // 10 per second for 4 s
        #expect(abs(meter.arrivalRate(at: 1004.05) - 10) < 1.5)
        #expect(meter.arrivalRate(at: 1100) == 0)
    }

    /// A burst of 80 images in one second, then 2 a second: the smoothed rate jumps to tens of images a second,
    /// the sustained rate only by the burst's share of the minute; after a quiet spell longer than the minute it
    /// is 0.
    @Test func aBurstBarelyMovesTheSustainedRate() {
        let meter = LoadMeter(window: 2, sustainedSeconds: 60)
        for n in 0..<80 { meter.arrived(at: 1000 + Double(n) / 80) }
        for n in 0..<4 { meter.arrived(at: 1001 + Double(n) * 0.5) }
        #expect(meter.arrivalRate(at: 1002.5) > 20)
        for n in 4..<120 { meter.arrived(at: 1001 + Double(n) * 0.5) }
        // 200 arrivals over the 61 s since the first: 3.3 a second (the last window is partly counted).
        #expect(abs(meter.sustainedRate(at: 1061) - 200.0 / 61) < 0.2)
        #expect(meter.sustainedRate(at: 1200) == 0)
    }
}

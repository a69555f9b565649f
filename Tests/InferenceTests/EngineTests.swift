import Foundation
import TestSupport
import Testing

@testable import Inference

@Suite struct EngineTests {
    static func model() throws -> Model { try Model.load(path: ModelFileTests.modelPath) }

    /// A deterministic pseudo-image in the model's input range.
    static func input(batch: Int, seed: Int) -> [Float] {
        (0..<(batch * 224 * 224 * 3)).map { Float(($0 &* 2_654_435_761 &+ seed &* 97) % 255) / 128 - 1 }
    }

    /// Two float32 evaluations of the whole network (other buffers, batch or threads) round differently; how far
    /// apart their logits may be is derived from the arithmetic (`Tolerance`, docs/testing.md).
    static func tolerance(_ model: Model, _ logits: [Float]) -> Float {
        Tolerance.float32(fanIn: model.metadata.accumulatedFanIn(units: 0..<18), reference: logits)
    }

    static func run(_ engine: Engine, _ input: [Float], batch: Int, units: Range<Int>, levels: [Int]) throws -> [Float]
    {
        var output = [Float](repeating: 0, count: batch * engine.shape(atBoundary: units.upperBound).count)
        try input.withUnsafeBufferPointer { source in
            try output.withUnsafeMutableBufferPointer {
                try engine.run(source, batch: batch, units: units, levels: levels, into: $0)
            }
        }
        return output
    }

    @Test func slicesRunInSequenceEqualTheWholeNetwork() throws {
        let model = try Self.model()
        let engine = Engine(model: model)
        let input = Self.input(batch: 2, seed: 1)
        for nodes in [2, 3, 4, 8] {
            let plan = try #require(model.metadata.slicePlan(nodes: nodes))
            let levels = (0..<18).map { ($0 * 7 + nodes) % 4 }
            let whole = try Self.run(engine, input, batch: 2, units: 0..<18, levels: levels)
            var activation = input
            for (start, end) in zip(plan, plan.dropFirst()) {
                activation = try Self.run(
                    engine, activation, batch: 2, units: start..<end, levels: Array(levels[start..<end]))
            }
            // Not bit-identical: OpenBLAS picks kernels by buffer alignment, and the buffers differ.
            let difference = zip(activation, whole).map { abs($0 - $1) }.max() ?? 1
            let tolerance = Self.tolerance(model, whole)
            #expect(activation.count == whole.count && difference <= tolerance, "\(nodes)-node plan: \(difference)")
        }
    }

    @Test func theBundledModelsFanInIsWhatTheTestsOfTheBinaryAssume() throws {
        #expect(try Self.model().metadata.accumulatedFanIn(units: 0..<18) == Tolerance.bundledModelFanIn)
    }

    @Test func batchOfImagesEqualsImagesOneByOne() throws {
        let engine = Engine(model: try Self.model())
        let batch = try engine.logits(Self.input(batch: 3, seed: 2), batch: 3, level: 2)
        let perImage = 224 * 224 * 3
        let all = Self.input(batch: 3, seed: 2)
        for image in 0..<3 {
            let single = try engine.logits(
                Array(all[(image * perImage)..<((image + 1) * perImage)]), batch: 1, level: 2)
            let reference = Array(batch[(image * 1000)..<((image + 1) * 1000)])
            let difference = zip(single, reference).map { abs($0 - $1) }.max() ?? 0
            #expect(difference <= Self.tolerance(engine.model, reference))
        }
    }

    @Test func prunedLevelsComputeSomethingDifferent() throws {
        let engine = Engine(model: try Self.model())
        let input = Self.input(batch: 1, seed: 4)
        let full = try engine.logits(input, batch: 1, level: 0)
        let pruned = try engine.logits(input, batch: 1, level: 3)
        #expect(full.count == 1000 && pruned.count == 1000)
        #expect(full != pruned)
    }

    @Test func argumentsThatDoNotFitAreRefused() throws {
        let model = try Self.model()
        let engine = Engine(model: model)
        let input = [Float](repeating: 0, count: 224 * 224 * 3)
        var output = [Float](repeating: 0, count: 1000)
        let past = model.metadata.skipLevel + 1
        let cases: [(Int, Range<Int>, [Int], Int)] = [
            (0, 0..<18, Array(repeating: 0, count: 18), 1000),  // batch 0
            (1, 0..<19, Array(repeating: 0, count: 19), 1000),  // past the last unit
            (1, 0..<18, Array(repeating: past, count: 18), 1000),  // no such level (past the skip level)
            (1, 0..<18, Array(repeating: model.metadata.skipLevel, count: 18), 1000),  // the stem cannot skip
            (1, 0..<18, [0], 1000),  // one level for 18 units
            (2, 0..<18, Array(repeating: 0, count: 18), 1000),  // input too small for 2 images
            (1, 0..<18, Array(repeating: 0, count: 18), 10),  // output too small
        ]
        for (batch, units, levels, outputCount) in cases {
            let error = try input.withUnsafeBufferPointer { source in
                try output.withUnsafeMutableBufferPointer { target in
                    try #require(throws: InferenceError.self) {
                        try engine.run(
                            source, batch: batch, units: units, levels: levels,
                            into: UnsafeMutableBufferPointer(rebasing: target[0..<outputCount]))
                    }
                }
            }
            #expect(error.code == .invalidArgument)
        }
    }
}

enum BLASTestsSupport {
    /// Tests run in one process: put OpenBLAS back to one thread after a test that raised it.
    static func reset() { BLAS.setThreadCount(1) }
}

import Foundation
import TestSupport
import Testing

@testable import Inference

/// The engine against PyTorch: golden outputs from Training/trapline_training/golden.py (fp32 PyTorch on the
/// model file's weights) for real photos, at every level, whole network and each slice of the 4-node plan.
/// Tolerance: derived from the arithmetic for each compared tensor (`Tolerance.float32`: twice 4 * 2^-24 *
/// sqrt(fan-in along the units run) * the tensor's largest magnitude; 1.8e-4 to 5.1e-4 on the logits), not a fixed number.
@Suite struct GoldenTests {
    static let golden = Fixtures.repositoryRoot.appendingPathComponent(
        "Tests/InferenceTests/Fixtures/golden.safetensors"
    ).path

    struct Golden {
        let file: SafeTensors
        let model: Model

        init() throws {
            file = try SafeTensors(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: GoldenTests.golden))))
            model = try Model.load(path: ModelFileTests.modelPath)
        }

        func floats(_ name: String) throws -> [Float] {
            guard let entry = file.entries[name] else { throw FixtureError("golden tensor \(name) missing") }
            return file.floats(entry)
        }

        /// Image k as the model's normalised input.
        func input(_ k: Int) throws -> [Float] {
            let input = model.metadata.input
            return try floats("input.\(k)").enumerated().map { index, value in
                (value - input.mean[index % 3]) / input.scale[index % 3]
            }
        }

        var plan: [Int] { model.metadata.slicePlan(nodes: 4) ?? [] }

        func tolerance(units: Range<Int>, reference: [Float]) -> Float {
            Tolerance.float32(fanIn: model.metadata.accumulatedFanIn(units: units), reference: reference)
        }
    }

    static func run(_ engine: Engine, _ input: [Float], units: Range<Int>, levels: [Int]) throws -> [Float] {
        var output = [Float](repeating: 0, count: engine.shape(atBoundary: units.upperBound).count)
        try input.withUnsafeBufferPointer { source in
            try output.withUnsafeMutableBufferPointer { target in
                try engine.run(source, batch: 1, units: units, levels: levels, into: target)
            }
        }
        return output
    }

    static func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "\(a.count) vs \(b.count)")
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    @Test(arguments: 0..<5)
    func wholeNetworkMatchesPyTorch(level: Int) throws {
        let golden = try Golden()
        let engine = Engine(model: golden.model)
        for k in 0..<3 {
            let logits = try engine.logits(try golden.input(k), batch: 1, level: level)
            let reference = try golden.floats("logits.\(k).level\(level)")
            let difference = Self.largestDifference(logits, reference)
            let tolerance = golden.tolerance(units: 0..<18, reference: reference)
            print("golden image \(k) level \(level): largest |logit difference| \(difference) of \(tolerance)")
            #expect(difference <= tolerance, "image \(k) level \(level): \(difference)")
        }
    }

    @Test(arguments: 0..<5)
    func eachSliceOfTheFourNodePlanMatchesPyTorch(level: Int) throws {
        let golden = try Golden()
        let engine = Engine(model: golden.model)
        let plan = golden.plan
        #expect(plan.count == 5)
        var boundaries: [[Float]] = [try golden.input(0)]
        for b in plan.dropFirst().dropLast() {
            boundaries.append(try golden.floats("activation.level\(level).unit\(b)"))
        }
        boundaries.append(try golden.floats("logits.0.level\(level)"))
        for slice in 0..<4 {
            let units = plan[slice]..<plan[slice + 1]
            // Each slice starts from PyTorch's own activation, so errors cannot accumulate across slices.
            let output = try Self.run(
                engine, boundaries[slice], units: units, levels: Array(repeating: level, count: units.count))
            let difference = Self.largestDifference(output, boundaries[slice + 1])
            // Both sides start from the same activation: only the slice's own units round differently.
            let tolerance = golden.tolerance(units: units, reference: boundaries[slice + 1])
            #expect(difference <= tolerance, "slice \(slice) level \(level): \(difference) of \(tolerance)")
        }
    }

    @Test func mixedLevelsAcrossSlicesMatchPyTorch() throws {
        let golden = try Golden()
        let engine = Engine(model: golden.model)
        let plan = golden.plan
        let sliceLevels = [0, 3, 1, 2]
        let levels = (0..<4).flatMap { Array(repeating: sliceLevels[$0], count: plan[$0 + 1] - plan[$0]) }
        let logits = try Self.run(engine, try golden.input(0), units: 0..<18, levels: levels)
        let reference = try golden.floats("logits.0.mixed")
        #expect(Self.largestDifference(logits, reference) <= golden.tolerance(units: 0..<18, reference: reference))
    }

    /// Every slice option beyond the width levels, on each slice of the 4-node plan alone (formats 2 and 3).
    @Test func sliceOptionsMatchPyTorch() throws {
        let golden = try Golden()
        let engine = Engine(model: golden.model)
        let m = golden.model.metadata
        let plan = golden.plan
        #expect(m.optionCount > m.pruneLevels.count, "the bundled model has slice options")
        for option in m.pruneLevels.count..<m.optionCount {
            for slice in 0..<(plan.count - 1) {
                let levels = m.unitLevels(plan: plan, options: (0..<(plan.count - 1)).map { $0 == slice ? option : 0 })
                let logits = try Self.run(engine, try golden.input(0), units: 0..<18, levels: levels)
                let reference = try golden.floats("logits.0.slice\(slice).option\(option)")
                let difference = Self.largestDifference(logits, reference)
                let tolerance = golden.tolerance(units: 0..<18, reference: reference)
                print(
                    "golden slice \(slice) option \(m.optionName(option)): |logit difference| \(difference) of \(tolerance)"
                )
                #expect(difference <= tolerance, "slice \(slice) option \(option): \(difference) of \(tolerance)")
            }
        }
        // A mixed vector of width levels and slice options, as the golden file records it.
        let meta = try #require(
            try JSONSerialization.jsonObject(with: Data((golden.file.metadata["golden"] ?? "{}").utf8))
                as? [String: Any])
        let options = try #require(meta["mixedSliceOptions"] as? [Int])
        let levels = m.unitLevels(plan: plan, options: options)
        let logits = try Self.run(engine, try golden.input(0), units: 0..<18, levels: levels)
        let reference = try golden.floats("logits.0.mixedOptions")
        #expect(Self.largestDifference(logits, reference) <= golden.tolerance(units: 0..<18, reference: reference))
    }
}

import Foundation
import TestSupport
import Testing

@testable import Inference

/// Slice options: skippable blocks and per-slice options in format 2 files (the bundled model: per-level layers)
/// and format 3 files (batch norms per level, weights shared by every level); the loader refuses every damaged
/// field or tensor, naming it, and still loads format 1 files and the previous format 2 file.
@Suite struct SliceOptionTests {
    static let formatOnePath = Fixtures.repositoryRoot.appendingPathComponent(
        "Tests/InferenceTests/Fixtures/efficientnet-lite0-format1.safetensors"
    ).path
    static let formatTwoPath = Fixtures.repositoryRoot.appendingPathComponent(
        "Tests/InferenceTests/Fixtures/efficientnet-lite0-format2.safetensors"
    ).path
    static let formatTwo: [UInt8] = (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: formatTwoPath)))) ?? []
    static let formatOne: [UInt8] = (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: formatOnePath)))) ?? []

    /// A format 3 file: the format 1 fixture (a batch norm per level, shared weights) declared as format 3, with
    /// every residual block skippable and the one option `skip`.
    static func formatThree(_ change: (inout [String: Any]) -> Void = { _ in }) throws -> [UInt8] {
        try ModelFileTests.edited(formatOne) { parts in
            var meta = parts.metadata
            meta["formatVersion"] = 3
            meta["skippableUnits"] = [3, 5, 7, 8, 10, 11, 13, 14, 15]
            meta["sliceOptions"] = [["name": "skip", "skip": true, "level": 0]]
            meta["accuracy"] = nil
            change(&meta)
            parts.metadata = meta
        }
    }

    static func load(_ name: String) throws -> Model {
        switch name {
        case "format 3": try Model(fileBytes: try formatThree())
        case "format 2 (previous)": try Model.load(path: formatTwoPath)
        default: try Model.load(path: ModelFileTests.modelPath)
        }
    }

    @Test func bundledModelHasOptions() throws {
        let model = try Model.load(path: ModelFileTests.modelPath)
        let m = model.metadata
        #expect(m.formatVersion == 2 && m.hasRefitLevels && m.hasSliceOptions)
        #expect((0..<m.optionCount).map(m.optionName) == ["w1", "w0.875", "w0.75", "w0.5", "w0.25", "skip"])
        #expect(m.option(named: "skip") == 5 && m.option(named: "0.5") == 3 && m.option(named: "w0.25") == 4)
        #expect(m.option(named: "w0.875") == 1 && m.option(named: "0.125") == 1)
        #expect(m.option(named: "#1") == 1 && m.option(named: "w0.3") == nil)
        // Every residual block, and nothing else, may be skipped.
        let residual = m.units.indices.filter { m.units[$0].hasResidual }
        #expect(m.skippableUnits == residual)
        #expect(residual == [3, 5, 7, 8, 10, 11, 13, 14, 15])
        // The 4-node plan's slice 1 (units 3..<8) skipping: its residual blocks 3, 5 and 7 skip, the rest run
        // at full width; a width option sets every unit.
        #expect(m.unitLevels(3..<8, option: 5) == [5, 0, 5, 0, 5])
        #expect(m.unitLevels(0..<3, option: 5) == [0, 0, 0])
        #expect(m.unitLevels(3..<8, option: 2) == [2, 2, 2, 2, 2])
        // Costs: skipping removes the skipped blocks' work exactly; the new step costs less than full width.
        let full = m.cost(units: 3..<8, option: 0)
        let skipped = m.cost(units: 3..<8, option: 5)
        let kept = [4, 6].map { m.cost(units: $0..<($0 + 1), level: 0) }
        #expect(skipped.multiplyAdds == kept[0].multiplyAdds + kept[1].multiplyAdds)
        #expect(skipped.multiplyAdds < full.multiplyAdds)
        #expect(m.cost(units: 3..<8, option: 1).multiplyAdds < full.multiplyAdds)
        #expect(m.cost(units: 3..<8, option: 1).multiplyAdds > m.cost(units: 3..<8, option: 2).multiplyAdds)
        // Curves: one value per option and slice of the 4-node plan, full width first.
        let curves = try #require(m.accuracy)
        #expect(curves.plan == 4 && curves.slices.count == 4 && curves.slices.allSatisfy { $0.count == 6 })
    }

    /// The previous format 2 file (four width levels) and a format 3 file load with their options and run a
    /// vector that mixes a skipped slice and a pruned one.
    @Test(arguments: ["format 2 (previous)", "format 3"])
    func otherFilesStillLoad(name: String) throws {
        let model = try Self.load(name)
        let m = model.metadata
        #expect(m.formatVersion == (name == "format 3" ? 3 : 2) && m.hasRefitLevels == (name != "format 3"))
        #expect(m.hasSliceOptions)
        #expect((0..<m.optionCount).map(m.optionName) == ["w1", "w0.75", "w0.5", "w0.25", "skip"])
        #expect(m.unitLevels(3..<8, option: 4) == [4, 0, 4, 0, 4])
        let input: [Float] = (0..<(224 * 224 * 3)).map { (index: Int) -> Float in Float((index * 13) % 255) / 128 - 1 }
        let engine = Engine(model: model)
        let levels = m.unitLevels(plan: m.slicePlan(nodes: 4) ?? [], options: [0, 4, 2, 0])
        var logits = [Float](repeating: .nan, count: 1000)
        try input.withUnsafeBufferPointer { source in
            try logits.withUnsafeMutableBufferPointer { target in
                try engine.run(source, batch: 1, units: 0..<18, levels: levels, into: target)
            }
        }
        #expect(logits.allSatisfy { $0.isFinite })
    }

    @Test(arguments: ["bundled", "format 2 (previous)", "format 3"])
    func skippingIsTheIdentityAndOnlyForSkippableUnits(name: String) throws {
        let model = try Self.load(name)
        let engine = Engine(model: model)
        let skip = model.metadata.skipLevel
        let count = engine.shape(atBoundary: 3).count
        let input: [Float] = (0..<count).map { (index: Int) -> Float in Float((index * 7919) % 1000) / 500 - 1 }
        var output = [Float](repeating: .nan, count: count)
        try input.withUnsafeBufferPointer { source in
            try output.withUnsafeMutableBufferPointer { target in
                try engine.run(source, batch: 1, units: 3..<4, levels: [skip], into: target)
            }
        }
        #expect(output == input)
        // Unit 4 (a stride-2 block) and unit 12 have no residual connection: refused.
        for unit in [4, 12] {
            let shapeIn = engine.shape(atBoundary: unit).count
            let shapeOut = engine.shape(atBoundary: unit + 1).count
            let error = #expect(throws: InferenceError.self) {
                _ = try [Float](repeating: 0, count: shapeIn).withUnsafeBufferPointer { source in
                    var out = [Float](repeating: 0, count: shapeOut)
                    try out.withUnsafeMutableBufferPointer { target in
                        try engine.run(source, batch: 1, units: unit..<(unit + 1), levels: [skip], into: target)
                    }
                }
            }
            #expect(error?.message.contains("skip a skippable block") == true)
        }
    }

    /// Format 1 still loads, and its full width is the format 2 file's: the refit only re-orders hidden channels
    /// (the same stored values), so the logits differ by float32 summation order alone. Tolerance as the golden
    /// tests derive it: twice 4 * 2^-24 * sqrt(fan-in along the network) * the largest logit.
    @Test func formatOneStillLoadsWithTheSameFullWidth() throws {
        let one = try Model.load(path: Self.formatOnePath)
        let two = try Model.load(path: Self.formatTwoPath)
        #expect(one.metadata.formatVersion == 1 && !one.metadata.hasRefitLevels)
        #expect(one.metadata.optionCount == 4 && one.metadata.skippableUnits == nil)
        let input: [Float] = (0..<(224 * 224 * 3)).map { (index: Int) -> Float in
            Float((index * 31) % 255) / 128 - 1
        }
        let a = try Engine(model: one).logits(input, batch: 1, level: 0)
        let b = try Engine(model: two).logits(input, batch: 1, level: 0)
        let tolerance = Tolerance.float32(fanIn: two.metadata.accumulatedFanIn(units: 0..<18), reference: a)
        let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(difference <= tolerance, "\(difference) of \(tolerance)")
        // Format 1 has no slice options: the skip level is refused.
        let levels = Array(repeating: 0, count: 18).enumerated().map { $0.offset == 3 ? 4 : $0.element }
        #expect(throws: InferenceError.self) {
            var output = [Float](repeating: 0, count: 1000)
            try input.withUnsafeBufferPointer { source in
                try output.withUnsafeMutableBufferPointer { target in
                    try Engine(model: one).run(source, batch: 1, units: 0..<18, levels: levels, into: target)
                }
            }
        }
    }

    static func editOptions(_ meta: inout [String: Any], _ change: (inout [[String: Any]]) -> Void) {
        var options = meta["sliceOptions"] as! [[String: Any]]
        change(&options)
        meta["sliceOptions"] = options
    }

    @Test func damagedFormatTwoMetadataIsRefused() throws {
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("unit 4 is not a residual block", { $0["skippableUnits"] = [3, 4] }),
            ("ascending without repeats", { $0["skippableUnits"] = [5, 3] }),
            ("unit 99 is not a residual block", { $0["skippableUnits"] = [3, 99] }),
            ("needs skippableUnits and at least one of sliceOptions", { $0["sliceOptions"] = nil }),
            ("at least one of sliceOptions", { $0["sliceOptions"] = [[String: Any]]() }),
            (
                "uniform accuracy curve",
                { meta in
                    var accuracy = meta["accuracy"] as! [String: Any]
                    accuracy["uniform"] = [Double]()
                    meta["accuracy"] = accuracy
                }
            ),
            (
                "one curve per slice of a plan",
                { meta in
                    var accuracy = meta["accuracy"] as! [String: Any]
                    accuracy["slices"] = Array((accuracy["slices"] as! [[Double]]).prefix(2))
                    meta["accuracy"] = accuracy
                }
            ),
            (
                "must lie in 0...1",
                { meta in
                    var accuracy = meta["accuracy"] as! [String: Any]
                    var slices = accuracy["slices"] as! [[Double]]
                    slices[1][2] = 1e300
                    accuracy["slices"] = slices
                    meta["accuracy"] = accuracy
                }
            ),
            ("need format version 2", { $0["formatVersion"] = 1 }),
            ("skip must be true", { Self.editOptions(&$0) { $0[0]["skip"] = false } }),
            ("level one of 0..<4", { Self.editOptions(&$0) { $0[0]["level"] = 4 } }),
            ("\"w1\" is empty, repeated", { Self.editOptions(&$0) { $0[0]["name"] = "w1" } }),
            ("odd characters", { Self.editOptions(&$0) { $0[0]["name"] = "sk ip" } }),
            (
                "one value per slice option (5)",
                { meta in
                    var accuracy = meta["accuracy"] as! [String: Any]
                    accuracy["slices"] = (accuracy["slices"] as! [[Double]]).map { Array($0.prefix(4)) }
                    meta["accuracy"] = accuracy
                }
            ),
        ]
        try ModelFileTests.expectRefusals(cases, in: Self.formatTwo)
    }

    @Test func damagedRefitTensorsAreRefused() throws {
        let missing = try ModelFileTests.edited(Self.formatTwo) { parts in
            parts.header["block5.project.level2.weight"] = nil
        }
        #expect(ModelFileTests.refusal(missing)?.contains("block5.project.level2.weight is missing") == true)
        let missingFc = try ModelFileTests.edited(Self.formatTwo) { parts in parts.header["head.fc.level3.bias"] = nil }
        #expect(ModelFileTests.refusal(missingFc)?.contains("head.fc.level3.bias is missing") == true)
        let shape = try ModelFileTests.edited(Self.formatTwo) { parts in
            var entry = parts.header["block5.project.level1.weight"] as! [String: Any]
            let old = entry["shape"] as! [Int]
            entry["shape"] = [old[1], old[0], 1, 1]
            parts.header["block5.project.level1.weight"] = entry
        }
        #expect(ModelFileTests.refusal(shape)?.contains("block5.project.level1.weight has shape") == true)
        // A NaN in a re-fitted bias (F16 0x7E00 over its first element).
        let nan = try ModelFileTests.edited(Self.formatTwo) { parts in
            let entry = parts.header["block9.project.level2.bias"] as! [String: Any]
            #expect(entry["dtype"] as? String == "F16")
            let start = (entry["data_offsets"] as! [Int])[0]
            parts.data[start] = 0x00
            parts.data[start + 1] = 0x7E
        }
        #expect(ModelFileTests.refusal(nan)?.contains("block9.project.level2 has non-finite values") == true)
    }
    /// Format 3 needs a batch norm per level (as format 1) and the options of format 2; declared as another
    /// format, without its options or with a level's batch norm missing, it is refused.
    @Test func damagedFormatThreeIsRefused() throws {
        let three = try Self.formatThree()
        let missing = try ModelFileTests.edited(three) { parts in parts.header["block5.bn1.level3.mean"] = nil }
        #expect(ModelFileTests.refusal(missing)?.contains("block5.bn1.level3.mean is missing") == true)
        try ModelFileTests.expectRefusals(
            [
                ("project.level1.weight is missing", { $0["formatVersion"] = 2 }),
                ("need format version 2 or 3", { $0["formatVersion"] = 1 }),
                ("format 3 model needs skippableUnits", { $0["sliceOptions"] = nil }),
                ("(1, 2 and 3 are)", { $0["formatVersion"] = 4 }),
            ], in: three)
    }
}

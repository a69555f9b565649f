import Foundation
import TestSupport
import Testing

@testable import Inference

/// The loader accepts the bundled model and refuses every kind of damaged or inconsistent file, naming the fault.
@Suite struct ModelFileTests {
    static let modelPath = Fixtures.repositoryRoot.appendingPathComponent("Models/efficientnet-lite0.safetensors").path
    static let original: [UInt8] = (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: modelPath)))) ?? []

    /// A model file split into its header JSON and data, to be edited and put back together.
    struct Parts {
        var header: [String: Any]
        var data: [UInt8]

        init(_ bytes: [UInt8]) throws {
            let length = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
            header = try #require(
                try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
            data = Array(bytes[(8 + length)...])
        }

        var metadata: [String: Any] {
            get {
                let text = ((header["__metadata__"] as? [String: String])?["trapline"]) ?? "{}"
                return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            }
            set {
                let text = String(decoding: try! JSONSerialization.data(withJSONObject: newValue), as: UTF8.self)
                header["__metadata__"] = ["trapline": text]
            }
        }

        var bytes: [UInt8] {
            let json = [UInt8](try! JSONSerialization.data(withJSONObject: header))
            return (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) } + json + data
        }
    }

    static func refusal(_ bytes: [UInt8]) -> String? {
        do {
            _ = try Model(fileBytes: bytes)
            return nil
        } catch let error as InferenceError {
            #expect(error.code == .invalidModelFile)
            return error.message
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    static func edited(_ source: [UInt8] = original, _ change: (inout Parts) throws -> Void) throws -> [UInt8] {
        var parts = try Parts(source)
        try change(&parts)
        return parts.bytes
    }

    /// Weights are stored as IEEE binary16 and widened to float32 at load. Every binary16 value (11-bit
    /// significand, exponents -24...15) is a float32 value, so the widening must be exact: tolerance 0, checked on
    /// all 65,536 bit patterns against the value the format defines, (-1)^s * 2^(e-15) * (1 + m/1024), or
    /// 2^-14 * m/1024 below the normal range, computed in Double.
    @Test func halfPrecisionWidensExactly() throws {
        let count = 1 << 16
        let header = "{\"t\":{\"dtype\":\"F16\",\"shape\":[\(count)],\"data_offsets\":[0,\(2 * count)]}}"
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8)
        for bits in 0..<count { bytes += [UInt8(bits & 0xFF), UInt8(bits >> 8)] }
        let file = try SafeTensors(bytes: bytes)
        let widened = file.floats(try #require(file.entries["t"]))
        let wrong = (0..<count).filter { bits in
            let sign: Double = bits >> 15 == 1 ? -1 : 1
            let exponent = (bits >> 10) & 0x1F
            let mantissa = Double(bits & 0x3FF)
            let value = widened[bits]
            switch exponent {
            case 0x1F where mantissa == 0: return value != Float(sign * .infinity)
            case 0x1F: return !value.isNaN
            case 0: return Double(value) != sign * 0x1p-14 * mantissa / 1024
            default:
                return Double(value) != sign
                    * Double(sign: .plus, exponent: exponent - 15, significand: 1 + mantissa / 1024)
            }
        }
        #expect(wrong.isEmpty, "bit patterns widened wrongly: \(wrong.prefix(8))")
    }

    @Test func bundledModelLoads() throws {
        let model = try Model(fileBytes: Self.original)
        #expect(model.unitCount == 18)
        #expect(model.metadata.pruneLevels == [0, 0.125, 0.25, 0.5, 0.75])
        #expect(model.metadata.formatVersion == 2 && model.metadata.hasRefitLevels)
        #expect(model.metadata.classes.names.count == 1000)
        #expect(model.metadata.isAnimal(0) && model.metadata.isAnimal(397) && !model.metadata.isAnimal(398))
        #expect((1...8).allSatisfy { model.metadata.slicePlan(nodes: $0) != nil })
        // The unchanged file round-trips through the editor, so the edits below test only what they change.
        #expect(throws: Never.self) { try Model(fileBytes: try Self.edited { _ in }) }
    }

    @Test func brokenContainers() throws {
        #expect(Self.refusal([1, 2, 3])?.contains("too short") == true)
        #expect(
            Self.refusal([0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0] + Array(repeating: 0, count: 64))?.contains(
                "header length") == true)
        let garbage = [UInt8]("{not json".utf8)
        #expect(Self.refusal([UInt8(garbage.count), 0, 0, 0, 0, 0, 0, 0] + garbage)?.contains("JSON") == true)
        #expect(Self.refusal(Array(Self.original.prefix(Self.original.count - 1000)))?.contains("outside") == true)
    }

    @Test func badTensorEntries() throws {
        let dtype = try Self.edited { parts in
            var entry = parts.header["head.fc.bias"] as! [String: Any]
            entry["dtype"] = "I64"
            parts.header["head.fc.bias"] = entry
        }
        #expect(Self.refusal(dtype)?.contains("dtype I64") == true)
        let size = try Self.edited { parts in
            var entry = parts.header["head.fc.bias"] as! [String: Any]
            entry["shape"] = [999]
            parts.header["head.fc.bias"] = entry
        }
        #expect(Self.refusal(size)?.contains("head.fc.bias") == true)
        let overlap = try Self.edited { parts in
            var entry = parts.header["head.fc.bias"] as! [String: Any]
            let other = parts.header["head.bn.level0.weight"] as! [String: Any]
            let offsets = other["data_offsets"] as! [Int]
            entry["data_offsets"] = [offsets[0], offsets[0] + (entry["data_offsets"] as! [Int]).reduce(0, { $1 - $0 })]
            parts.header["head.fc.bias"] = entry
        }
        #expect(Self.refusal(overlap)?.contains("overlap") == true)
        let shape = try Self.edited { parts in
            var entry = parts.header["block0.depthwise.weight"] as! [String: Any]
            entry["shape"] = [32, 1, 9, 1]
            parts.header["block0.depthwise.weight"] = entry
        }
        #expect(Self.refusal(shape)?.contains("block0.depthwise.weight has shape") == true)
        let missing = try Self.edited { parts in parts.header["block5.project.weight"] = nil }
        #expect(Self.refusal(missing)?.contains("block5.project.weight is missing") == true)
        let extra = try Self.edited { parts in
            parts.header["block99.extra"] = ["dtype": "F16", "shape": [0], "data_offsets": [0, 0]]
        }
        #expect(Self.refusal(extra)?.contains("unexpected tensor block99.extra") == true)
        // 2^62 elements fit an Int, their F32 byte count does not: refused, where the multiplication used to trap.
        let huge = try Self.edited { parts in
            parts.header["block99.huge"] = [
                "dtype": "F32", "shape": [2_147_483_647, 2_147_483_647], "data_offsets": [0, 0],
            ]
        }
        #expect(Self.refusal(huge)?.contains("block99.huge has invalid data_offsets or an oversized shape") == true)
    }

    static func editTaxonomy(_ meta: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
        var taxonomy = meta["taxonomy"] as! [String: Any]
        change(&taxonomy)
        meta["taxonomy"] = taxonomy
    }

    static func editTaxon(_ taxonomy: inout [String: Any], _ index: Int, _ change: (inout [String: Any]) -> Void) {
        var taxa = taxonomy["taxa"] as! [[String: Any]]
        change(&taxa[index])
        taxonomy["taxa"] = taxa
    }

    static func editClass(_ taxonomy: inout [String: Any], _ index: Int, _ change: (inout [String: Any]) -> Void) {
        var classes = taxonomy["classes"] as! [[String: Any]]
        change(&classes[index])
        taxonomy["classes"] = classes
    }

    @Test func inconsistentMetadata() throws {
        let noMetadata = try Self.edited { parts in parts.header["__metadata__"] = ["other": "x"] }
        #expect(Self.refusal(noMetadata)?.contains("not a trapline model") == true)
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("format version", { $0["formatVersion"] = 7 }),
            (
                "keptChannels of unit 5",
                { meta in
                    var kept = meta["keptChannels"] as! [[Int]]
                    kept[5] = [kept[5][0], kept[5][0] + 8, 8, 8]
                    meta["keptChannels"] = kept
                }
            ),
            (
                "slice plan 4",
                { meta in
                    var plans = meta["slicePlans"] as! [String: Any]
                    plans["4"] = [0, 9, 5, 12, 18]
                    meta["slicePlans"] = plans
                }
            ),
            (
                "class names",
                { meta in
                    var classes = meta["classes"] as! [String: Any]
                    classes["names"] = ["just one"]
                    meta["classes"] = classes
                }
            ),
            (
                "receives",
                { meta in
                    var units = meta["units"] as! [[String: Any]]
                    units[3]["inChannels"] = 17
                    meta["units"] = units
                }
            ),
            ("pruneLevels", { $0["pruneLevels"] = [0.5, 0.25] }),
            (
                "taxonomy has 999 classes",
                { Self.editTaxonomy(&$0) { $0["classes"] = Array(($0["classes"] as! [Any]).dropLast()) } }
            ),
            (
                "names parent 500, which must come before it",
                { Self.editTaxonomy(&$0) { Self.editTaxon(&$0, 3) { $0["parent"] = 500 } } }
            ),
            (
                "unknown rank \"tribe\"",
                { Self.editTaxonomy(&$0) { Self.editTaxon(&$0, 3) { $0["rank"] = "tribe" } } }
            ),
            (
                "has a parent whose rank is not above its own",
                { Self.editTaxonomy(&$0) { Self.editTaxon(&$0, 4) { $0["rank"] = "kingdom" } } }
            ),
            (
                "empty or repeated name",
                { Self.editTaxonomy(&$0) { Self.editTaxon(&$0, 5) { $0["name"] = "Animalia" } } }
            ),
            (
                "class 12 has type vehicle, which disagrees with animalRanges",
                { Self.editTaxonomy(&$0) { Self.editClass(&$0, 12) { $0["type"] = "vehicle" } } }
            ),
            (
                "class 20 names taxon 100000, out of range",
                { Self.editTaxonomy(&$0) { Self.editClass(&$0, 20) { $0["taxon"] = 100_000 } } }
            ),
            ("taxonomy", { Self.editTaxonomy(&$0) { Self.editClass(&$0, 20) { $0["type"] = "plant" } } }),
        ]
        try Self.expectRefusals(cases)
    }

    /// Each metadata edit makes the loader refuse the file (the bundled one by default) with a message
    /// containing its text.
    static func expectRefusals(_ cases: [(String, (inout [String: Any]) -> Void)], in source: [UInt8] = original)
        throws
    {
        for (expected, change) in cases {
            let bytes = try edited(source) { parts in
                var meta = parts.metadata
                change(&meta)
                parts.metadata = meta
            }
            let message = refusal(bytes)
            #expect(message?.contains(expected) == true, "\(expected): \(message ?? "accepted")")
        }
    }
}

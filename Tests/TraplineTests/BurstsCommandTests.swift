import Foundation
import Labels
import TestSupport
import Testing

/// `trapline bursts` on real JPEG bursts: the animal is found and named, and every kind of bad burst gives a
/// clear result per frame without stopping the others.
@Suite(.serialized) struct BurstsCommandTests {
    static func run(_ arguments: [String], check: Bool = true) throws -> (status: Int32, bursts: [[String: Any]]) {
        let result = try runCommand(
            InspectCommandTests.binary(), ["bursts", "--json", "--model", ClassifyCommandTests.model] + arguments,
            check: check)
        let document = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let timing = try #require(document["timing"] as? [String: Any])
        #expect(timing["frames"] as? Int != nil && timing["localiseMs"] as? Double != nil)
        return (result.status, try #require(document["bursts"] as? [[String: Any]]))
    }

    static func frames(_ burst: [String: Any]) -> [[String: Any]] { burst["frames"] as? [[String: Any]] ?? [] }

    @Test func aWalkingAnimalIsBoxedAndNamedFromItsCrop() throws {
        try withTemporaryDirectory { dir in
            let truths = try BurstFixture.write(to: dir.file("walk"), frames: 5)
            let (status, bursts) = try Self.run([dir.file("walk")])
            #expect(status == 0)
            let frames = Self.frames(try #require(bursts.first))
            #expect(frames.count == 5)
            for (frame, truth) in zip(frames, truths) {
                #expect(frame["localised"] as? Bool == true)
                let boxes = frame["boxes"] as? [[String: Any]] ?? []
                let best = boxes.map { BurstFixture.iou(truth, $0) }.max() ?? 0
                #expect(best >= 0.5, "\(frame["file"] ?? ""): boxes \(boxes)")
                let combined = try #require(frame["combined"] as? [String: Any])
                #expect(combined["observationType"] as? String == "animal")
                #expect(frame["labelBox"] as? Int != nil, "the crop named the frame")
            }
            let event = try #require(bursts.first?["event"] as? [String: Any])
            #expect(event["observationType"] as? String == "animal")
            // The same burst labelled whole only: no boxes, nothing localised.
            let whole = try Self.run(["--no-localise", dir.file("walk")]).bursts
            #expect(Self.frames(whole[0]).allSatisfy { ($0["boxes"] as? [Any])?.isEmpty == true })
        }
    }

    @Test func badBurstsGiveAClearResultPerFrame() throws {
        try withTemporaryDirectory { dir in
            // A frame that does not decode: it fails alone; the other four are still localised.
            _ = try BurstFixture.write(to: dir.file("broken"), frames: 4)
            try Data("not a photo".utf8).write(to: URL(fileURLWithPath: dir.file("broken/f002.jpg")))
            // A frame of another size: labelled whole, the rest localised without it.
            _ = try BurstFixture.write(to: dir.file("sizes"), frames: 4)
            _ = try BurstFixture.write(to: dir.file("other"), frames: 1, width: 320, seed: 9)
            // The odd frame comes first: the background model is still the commonest size's.
            try FileManager.default.removeItem(atPath: dir.file("sizes/f000.jpg"))
            try FileManager.default.copyItem(atPath: dir.file("other/f000.jpg"), toPath: dir.file("sizes/f000.jpg"))
            // All black and all white bursts, and a burst of one frame.
            _ = try BurstFixture.write(to: dir.file("black"), frames: 3, fill: 0)
            _ = try BurstFixture.write(to: dir.file("white"), frames: 3, fill: 255)
            let (status, bursts) = try Self.run(
                [
                    dir.file("broken"), dir.file("sizes"), dir.file("black"), dir.file("white"),
                    dir.file("other/f000.jpg"),
                ],
                check: false)
            #expect(status == 1, "a failed frame makes the exit status 1")
            #expect(bursts.count == 5)
            let broken = Self.frames(bursts[0])
            #expect(broken[2]["status"] as? String == "failed" && !((broken[2]["error"] as? String) ?? "").isEmpty)
            for n in [0, 1, 3] {
                #expect(broken[n]["status"] as? String == "labeled" && broken[n]["localised"] as? Bool == true)
            }
            let sizes = Self.frames(bursts[1])
            #expect(sizes[1...].allSatisfy { $0["localised"] as? Bool == true && $0["burstFrames"] as? Int == 3 })
            #expect(sizes[0]["localised"] as? Bool == false)
            #expect(sizes[0]["wholeOnlyReason"] as? String == "its size differs from the rest of its burst")
            for blank in [bursts[2], bursts[3]] {
                for frame in Self.frames(blank) {
                    #expect(frame["status"] as? String == "labeled")
                    #expect((frame["boxes"] as? [Any])?.isEmpty == true)
                }
            }
            let single = Self.frames(bursts[4])
            #expect(single.count == 1 && single[0]["localised"] as? Bool == false)
            #expect(single[0]["wholeOnlyReason"] as? String == "its burst has one frame")
        }
    }

    @Test func aLongBurstIsLocalisedInWindows() throws {
        try withTemporaryDirectory { dir in
            _ = try BurstFixture.write(to: dir.file("long"), frames: 200, width: 160)
            let (status, bursts) = try Self.run(["--batch", "32", dir.file("long")])
            #expect(status == 0)
            let frames = Self.frames(bursts[0])
            #expect(frames.count == 200)
            let models = Set(frames.map { $0["burstFrames"] as? Int ?? -1 })
            #expect(frames.allSatisfy { $0["status"] as? String == "labeled" } && models == [10], "\(models)")
        }
    }

    @Test func nameBadArguments() throws {
        let missing = try runCommand(
            InspectCommandTests.binary(), ["bursts", "/nonexistent/folder"], check: false)
        #expect(missing.status != 0 && missing.errorOutput.contains("/nonexistent/folder"))
        let threshold = try runCommand(
            InspectCommandTests.binary(), ["bursts", "--crop-threshold", "2", "/tmp"], check: false)
        #expect(threshold.status != 0 && threshold.errorOutput.contains("--crop-threshold"))
    }
}

import Foundation
import Imaging
import Labels
import SystemPackage
import TestSupport
import Testing

/// What a worker prepares for the head (`ring.offload`): the same planner on the files' bytes gives what the head
/// gives from disk, and the wire carries it across bit for bit.
@Suite struct PreparedBatchWireTests {
    static func planner() throws -> BurstPlanner {
        let spec = ModelInputSpec(
            width: 224, height: 224, crop: .full, mean: SIMD3(0.485, 0.456, 0.406), scale: SIMD3(0.229, 0.224, 0.225))
        var preparer = ImagePreparer(spec: spec)
        preparer.thumbnailWidth = 96
        return BurstPlanner(preparer: preparer, settings: BurstSettings())
    }

    /// A moving dog in a five-frame burst, a frame that is not a JPEG and a frame that is gone, in two batches.
    @Test func aWorkersPreparationIsTheHeadsBitForBit() throws {
        try withTemporaryDirectory { dir in
            let folder = dir.file("burst")
            _ = try BurstFixture.write(to: folder, frames: 5)
            let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jpg") }
            let paths = names.sorted().map { folder + "/" + $0 }
            try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: dir.file("text.jpg")))
            let gone = dir.file("gone.jpg")
            let frames =
                paths.map { BurstFrame(id: $0, path: $0, burst: paths) }
                + [
                    BurstFrame(id: "text", path: dir.file("text.jpg"), burst: []),
                    BurstFrame(id: "gone", path: gone, burst: []),
                ]
            for batch in [Array(frames[0..<3]), Array(frames[3...])] {
                let head = try Self.planner()
                let local = head.plan(batch)
                // The worker gets every file the preparation reads, or the error reading it gave.
                var files: [String: Result<[UInt8], ImagingError>] = [:]
                for path in head.paths(for: batch) {
                    files[path] = Result { try ImageFile.read(FilePath(path)) }.mapError { $0 as! ImagingError }
                }
                #expect(Set(head.paths(for: batch)).isSuperset(of: paths), "a frame's burst window is sent")
                let worker = try Self.planner()
                let remote = worker.plan(batch, files: files)
                let (plan, pixels) = try PreparedBatchWire.encode(remote)
                let received = try PreparedBatchWire.decode(frames: batch, plan: plan, pixels: pixels)
                for candidate in [remote, received] {
                    #expect(candidate.slots == local.slots)
                    #expect(candidate.inputs == local.inputs, "every input's pixels are the head's")
                    #expect(candidate.frames.map(\.motion) == local.frames.map(\.motion))
                    #expect(candidate.frames.map(\.carried) == local.frames.map(\.carried))
                    #expect(candidate.frames.map(\.failure?.code) == local.frames.map(\.failure?.code))
                    #expect(candidate.frames.map(\.failure?.message) == local.frames.map(\.failure?.message))
                    #expect(candidate.frames.map(\.burstFrames) == local.frames.map(\.burstFrames))
                    #expect(candidate.frames.map(\.wholeOnlyReason) == local.frames.map(\.wholeOnlyReason))
                    #expect(candidate.frames.map(\.thumbnail) == local.frames.map(\.thumbnail))
                }
                let crops = local.slots.filter { if case .crop = $0 { true } else { false } }
                #expect(!crops.isEmpty, "the moving dog's crops are among the slots")
            }
            let failures = try Self.planner().plan(Array(frames[5...])).frames.map { $0.failure?.code.description }
            #expect(failures == ["not-jpeg", "not-found"])
        }
    }

    /// A reply that does not describe the frames sent is refused, never trusted.
    @Test func aMalformedReplyIsRefused() throws {
        try withTemporaryDirectory { dir in
            let folder = dir.file("burst")
            _ = try BurstFixture.write(to: folder, frames: 3)
            let paths = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { folder + "/" + $0 }
            let frames = paths.map { BurstFrame(id: $0, path: $0, burst: paths) }
            let (plan, pixels) = try PreparedBatchWire.encode(try Self.planner().plan(frames))
            #expect(throws: ImagingError.self) {
                try PreparedBatchWire.decode(frames: frames, plan: plan, pixels: Array(pixels.dropLast()))
            }
            #expect(throws: ImagingError.self) {
                try PreparedBatchWire.decode(frames: Array(frames.dropLast()), plan: plan, pixels: pixels)
            }
            #expect(throws: ImagingError.self) {
                try PreparedBatchWire.decode(frames: frames, plan: Array("{}".utf8), pixels: pixels)
            }
            var text = String(decoding: plan, as: UTF8.self)
            text = text.replacingOccurrences(of: "\"whole\"", with: "\"sideways\"")
            #expect(throws: ImagingError.self) {
                try PreparedBatchWire.decode(frames: frames, plan: Array(text.utf8), pixels: pixels)
            }
        }
    }
}

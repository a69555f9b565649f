import Foundation
import TestSupport
import Testing

@testable import Catalog

@Suite struct TimingSummaryTests {
    /// Commits a batch of `size` labelled images with the given step timings, completed at `completed`.
    static func commit(
        _ catalog: Catalog, size: Int, timings: [String: Double], completed: Double, first: Int
    ) throws -> Int64 {
        let ids = (first..<(first + size)).map { "h\($0)" }
        for id in ids { _ = try catalog.register(CatalogTests.arrival(id, path: "/in/A05/\(id).jpg")) }
        var batch = CatalogTests.batch(ids.map { CatalogTests.label($0) }, completed: completed)
        batch.nodeTimings = timings
        return try catalog.commit(batch, eventGapSeconds: 60)
    }

    @Test func stepsAreSummedPerImageAndTheCommitIsAddedAfterwards() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            // Batch 1: 2 images; batch 2: 8 images. Values are binary fractions, so every sum below is exact.
            let one = try Self.commit(
                catalog, size: 2,
                timings: [
                    "head.read": 0.5, "jpeg.decode": 0.25, "head.ring": 1.0, "head.slice": 0.25, "head.codec": 0.125,
                    "n1.compute": 0.5,
                ],
                completed: 2_000, first: 0)
            let two = try Self.commit(
                catalog, size: 8,
                timings: [
                    "head.read": 0.5, "jpeg.decode": 2.0, "burst.crops": 3, "offloaded": 1, "head.offloadRead": 0.25,
                    "n2.prepare": 1.0,
                ],
                completed: 2_010, first: 2)
            try catalog.addTiming("head.commit", seconds: 0.125, batchID: one)
            try catalog.addTiming("head.commit", seconds: 0.5, batchID: two)
            let records = try catalog.batchTimings()
            #expect(records.map(\.batchID) == [one, two])
            #expect(records.map(\.size) == [2, 8])
            #expect(records[0].timings["head.commit"] == 0.125)
            #expect(records[0].timings["head.read"] == 0.5)
            let summary = TimingSummary(records)
            #expect(summary.batches == 2)
            #expect(summary.images == 10)
            func step(_ key: String) -> TimingSummary.Step? { summary.head.first { $0.key == key } }
            // Reading: 1 s over 10 images is 100 ms per image; per batch 250 and 62.5 ms per image.
            #expect(step("head.read")?.msPerImage == 100)
            #expect(step("head.read")?.p50 == 62.5)
            #expect(step("head.read")?.p95 == 250)
            // Decoding: 2.25 s over 10 images.
            #expect(step("jpeg.decode")?.msPerImage == 225)
            // Only the first batch went round a ring: its wait is the round trip less the head's own hop, 0.625 s,
            // over every image (the other batch waited for none).
            #expect(step("head.ringWait")?.msPerImage == 62.5)
            #expect(step("head.ringWait")?.batches == 1)
            #expect(step("head.ringWait")?.work == false)
            // The commit: 0.625 s over 10 images.
            #expect(step("head.commit")?.msPerImage == 62.5)
            // Counts are not steps; ring hops are listed by node.
            #expect(step("burst.crops") == nil)
            #expect(summary.nodes.map(\.key) == ["n1.compute", "n2.prepare"])
            #expect(summary.nodes.map(\.msPerImage) == [50, 100])
            // The second batch was prepared by n2: the head only read its files.
            #expect(summary.offloaded == 1)
            #expect(step("head.offloadRead")?.msPerImage == 25)
            // The head's work: reading, its files read for n2, decoding, its own units and coding, and the commit
            // (the waits are not work).
            let expected = 100.0 + 25 + 225 + 25 + 12.5 + 62.5
            #expect(summary.headWorkMsPerImage == expected)
            // Only the newest, and only since a time.
            #expect(try catalog.batchTimings(last: 1).map(\.batchID) == [two])
            #expect(try catalog.batchTimings(since: 2_005).map(\.batchID) == [two])
        }
    }

    @Test func anEmptyCatalogSummarisesToNothing() throws {
        try withTemporaryDirectory { dir in
            let summary = TimingSummary(try Catalog(path: dir.file("c.db")).batchTimings())
            #expect(summary.batches == 0)
            #expect(summary.head.isEmpty)
            #expect(summary.headWorkMsPerImage == 0)
        }
    }
}

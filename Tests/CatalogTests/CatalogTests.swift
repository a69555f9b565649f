import Foundation
import TestSupport
import Testing

@testable import Catalog

@Suite struct CatalogTests {
    static func arrival(_ id: String, path: String, deployment: String = "A05", time: Double = 1_000) -> MediaArrival {
        MediaArrival(
            mediaID: id, deploymentID: deployment, filePath: path, fileName: String(path.split(separator: "/").last!),
            fileSize: 10, fileModified: time,
            timestamp: CatalogTime(iso8601: Catalog.iso(time), hasOffset: true, key: time),
            timestampSource: "test", cameraMake: "Reconyx", cameraModel: "HC600", cameraSerial: "H6001"
        )
    }

    static func label(_ id: String, blank: Bool = false, name: String = "Sciurus niger") -> LabelRecord {
        LabelRecord(
            mediaID: id, observationType: blank ? "blank" : "animal", scientificName: blank ? nil : name,
            taxonRank: blank ? nil : "species", vernacularName: blank ? nil : "fox squirrel", classIndex: 335,
            probability: 0.7, animalProbability: blank ? 0.1 : 0.9, topClassesJSON: "[]"
        )
    }

    static func batch(_ labels: [LabelRecord], failures: [FailureRecord] = [], completed: Double = 2_000) -> BatchResult
    {
        BatchResult(
            firstArrival: 1_990, deadline: 2_001, completed: completed, levels: [0.5], nodeTimings: ["local": 0.4],
            modelID: "m1", modelName: "lite0", labels: labels, failures: failures
        )
    }

    @Test func schemaModesAndIdentityByContent() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            #expect(try sqlite(dir.file("c.db"), "PRAGMA journal_mode").first?.first == "wal")
            #expect(try catalog.register(Self.arrival("h1", path: "/in/A05/a.jpg")) == .new)
            #expect(try catalog.register(Self.arrival("h1", path: "/in/A05/a.jpg")) == .known)
            #expect(
                try catalog.register(Self.arrival("h1", path: "/in/A05/renamed.jpg")) == .moved(from: "/in/A05/a.jpg"))
            #expect(try catalog.pending().map(\.filePath) == ["/in/A05/renamed.jpg"])
            #expect(try catalog.isKnown(path: "/in/A05/renamed.jpg", size: 10, modified: 1_000))
            #expect(try !catalog.isKnown(path: "/in/A05/renamed.jpg", size: 11, modified: 1_000))
            #expect(
                try sqlite(dir.file("c.db"), "SELECT cameraModel, cameraID FROM deployments").first == [
                    "Reconyx HC600", "H6001",
                ])
        }
    }

    @Test func batchCommitIsAtomicAndNeverLabelsTwice() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            for n in 0..<3 { _ = try catalog.register(Self.arrival("h\(n)", path: "/in/A05/\(n).jpg")) }
            let failure = FailureRecord(mediaID: "h2", code: "truncated", message: "ends early")
            try catalog.commit(
                Self.batch([Self.label("h0"), Self.label("h1", blank: true)], failures: [failure]), eventGapSeconds: 60)
            // The same batch again (as after a crash between labelling and the next start): nothing doubles.
            try catalog.commit(Self.batch([Self.label("h0")]), eventGapSeconds: 60)
            let db = dir.file("c.db")
            #expect(
                try sqlite(db, "SELECT status, COUNT(*) FROM media GROUP BY status ORDER BY status") == [
                    ["failed", "1"], ["labeled", "2"],
                ])
            #expect(try sqlite(db, "SELECT COUNT(*) FROM observations").first?.first == "2")
            #expect(
                try sqlite(db, "SELECT observationType, scientificName FROM observations ORDER BY mediaID") == [
                    ["animal", "Sciurus niger"], ["blank", ""],
                ])
            #expect(
                try sqlite(db, "SELECT errorCode, error FROM media WHERE mediaID = 'h2'").first == [
                    "truncated", "ends early",
                ])
            #expect(
                try sqlite(db, "SELECT met, levels, size FROM batches ORDER BY batchID").first == ["1", "[0.5]", "3"])
            #expect(
                try sqlite(db, "SELECT scientificName, taxonRank, vernacularName, images FROM species_counts") == [
                    ["Sciurus niger", "species", "fox squirrel", "1"]
                ])
            #expect(try sqlite(db, "SELECT batches, met FROM slo_by_hour") == [["2", "2"]])
            let summary = try catalog.summary()
            #expect(summary.labeled == 2 && summary.failed == 1 && summary.blank == 1 && summary.batches == 2)
        }
    }

    /// A fresh catalog has no batches: its aggregates are NULL, which the summary and the status page read as
    /// nothing yet, not as an error.
    @Test func anEmptyCatalogSummarises() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            let summary = try catalog.summary()
            #expect(summary.batches == 0 && summary.batchesMet == 0 && summary.pending == 0)
            #expect(summary.meanLatencyMs == nil && summary.lastBatch == nil && summary.species.isEmpty)
            let snapshot = try catalog.statusSnapshot(now: 1_000)
            #expect(snapshot.slo.isEmpty && snapshot.latest.isEmpty && snapshot.controller.isEmpty)
            #expect(try catalog.lastControllerEventID() == 0)
            #expect(try catalog.integrityCheck() == "ok")
        }
    }

    /// A slice that ran a slice option is recorded by name, so `pruneLevels` and `levels` stay JSON arrays that
    /// sqlite3's JSON functions read: numbers for width levels, strings for options.
    @Test func sliceOptionsAreRecordedByName() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            _ = try catalog.register(Self.arrival("h0", path: "/in/A05/0.jpg"))
            var batch = Self.batch([Self.label("h0")])
            batch.levels = [0.0, SliceLevel(fraction: 0, option: "skip"), 0.5, 0.0]
            try catalog.commit(batch, eventGapSeconds: 60)
            try catalog.recordControllerEvent(
                kind: "levels", node: nil, levels: batch.levels, reason: "test", at: 2_000)
            let db = dir.file("c.db")
            #expect(try sqlite(db, "SELECT levels FROM batches").first == ["[0.0,\"skip\",0.5,0.0]"])
            #expect(
                try sqlite(
                    db, "SELECT json_extract(pruneLevels, '$[1]'), json_extract(pruneLevels, '$[2]') FROM observations"
                )
                .first == ["skip", "0.5"])
            #expect(try sqlite(db, "SELECT json_valid(levels) FROM controller_events").first == ["1"])
        }
    }

    @Test func eventsGroupImagesCloserThanTheGap() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            let times: [Double] = [1_000, 1_030, 1_085, 1_300, 5_000]
            for (n, t) in times.enumerated() {
                _ = try catalog.register(Self.arrival("h\(n)", path: "/in/A05/\(n).jpg", time: t))
            }
            _ = try catalog.register(Self.arrival("other", path: "/in/B01/x.jpg", deployment: "B01", time: 1_010))
            try catalog.commit(
                Self.batch((0..<5).map { Self.label("h\($0)") } + [Self.label("other")]), eventGapSeconds: 60)
            let rows = try sqlite(
                dir.file("c.db"), "SELECT mediaID, eventID, eventStart, eventEnd FROM observations ORDER BY mediaID")
            let events = Dictionary(uniqueKeysWithValues: rows.map { ($0[0], $0[1]) })
            #expect(events["h0"] == events["h1"] && events["h1"] == events["h2"])  // 30 s and 55 s apart
            #expect(events["h3"] != events["h2"] && events["h4"] != events["h3"])
            #expect(events["other"] != events["h0"])  // another deployment
            let first = try #require(rows.first { $0[0] == "h1" })
            #expect(first[2] == Catalog.iso(1_000) && first[3] == Catalog.iso(1_085))
        }
    }

    @Test func unreadableFileIsReplacedWhenItBecomesReadable() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            try catalog.recordUnreadable(
                path: "/in/A05/x.jpg", fileName: "x.jpg", deploymentID: "A05", code: "permission-denied", message: "no")
            #expect(
                try sqlite(dir.file("c.db"), "SELECT status, errorCode FROM media").first == [
                    "failed", "permission-denied",
                ])
            #expect(try catalog.register(Self.arrival("real", path: "/in/A05/x.jpg")) == .new)
            #expect(try sqlite(dir.file("c.db"), "SELECT mediaID, status FROM media") == [["real", "pending"]])
        }
    }

    @Test func catalogTimeFormatsAndKeys() {
        #expect(CatalogTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(CatalogTime.format(Date(timeIntervalSince1970: 1_578_471_586.25)) == "2020-01-08T08:19:46.250Z")
        #expect(CatalogTime.key(year: 2020, month: 1, day: 8, hour: 8, minute: 19, second: 46) == 1_578_471_586)
        #expect(
            CatalogTime.key(year: 2020, month: 1, day: 8, hour: 10, minute: 19, second: 46, offsetSeconds: 7_200)
                == 1_578_471_586)
        #expect(CatalogTime.key(year: 2000, month: 3, day: 1, hour: 0, minute: 0, second: 0) == 951_868_800)
    }

    @Test(arguments: [0, 3, 55, 56, 64, 1000, 100_000])
    func sha256MatchesSha256sum(length: Int) throws {
        try withTemporaryDirectory { dir in
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            try Data(bytes).write(to: URL(fileURLWithPath: dir.file("data")))
            let reference = try runCommand("sha256sum", [dir.file("data")]).output.prefix(64)
            #expect(SHA256.hex(bytes) == String(reference))
        }
    }
}

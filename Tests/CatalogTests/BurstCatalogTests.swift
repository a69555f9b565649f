import Foundation
import TestSupport
import Testing

@testable import Catalog

/// Boxes, event-level observations and the re-labelling of frames whose burst was incomplete.
@Suite struct BurstCatalogTests {
    static func boxed(_ id: String, context: Int = 1, relabel: Bool = false) -> LabelRecord {
        var label = CatalogTests.label(id)
        let box = BoxRecord(x: 0.25, y: 0.5, width: 0.125, height: 0.25, score: 3)
        label.boxes = [box, BoxRecord(x: 0.75, y: 0.1, width: 0.05, height: 0.05, score: 1.5)]
        label.box = box
        label.burstFrames = context >= 3 ? context : 0
        label.contextFrames = context
        label.classScores = "[[335,0.5],[336,0.25]]"
        label.relabel = relabel
        return label
    }

    /// An event labeller that records what it was given and writes the most common type.
    static let labeller: EventLabeler = { frames in
        let animals = frames.filter { $0.observationType == "animal" }.count
        var label = CatalogTests.label("", blank: animals == 0, name: "Sciuridae")
        label.taxonRank = animals == 0 ? nil : "family"
        label.topClassesJSON = "[\(frames.count)]"
        return label
    }

    @Test func boxesAndEventObservationsAreWrittenAndFollowTheEvents() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            let db = dir.file("c.db")
            for (n, t) in [1_000.0, 1_001, 1_002, 1_200].enumerated() {
                _ = try catalog.register(CatalogTests.arrival("h\(n)", path: "/in/A05/\(n).jpg", time: t))
            }
            try catalog.commit(
                CatalogTests.batch([Self.boxed("h0", context: 3), Self.boxed("h1", context: 3)]), eventGapSeconds: 60,
                eventLabeler: Self.labeller)
            #expect(
                try sqlite(
                    db, "SELECT bboxX, bboxY, bboxWidth, bboxHeight, burstFrames FROM observations WHERE mediaID = 'h0'"
                )
                .first == ["0.25", "0.5", "0.125", "0.25", "3"])
            #expect(try sqlite(db, "SELECT COUNT(*) FROM boxes WHERE mediaID = 'h1'").first == ["2"])
            #expect(
                try sqlite(db, "SELECT observationType, scientificName, frames, animalFrames FROM event_observations")
                    == [["animal", "Sciuridae", "2", "2"]])
            // A blank frame joins the event: its label is made again from all three frames.
            try catalog.commit(
                CatalogTests.batch([CatalogTests.label("h2", blank: true)]), eventGapSeconds: 60,
                eventLabeler: Self.labeller)
            #expect(
                try sqlite(db, "SELECT frames, animalFrames, topClasses FROM event_observations") == [
                    ["3", "2", "[3]"]
                ])
            #expect(try sqlite(db, "SELECT COALESCE(bboxX, '-') FROM observations WHERE mediaID = 'h2'").first == ["-"])
            // A frame 200 s later is an event of its own.
            try catalog.commit(
                CatalogTests.batch([CatalogTests.label("h3", blank: true)]), eventGapSeconds: 60,
                eventLabeler: Self.labeller)
            #expect(
                try sqlite(db, "SELECT observationType, frames FROM event_observations ORDER BY eventStart")
                    == [["animal", "3"], ["blank", "1"]])
            // Without a labeller no event rows are touched: a fourth frame joins the last event, which keeps its
            // label of one frame.
            _ = try catalog.register(CatalogTests.arrival("h4", path: "/in/A05/4.jpg", time: 1_201))
            try catalog.commit(CatalogTests.batch([CatalogTests.label("h4")]), eventGapSeconds: 60)
            #expect(
                try sqlite(db, "SELECT observationType, frames FROM event_observations ORDER BY eventStart")
                    == [["animal", "3"], ["blank", "1"]])
        }
    }

    @Test func eventsThatMergeLeaveOneEventLabel() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            for (n, t) in [1_000.0, 1_100].enumerated() {
                _ = try catalog.register(CatalogTests.arrival("h\(n)", path: "/in/A05/\(n).jpg", time: t))
            }
            try catalog.commit(
                CatalogTests.batch([CatalogTests.label("h0"), CatalogTests.label("h1")]), eventGapSeconds: 60,
                eventLabeler: Self.labeller)
            #expect(try sqlite(dir.file("c.db"), "SELECT COUNT(*) FROM event_observations").first == ["2"])
            // The frame between them arrives: one event of three frames, and the two old event labels are gone.
            _ = try catalog.register(CatalogTests.arrival("h2", path: "/in/A05/2.jpg", time: 1_050))
            try catalog.commit(
                CatalogTests.batch([CatalogTests.label("h2")]), eventGapSeconds: 60, eventLabeler: Self.labeller)
            #expect(try sqlite(dir.file("c.db"), "SELECT frames FROM event_observations") == [["3"]])
        }
    }

    @Test func burstsChainByCaptureTimeWithinTheDeployment() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            for (n, t) in [1_000.0, 1_001, 1_003, 1_100, 1_101].enumerated() {
                _ = try catalog.register(CatalogTests.arrival("h\(n)", path: "/in/A05/\(n).jpg", time: t))
            }
            _ = try catalog.register(CatalogTests.arrival("b", path: "/in/B01/b.jpg", deployment: "B01", time: 1_001))
            let items = try catalog.pending()
            let bursts = try catalog.bursts(for: items, gapSeconds: 10, limit: 500)
            #expect(bursts["h1"] == ["/in/A05/0.jpg", "/in/A05/1.jpg", "/in/A05/2.jpg"])
            #expect(bursts["h4"] == ["/in/A05/3.jpg", "/in/A05/4.jpg"])
            #expect(bursts["b"] == ["/in/B01/b.jpg"])
            // At most `limit` frames on each side of the item.
            #expect(
                try catalog.bursts(for: items, gapSeconds: 10, limit: 1)["h0"] == ["/in/A05/0.jpg", "/in/A05/1.jpg"])
            // A gap of 0 (events off) makes every frame a burst of its own.
            #expect(try catalog.bursts(for: items, gapSeconds: 0, limit: 500)["h1"] == ["/in/A05/1.jpg"])
        }
    }

    /// A failed frame still links its neighbours into one burst, as it does into one event, and is left out of it;
    /// so a frame labelled with its whole burst is never a candidate for labelling again.
    @Test func aFailedFrameJoinsItsBurstWithoutBeingInIt() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            for (n, t) in [1_000.0, 1_050, 1_100, 1_110].enumerated() {
                _ = try catalog.register(CatalogTests.arrival("h\(n)", path: "/in/A05/\(n).jpg", time: t))
            }
            let failure = FailureRecord(mediaID: "h1", code: "corrupt", message: "bad data")
            try catalog.commit(CatalogTests.batch([], failures: [failure]), eventGapSeconds: 60)
            let bursts = try catalog.bursts(for: try catalog.pending(), gapSeconds: 60, limit: 500)
            #expect(bursts["h2"] == ["/in/A05/0.jpg", "/in/A05/2.jpg", "/in/A05/3.jpg"])
            try catalog.commit(
                CatalogTests.batch(["h0", "h2", "h3"].map { Self.boxed($0, context: 3) }), eventGapSeconds: 60)
            #expect(try catalog.relabelCandidates(quietSeconds: 0, now: Catalog.now() + 3_600, limit: 10).isEmpty)
        }
    }

    @Test func framesLabelledBeforeTheirBurstArrivedAreLabelledAgainOnce() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            let db = dir.file("c.db")
            for n in 0..<4 {
                _ = try catalog.register(
                    CatalogTests.arrival("h\(n)", path: "/in/A05/\(n).jpg", time: 1_000 + Double(n)))
            }
            // Frames 0 and 1 were labelled knowing one and two frames of their burst; 2 and 3 are still pending.
            try catalog.commit(
                CatalogTests.batch([Self.boxed("h0", context: 1), Self.boxed("h1", context: 2)]), eventGapSeconds: 60,
                eventLabeler: Self.labeller)
            let later = Catalog.now() + 3_600
            #expect(try catalog.relabelCandidates(quietSeconds: 60, now: later, limit: 10).isEmpty)  // pending left
            try catalog.commit(
                CatalogTests.batch([Self.boxed("h2", context: 4), Self.boxed("h3", context: 4)]), eventGapSeconds: 60,
                eventLabeler: Self.labeller)
            // Not before the event has been quiet for the gap.
            #expect(try catalog.relabelCandidates(quietSeconds: 60, now: Catalog.now(), limit: 10).isEmpty)
            let candidates = try catalog.relabelCandidates(quietSeconds: 60, now: later, limit: 10)
            #expect(candidates.map(\.mediaID) == ["h0", "h1"])
            #expect(candidates.allSatisfy { $0.relabel && $0.arrivedAt == later })
            // The new labels replace the old ones, boxes and all; a frame that cannot be read again keeps its
            // label and is not tried again until the event grows.
            var relabelled = Self.boxed("h0", context: 4, relabel: true)
            relabelled.boxes = []
            relabelled.box = nil
            relabelled.scientificName = "Vulpes vulpes"
            var unreadable = FailureRecord(mediaID: "h1", code: "read-failed", message: "gone")
            unreadable.relabelContext = 4
            try catalog.commit(
                CatalogTests.batch([relabelled], failures: [unreadable]), eventGapSeconds: 60,
                eventLabeler: Self.labeller)
            #expect(
                try sqlite(
                    db,
                    "SELECT scientificName, contextFrames, COALESCE(bboxX, '-') FROM observations WHERE mediaID = 'h0'")
                    == [["Vulpes vulpes", "4", "-"]])
            #expect(try sqlite(db, "SELECT COUNT(*) FROM boxes WHERE mediaID = 'h0'").first == ["0"])
            #expect(
                try sqlite(
                    db,
                    "SELECT status, scientificName FROM media JOIN observations USING (mediaID) WHERE mediaID = 'h1'")
                    == [["labeled", "Sciurus niger"]])
            #expect(try catalog.relabelCandidates(quietSeconds: 60, now: later, limit: 10).isEmpty)
            #expect(try sqlite(db, "SELECT COUNT(*) FROM observations").first == ["4"])
            // A relabel of a frame that is not labelled (pending, failed) writes nothing.
            _ = try catalog.register(CatalogTests.arrival("p", path: "/in/A05/p.jpg", time: 5_000))
            try catalog.commit(CatalogTests.batch([Self.boxed("p", relabel: true)]), eventGapSeconds: 60)
            #expect(try sqlite(db, "SELECT status FROM media WHERE mediaID = 'p'").first == ["pending"])
        }
    }
}

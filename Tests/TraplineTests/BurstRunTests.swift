import Foundation
import TestSupport
import Testing

/// The daemon with a burst arriving frame by frame, as a camera writes it: each frame is labelled inside its
/// deadline with the frames that have arrived, and labelled again once its event has closed; the event gets its
/// own observation, and the Camtrap DP export (boxes, event-level rows) validates.
@Suite(.serialized, .timeLimit(.minutes(10))) struct BurstRunTests {
    @Test func aBurstArrivingFrameByFrameIsLabelledAgainWhenItCloses() throws {
        let site = try RunCommandTests.Site(extraConfig: "events:\n  gapSeconds: 4")
        defer { site.directory.remove() }
        let staging = site.directory.file("camera")
        let truths = try BurstFixture.write(to: staging, frames: 5)
        let daemon = try Daemon(binary: InspectCommandTests.binary(), config: site.config, directory: site.directory)
        try daemon.start()
        let names = try FileManager.default.contentsOfDirectory(atPath: staging).sorted()
        try FileManager.default.createDirectory(atPath: site.watch + "/A05", withIntermediateDirectories: true)
        for (n, name) in names.enumerated() {
            // Capture times one second apart (the file's modification time stands in for EXIF's).
            try runCommand("touch", ["-d", "@\(1_600_000_000 + n)", staging + "/" + name])
            try FileManager.default.moveItem(atPath: staging + "/" + name, toPath: site.watch + "/A05/" + name)
            #expect(try waitUntil(timeout: 60) { try site.count("status = 'labeled'") == n + 1 })
        }
        let first = try sqlite(site.catalog, "SELECT contextFrames FROM observations ORDER BY contextFrames")
        #expect(first.first == ["1"], "the first frame was labelled alone, inside its deadline")
        // Quiet for events.gapSeconds, then every frame is labelled again knowing all five.
        #expect(
            try waitUntil(timeout: 90) {
                try sqlite(site.catalog, "SELECT COUNT(*) FROM observations WHERE contextFrames = 5").first == ["5"]
            })
        #expect(daemon.stop() == 0)
        #expect(daemon.logText.contains("labelling again the frames of closed bursts"))
        let rows = try sqlite(
            site.catalog,
            """
            SELECT m.fileName, o.burstFrames, o.observationType, COALESCE(o.bboxX, ''), COALESCE(o.bboxY, ''),
                   COALESCE(o.bboxWidth, ''), COALESCE(o.bboxHeight, '')
            FROM observations o JOIN media m USING (mediaID) ORDER BY m.fileName
            """)
        #expect(rows.count == 5)
        for (row, truth) in zip(rows, truths) {
            #expect(row[1] == "5" && row[2] == "animal", "\(row)")
            let values = row[3...6].map { Double($0) ?? 0 }
            let box: [String: Any] = ["x": values[0], "y": values[1], "width": values[2], "height": values[3]]
            #expect(BurstFixture.iou(truth, box) >= 0.5, "\(row)")
        }
        #expect(try sqlite(site.catalog, "SELECT COUNT(*) FROM media").first == ["5"], "relabelling adds no media")
        #expect(
            try sqlite(site.catalog, "SELECT frames, animalFrames, observationType FROM event_observations")
                == [["5", "5", "animal"]])
        try runCommand("sqlite3", [site.catalog, "UPDATE deployments SET latitude = 4.2, longitude = -71.3"])
        let package = site.directory.file("package")
        let export = try runCommand(
            InspectCommandTests.binary(),
            ["export", "camtrap-dp", package, "--config", site.config, "--utc-offset=-05:00"])
        #expect(export.output.contains("5 observations of media and 1 of events"))
        let validation = try runCommand(
            "python3",
            [Fixtures.referenceScript("validate_camtrap_dp.py"), package, Fixtures.referenceScript("camtrap-dp")],
            check: false)
        #expect(validation.output.trimmingCharacters(in: .whitespacesAndNewlines) == "valid", "\(validation.output)")
        let csv = try String(contentsOfFile: package + "/observations.csv", encoding: .utf8)
        #expect(csv.contains(",event,animal,"), "the event-level observation is exported")
    }
}

import Foundation
import TestSupport
import Testing

/// `trapline ingest` (a resumable backfill) and `trapline status`.
@Suite struct IngestAndStatusCommandTests {
    @Test func readingCommandsNameAMissingCatalogAndCreateNothing() throws {
        try withTemporaryDirectory { dir in
            let catalog = dir.file("state/catalog.db")
            for arguments in [
                ["status", "--catalog", catalog],
                ["export", "megadetector", dir.file("md.json"), "--catalog", catalog],
            ] {
                let result = try runCommand(InspectCommandTests.binary(), arguments, check: false)
                #expect(result.status == 1)
                #expect(result.errorOutput.contains("no catalog at \(catalog): `trapline run` or `trapline ingest`"))
            }
            #expect(!FileManager.default.fileExists(atPath: dir.file("state")))
        }
    }

    @Test func backfillLabelsEverythingOnceAndStatusSummarises() throws {
        try withTemporaryDirectory { dir in
            let folder = dir.file("old-card")
            let small = try RunCommandTests.smallJPEG(dir)
            for n in 0..<30 {
                let path = folder + "/A0\(n % 3)/img-\(n).jpg"
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(distinctJPEG(small, number: n)).write(to: URL(fileURLWithPath: path))
                // Two minutes apart: separate events, each labelled whole (ten copies of one photo would be a
                // burst in which nothing moves).
                try runCommand("touch", ["-d", "@\(1_600_000_000 + 120 * n)", path])
            }
            try Data("not a photo".utf8).write(to: URL(fileURLWithPath: folder + "/A00/broken.jpg"))
            let catalog = dir.file("catalog.db")
            let arguments = ["ingest", folder, "--catalog", catalog, "--model", ClassifyCommandTests.model]
            let first = try runCommand(InspectCommandTests.binary(), arguments)
            #expect(first.output.contains("done: 30 labelled, 1 failed"))
            #expect(first.output.contains("labelling 31/31"))  // plain progress lines when not on a terminal
            let again = try runCommand(InspectCommandTests.binary(), arguments)
            #expect(again.output.contains("done: 0 labelled, 0 failed"))
            #expect(
                try sqlite(catalog, "SELECT COUNT(*), COUNT(DISTINCT mediaID) FROM observations").first == ["30", "30"])
            let status = try runCommand(InspectCommandTests.binary(), ["status", "--catalog", catalog])
            #expect(status.output.contains("31: 30 labelled"))
            #expect(status.output.contains("1 failed"))
            #expect(status.output.contains("broken.jpg"))

            let exported = dir.file("exports/megadetector/md.json")  // folders that do not exist yet
            let export = try runCommand(
                InspectCommandTests.binary(), ["export", "megadetector", exported, "--catalog", catalog])
            #expect(export.output.contains("31 images"))
            try Self.checkMegaDetector(exported)

            // Camtrap DP needs coordinates and a UTC offset: first the clear refusals, then a valid package.
            let package = dir.file("camtrap-dp")
            let noCoordinates = try runCommand(
                InspectCommandTests.binary(),
                ["export", "camtrap-dp", package, "--catalog", catalog, "--utc-offset=-05:00"],
                check: false
            )
            #expect(noCoordinates.status != 0 && noCoordinates.errorOutput.contains("UPDATE deployments SET latitude"))
            try runCommand(
                "sqlite3", [catalog, "UPDATE deployments SET latitude = 4.2 + rowid / 100.0, longitude = -71.3"])
            let written = try runCommand(
                InspectCommandTests.binary(),
                ["export", "camtrap-dp", package, "--catalog", catalog, "--utc-offset=-05:00"]
            )
            #expect(written.output.contains("3 deployments, 31 media, 30 observations of media and 30 of events"))
            let validation = try runCommand(
                "python3",
                [Fixtures.referenceScript("validate_camtrap_dp.py"), package, Fixtures.referenceScript("camtrap-dp")],
                check: false
            )
            #expect(
                validation.output.trimmingCharacters(in: .whitespacesAndNewlines) == "valid", "\(validation.output)")
            // The same validation accepts the official example package: the set-up itself is right.
            let example = try runCommand(
                "python3",
                [
                    Fixtures.referenceScript("validate_camtrap_dp.py"), Fixtures.referenceScript("camtrap-dp/example"),
                    Fixtures.referenceScript("camtrap-dp"),
                ],
                check: false
            )
            #expect(example.output.trimmingCharacters(in: .whitespacesAndNewlines) == "valid", "\(example.output)")
            let observations = try String(contentsOfFile: package + "/observations.csv", encoding: .utf8)
            let descriptor = try String(contentsOfFile: package + "/datapackage.json", encoding: .utf8)
            #expect(descriptor.contains("\"taxonRank\""), "the taxonomic list carries ranks")
            #expect(!observations.contains(", German shepherd dog,"), "no ImageNet descriptions as scientific names")
        }
    }

    /// The MegaDetector batch output format (1.4), as its readers expect it.
    static func checkMegaDetector(_ path: String) throws {
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let info = try #require(json["info"] as? [String: Any])
        #expect(info["format_version"] as? String == "1.4")
        #expect((json["detection_categories"] as? [String: String])?["1"] == "animal")
        let categories = try #require(json["classification_categories"] as? [String: String])
        let images = try #require(json["images"] as? [[String: Any]])
        #expect(images.count == 31)
        let failed = images.filter { $0["failure"] != nil }
        #expect(failed.count == 1 && (failed.first?["file"] as? String)?.hasSuffix("broken.jpg") == true)
        for image in images where image["failure"] == nil {
            let detections = try #require(image["detections"] as? [[String: Any]])
            for detection in detections {
                #expect(["1", "2", "3"].contains(detection["category"] as? String ?? ""))
                #expect(detection["bbox"] as? [Double] == [0, 0, 1, 1])
                let classifications = try #require(detection["classifications"] as? [[Any]])
                for pair in classifications {
                    let category = try #require(pair.first as? String)
                    #expect(categories[category] != nil)
                    #expect((pair.last as? Double).map { (0...1).contains($0) } == true)
                }
                // An animal's first classification is the written taxon, named by its Latin name.
                if detection["category"] as? String == "1", let first = classifications.first?.first as? String {
                    #expect(Int(first).map { $0 >= 100_000 } == true)
                    #expect(categories[first].map { !$0.contains(",") && $0.first?.isUppercase == true } == true)
                }
            }
        }
    }
}

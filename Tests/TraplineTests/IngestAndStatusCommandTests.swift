import Foundation
import TestSupport
import Testing

/// `trapline ingest` (a resumable backfill) and `trapline status`.
@Suite struct IngestAndStatusCommandTests {
    @Test func backfillLabelsEverythingOnceAndStatusSummarises() throws {
        try withTemporaryDirectory { dir in
            let folder = dir.file("old-card")
            let small = try RunCommandTests.smallJPEG(dir)
            for n in 0..<30 {
                let path = folder + "/A0\(n % 3)/img-\(n).jpg"
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(distinctJPEG(small, number: n)).write(to: URL(fileURLWithPath: path))
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
        }
    }
}

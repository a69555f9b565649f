import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon end to end: the built binary watching a real folder, files arriving every way they do in the
/// field, read back with the sqlite3 shell.
@Suite(.serialized, .timeLimit(.minutes(10))) struct RunCommandTests {
    static let photos = ["dog", "horses", "eagle", "giraffe"].map { "/usr/share/darknet/data/\($0).jpg" }

    /// A workspace: watch folder and catalog folder writable by the daemon's user, and a config file.
    struct Site {
        let directory: TemporaryDirectory
        let watch: String
        let catalog: String
        let config: String

        /// - Parameter http: `http.listen`; the page is off unless a test asks for it (tests run in parallel).
        init(extraConfig: String = "", http: String = "\"off\"") throws {
            directory = try TemporaryDirectory()
            chmod(directory.path, 0o777)
            watch = directory.file("inbox")
            try FileManager.default.createDirectory(atPath: watch, withIntermediateDirectories: true)
            let state = directory.file("state")
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            for folder in [watch, state] { chmod(folder, 0o777) }
            catalog = state + "/catalog.db"
            config = directory.file("trapline.yaml")
            let yaml = """
                watch:
                  folder: \(watch)
                  settleSeconds: 1
                catalog:
                  path: \(catalog)
                model:
                  path: \(ClassifyCommandTests.model)
                batch:
                  maxSize: 16
                  maxWaitSeconds: 0.3
                  sloSeconds: 60
                control:
                  profile: \(state)/profile.json
                http:
                  listen: \(http)
                \(extraConfig)
                """
            try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        }

        func put(_ bytes: [UInt8], at relative: String) throws {
            let path = watch + "/" + relative
            let folder = (path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            chmod(folder, 0o777)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }

        func count(_ condition: String = "1") throws -> Int {
            Int(try sqlite(catalog, "SELECT COUNT(*) FROM media WHERE \(condition)").first?.first ?? "0") ?? 0
        }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.system(path))))
    }

    @Test func everyArrivalIsCataloguedOnceAndBadFilesFail() throws {
        let site = try Site()
        defer { site.directory.remove() }
        let daemon = try Daemon(binary: InspectCommandTests.binary(), config: site.config, directory: site.directory)
        try daemon.start()

        // Written in place, renamed from an upload name, into a folder created after start.
        try site.put(try Self.bytes(Self.photos[0]), at: "A05/dog.jpg")
        try site.put(try Self.bytes(Self.photos[1]), at: "A05/horses.jpg.part")
        try FileManager.default.moveItem(
            atPath: site.watch + "/A05/horses.jpg.part", toPath: site.watch + "/A05/horses.jpg")
        try site.put(try Self.bytes(Self.photos[2]), at: "C09/eagle.jpg")

        // Bad files.
        let giraffe = try Self.bytes(Self.photos[3])
        try site.put(Array(giraffe.prefix(giraffe.count / 2)), at: "B01/truncated.jpg")
        try site.put([], at: "B01/empty.jpg")
        try site.put(Array("\u{89}PNG\r\n\u{1A}\n not really".utf8), at: "B01/photo-png.jpg")
        var bomb = giraffe
        if let sof = (0..<(bomb.count - 9)).first(where: {
            bomb[$0] == 0xFF && (bomb[$0 + 1] == 0xC0 || bomb[$0 + 1] == 0xC2)
        }) {
            bomb.replaceSubrange((sof + 5)..<(sof + 9), with: [0xFD, 0xE8, 0xFD, 0xE8])
        }
        try site.put(bomb, at: "B01/bomb.jpg")
        try site.put(distinctJPEG(giraffe, number: -1), at: "B01/secret.jpg")
        chmod(site.watch + "/B01/secret.jpg", 0o000)
        try site.put(distinctJPEG(giraffe, number: -2), at: "B01/gone.jpg")
        try FileManager.default.removeItem(atPath: site.watch + "/B01/gone.jpg")

        // A burst of 500 distinct images.
        let small = try Self.smallJPEG(site.directory)
        for n in 0..<500 { try site.put(distinctJPEG(small, number: n), at: "D02/burst-\(n).jpg") }

        let expected = 3 + 5 + 500  // the deleted file leaves no row if it vanished before its event was read
        // Wait for the named rows, not a count: the deleted file may add a row of its own, and the empty file is
        // only failed once it has stayed empty for settleSeconds, so a count can be reached without it.
        let bad = "'truncated.jpg', 'empty.jpg', 'photo-png.jpg', 'bomb.jpg', 'secret.jpg'"
        let settled = try waitUntil(timeout: 300) {
            try site.count("status = 'labeled'") >= 503
                && site.count("status = 'failed' AND fileName IN (\(bad))") == 5
        }
        let done = try site.count("status != 'pending'")
        #expect(settled, "only \(done) of \(expected) settled; log:\n\(daemon.logText.suffix(3000))")
        #expect(daemon.stop() == 0)

        #expect(try site.count("status = 'labeled'") == 503)
        let rows = try site.count()
        #expect(rows == expected || rows == expected + 1)
        #expect(
            try sqlite(site.catalog, "SELECT COUNT(*), COUNT(DISTINCT filePath) FROM media").first == [
                String(rows), String(rows),
            ])
        #expect(try sqlite(site.catalog, "SELECT COUNT(*) FROM observations").first?.first == "503")
        let failures = Dictionary(
            uniqueKeysWithValues: try sqlite(
                site.catalog, "SELECT fileName, errorCode FROM media WHERE status = 'failed'"
            ).map { ($0[0], $0[1]) }
        )
        #expect(failures["truncated.jpg"] == "truncated")
        #expect(failures["empty.jpg"] == "empty-file")
        #expect(failures["photo-png.jpg"] == "not-jpeg")
        #expect(failures["bomb.jpg"] == "too-many-pixels")
        #expect(failures["secret.jpg"] == "permission-denied")
        #expect(failures["gone.jpg"] == nil || failures["gone.jpg"] == "not-found")
        let deployments = try sqlite(site.catalog, "SELECT deploymentID FROM deployments ORDER BY deploymentID").map {
            $0[0]
        }
        #expect(deployments == ["A05", "B01", "C09", "D02"])
        #expect(try sqlite(site.catalog, "PRAGMA integrity_check").first?.first == "ok")
        #expect(try sqlite(site.catalog, "PRAGMA journal_mode").first?.first == "wal")
    }

    @Test func observationsEqualClassifyOutput() throws {
        let site = try Site()
        defer { site.directory.remove() }
        let daemon = try Daemon(binary: InspectCommandTests.binary(), config: site.config, directory: site.directory)
        try daemon.start()
        for (n, photo) in Self.photos.enumerated() { try site.put(try Self.bytes(photo), at: "A05/\(n).jpg") }
        #expect(try waitUntil(timeout: 120) { try site.count("status = 'labeled'") == 4 })
        #expect(daemon.stop() == 0)
        #expect(daemon.logText.contains("blas kernel"), "the start-up log names the OpenBLAS kernel")
        let classify = try runCommand(
            InspectCommandTests.binary(), ["classify", "--json", "--model", ClassifyCommandTests.model] + Self.photos
        )
        let document = try #require(try JSONSerialization.jsonObject(with: classify.stdout) as? [String: Any])
        let images = try #require(document["images"] as? [[String: Any]])
        for (n, image) in images.enumerated() {
            let top = try #require(image["top"] as? [[String: Any]])
            let row = try #require(
                try sqlite(
                    site.catalog,
                    """
                    SELECT o.classIndex, o.classificationProbability, o.animalProbability, o.observationType,
                           COALESCE(o.scientificName, ''), COALESCE(o.taxonRank, '')
                    FROM observations o JOIN media m ON m.mediaID = o.mediaID WHERE m.fileName = '\(n).jpg'
                    """
                ).first)
            #expect(Int(row[0]) == top.first?["index"] as? Int)
            let label = try #require(image["label"] as? [String: Any])
            let probability = try #require(label["probability"] as? Double)
            // The daemon batches the photos, classify runs them one by one: float32 rounding only (`Tolerance`).
            // The written probability is a sum of class probabilities over a set S, and the same bound holds for
            // it: |sum_S dp_i| = |sum_S p_i (dz_i - sum_j p_j dz_j)| <= 2 max|dz| sum_S p_i <= 2 max|dz|.
            let tolerance = Double(Tolerance.bundledModelProbability)
            #expect(abs((Double(row[1]) ?? 0) - probability) < tolerance)
            #expect(abs((Double(row[2]) ?? 0) - (image["animalProbability"] as? Double ?? -1)) < tolerance)
            #expect(row[3] == image["observationType"] as? String)
            #expect(row[4] == (label["scientificName"] as? String ?? ""))
            #expect(row[5] == (label["taxonRank"] as? String ?? ""))
        }
    }

    @Test func killedDuringIngestLosesAndDoublesNothing() throws {
        let site = try Site()
        defer { site.directory.remove() }
        let small = try Self.smallJPEG(site.directory)
        for n in 0..<120 { try site.put(distinctJPEG(small, number: n), at: "E07/img-\(n).jpg") }
        let first = try Daemon(
            binary: InspectCommandTests.binary(), config: site.config, directory: site.directory, name: "first")
        try first.start()
        #expect(try waitUntil(timeout: 120) { try site.count("status = 'labeled'") > 0 })
        first.killHard()
        let labelledBeforeKill = try site.count("status = 'labeled'")
        let second = try Daemon(
            binary: InspectCommandTests.binary(), config: site.config, directory: site.directory, name: "second")
        try second.start()
        #expect(try waitUntil(timeout: 180) { try site.count("status = 'labeled'") == 120 })
        #expect(second.stop() == 0)
        #expect(labelledBeforeKill <= 120)
        #expect(try site.count() == 120)
        #expect(
            try sqlite(site.catalog, "SELECT COUNT(*), COUNT(DISTINCT mediaID) FROM observations").first == [
                "120", "120",
            ])
        #expect(try sqlite(site.catalog, "PRAGMA integrity_check").first?.first == "ok")
    }

    @Test func badConfigurationNamesTheKey() throws {
        let site = try Site(extraConfig: "labels:\n  blankThreshold: 3\n")
        defer { site.directory.remove() }
        let result = try runCommand(InspectCommandTests.binary(), ["run", "--config", site.config], check: false)
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("labels.blankThreshold"))
    }

    @Test func anUnknownTaxonInTheSpeciesListStopsStartUpByName() throws {
        let site = try Site(extraConfig: "labels:\n  taxa: [Ardeidae, Equidea]\n")
        defer { site.directory.remove() }
        let result = try runCommand(InspectCommandTests.binary(), ["run", "--config", site.config], check: false)
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("labels.taxa") && result.errorOutput.contains("\"Equidea\" is not a taxon"))
        #expect(!result.errorOutput.contains("Ardeidae\" is not"))
    }

    /// A 320x213 JPEG made from a real photo, so hundreds of them decode quickly.
    static func smallJPEG(_ directory: TemporaryDirectory) throws -> [UInt8] {
        let ppm = directory.file("small.ppm")
        let jpeg = directory.file("small.jpg")
        try runCommand("djpeg", ["-scale", "1/2", "-outfile", ppm, try Fixtures.system(photos[1])])
        try runCommand("cjpeg", ["-quality", "85", "-outfile", jpeg, ppm])
        return try bytes(jpeg)
    }
}

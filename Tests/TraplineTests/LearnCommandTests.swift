import Foundation
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `trapline learn` and a site head in use: by `classify`, by the appliance (`ingest`, and a ring), in the
/// catalog and its exports. The images are real photos: tuxpaint's animal cut-outs on crops of photo wallpapers.
@Suite struct LearnCommandTests {
    static let classes = ["Cervidae=deer,wapiti", "Giraffa camelopardalis=giraffe", "blank"]

    /// Writes `per` composites per class under `folder` (`folder/<class>/NNN.jpg`).
    static func composites(
        _ folder: String, per: Int, seed: Int = 0, classes: [String] = classes,
        backgrounds: String = "BytheWater,DarkestHour,FallenLeaf,Kite"
    ) throws {
        try runCommand(
            "python3",
            [Fixtures.referenceScript("site_composites.py"), folder] + classes + [
                "--per-class", "\(per)", "--seed", "\(seed)", "--backgrounds", backgrounds,
            ])
    }

    /// Runs `trapline learn`. These tests follow a site head through the appliance, so its labels must be written
    /// wherever the head is sure: `--ceiling 2` lets it overrule even a confident model (ImageNet calls these
    /// cut-out deer dogs at 0.7); the default ceiling's rule is SiteHeadTests's.
    static func learn(_ arguments: [String], check: Bool = true) throws -> CommandResult {
        try runCommand(
            InspectCommandTests.binary(),
            ["learn", "--model", ClassifyCommandTests.model, "--ceiling", "2"] + arguments,
            check: check)
    }

    static func classify(_ head: String, _ images: [String]) throws -> [[String: Any]] {
        let result = try runCommand(
            InspectCommandTests.binary(),
            ["classify", "--json", "--model", ClassifyCommandTests.model, "--site-head", head] + images)
        let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        return try #require(json["images"] as? [[String: Any]])
    }

    static func jpegs(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jpg") }.sorted().map {
            folder + "/" + $0
        }
    }

    @Test func learnsFromFoldersSkipsBadFilesAndLabelsHeldOutPhotos() throws {
        try withTemporaryDirectory { dir in
            let train = dir.file("train")
            try Self.composites(train, per: 8)
            try Data("field notes".utf8).write(to: URL(fileURLWithPath: train + "/Cervidae/notes.txt"))
            try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: train + "/Cervidae/broken.jpg"))
            let head = dir.file("head.json")
            let result = try Self.learn([train, "--out", head])
            #expect(result.output.contains("cross-validated accuracy (5 folds)"))
            #expect(result.output.contains("Cervidae: Cervidae (family)"))
            #expect(result.output.contains("Giraffa camelopardalis: Giraffa camelopardalis (species), giraffe"))
            #expect(result.output.contains("confusion"))
            #expect(result.output.contains("wrote \(head): 3 classes, 24 examples"))
            #expect(result.errorOutput.contains("skipped \(train)/Cervidae/notes.txt: not a JPEG file"))
            #expect(result.errorOutput.contains("skipped \(train)/Cervidae/broken.jpg"))
            // The same folders give the same bytes.
            try FileManager.default.createDirectory(atPath: dir.file("again"), withIntermediateDirectories: true)
            let again = dir.file("again/head.json")
            _ = try Self.learn([train, "--out", again])
            #expect(FileManager.default.contentsEqual(atPath: head, andPath: again))

            // The model has neither class. Of the photos the head learned from, and of new photos of the same
            // animals on backgrounds it never saw, a good share is written with the site's class (the model alone
            // writes none; the rules that leave the model's label where it sees something else take some:
            // Models/evaluation/site has the rates).
            let test = dir.file("test")
            try Self.composites(test, per: 8, seed: 7, backgrounds: "Path,ColdRipple")
            for name in ["Cervidae", "Giraffa camelopardalis"] {
                for (folder, least) in [(train, 4), (test, 3)] {
                    let images = try Self.classify(
                        head, try Self.jpegs(folder + "/" + name).filter { !$0.hasSuffix("broken.jpg") })
                    let right = images.filter {
                        ($0["label"] as? [String: Any])?["scientificName"] as? String == name
                            && $0["head"] as? String == "site"
                    }
                    #expect(right.count >= least, "\(folder) \(name): \(images.map { $0["label"] ?? "-" })")
                }
            }
            let blanks = try Self.classify(head, try Self.jpegs(test + "/blank"))
            #expect(blanks.filter { $0["observationType"] as? String == "blank" }.count >= 3)

            // A head learned with another model file is refused, saying so.
            var document = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: head))) as? [String: Any])
            document["modelID"] = String(repeating: "0", count: 64)
            let other = dir.file("other.json")
            try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: other))
            let refused = try runCommand(
                InspectCommandTests.binary(),
                [
                    "classify", "--model", ClassifyCommandTests.model, "--site-head", other,
                    try Self.jpegs(test + "/blank")[0],
                ],
                check: false)
            #expect(refused.status != 0 && refused.errorOutput.contains("learned with another model file"))
        }
    }

    @Test func badInputIsRefusedClearlyAndNothingIsWritten() throws {
        try withTemporaryDirectory { dir in
            let out = dir.file("head.json")
            // One example of a class: refused, naming it.
            let few = dir.file("few")
            try Self.composites(few, per: 3, classes: ["Cervidae=deer", "blank"])
            for name in ["001.jpg", "002.jpg"] { try FileManager.default.removeItem(atPath: few + "/Cervidae/" + name) }
            let tooFew = try Self.learn([few, "--out", out], check: false)
            #expect(tooFew.status != 0 && tooFew.errorOutput.contains("Cervidae has 1"))
            // Three examples: a warning, and a head.
            let three = dir.file("three")
            try Self.composites(three, per: 3, classes: ["Cervidae=deer", "blank"])
            let warned = try Self.learn([three, "--out", out])
            #expect(warned.errorOutput.contains("warning: Cervidae has only 3 examples"))
            try FileManager.default.removeItem(atPath: out)
            // The same image in two classes: refused, naming both.
            let twice = dir.file("twice")
            try Self.composites(twice, per: 3, classes: ["Cervidae=deer", "blank"])
            try FileManager.default.copyItem(atPath: twice + "/Cervidae/000.jpg", toPath: twice + "/blank/copy.jpg")
            let duplicate = try Self.learn([twice, "--out", out], check: false)
            #expect(duplicate.status != 0 && duplicate.errorOutput.contains("same image"))
            #expect(
                duplicate.errorOutput.contains("Cervidae/000.jpg") && duplicate.errorOutput.contains("blank/copy.jpg"))
            // A name that is neither Latin nor an animal WordNet knows.
            let unknown = dir.file("unknown")
            try Self.composites(unknown, per: 2, classes: ["wibbly thing=deer", "blank"])
            let named = try Self.learn([unknown, "--out", out], check: false)
            #expect(named.status != 0 && named.errorOutput.contains("\"wibbly thing\" is neither a Latin name"))
            // An English name WordNet resolves is fine (capybara: Hydrochoerus hydrochaeris).
            let english = dir.file("english")
            try Self.composites(english, per: 2, classes: ["capybara=capybara", "blank"])
            let resolved = try Self.learn([english, "--out", out])
            #expect(resolved.output.contains("capybara: Hydrochoerus hydrochaeris (species), capybara"))
            try FileManager.default.removeItem(atPath: out)
            // A folder without class folders.
            let empty = dir.file("empty")
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
            let none = try Self.learn([empty, "--out", out], check: false)
            #expect(none.status != 0 && none.errorOutput.contains("no class folders"))
            #expect(!FileManager.default.fileExists(atPath: out))
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.contains("partial") })
        }
    }

    @Test func interruptedLearningLeavesNoFile() throws {
        try withTemporaryDirectory { dir in
            let train = dir.file("train")
            try Self.composites(train, per: 4)
            // A named pipe among the photos: opening it for writing returns only once `learn` opens it to read,
            // which is after its signal handlers are set and before it has labelled anything. That event, not a
            // time, says when to interrupt.
            let pipe = train + "/blank/zz-pipe.jpg"
            #expect(mkfifo(pipe, 0o644) == 0)
            let out = dir.file("head.json")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try InspectCommandTests.binary())
            process.arguments = ["learn", "--model", ClassifyCommandTests.model, train, "--out", out]
            let errors = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            let opened = DispatchSemaphore(value: 0)
            let writer = Mutex<Int32>(-1)
            Thread.detachNewThread {
                let fd = open(pipe, O_WRONLY)
                writer.withLock { $0 = fd }
                opened.signal()
            }
            let reached = opened.wait(timeout: .now() + 120) == .success
            #expect(reached, "learn never opened the pipe")
            kill(process.processIdentifier, SIGINT)
            if reached {
                close(writer.withLock { $0 })
            } else {
                // Unblock the writer thread so that the test can end.
                close(open(pipe, O_RDONLY | O_NONBLOCK))
            }
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus != 0)
            #expect(message.contains("interrupted: nothing written"), "\(message)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["train"])
        }
    }

    @Test func learnsFromACamtrapDPPackageAndAMegaDetectorFile() throws {
        try withTemporaryDirectory { dir in
            let images = dir.file("package/media")
            try Self.composites(images, per: 4)
            // A package whose observations name the media: two per class, plus a person (left out) and an
            // event-level observation (no media).
            var media = "mediaID,deploymentID,captureMethod,timestamp,filePath,filePublic,fileMediatype\n"
            var observations =
                "observationID,deploymentID,mediaID,eventID,eventStart,eventEnd,observationLevel,"
                + "observationType,scientificName\n"
            var n = 0
            for (folder, type, name) in [
                ("Cervidae", "animal", "Cervidae"), ("Giraffa camelopardalis", "animal", "Giraffa camelopardalis"),
                ("blank", "blank", ""),
            ] {
                for k in 0..<2 {
                    n += 1
                    media +=
                        "m\(n),d1,activityDetection,2024-01-01T00:00:0\(n)Z,\"media/\(folder)/00\(k).jpg\",false,image/jpeg\n"
                    observations += "o\(n),d1,m\(n),,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z,media,\(type),\(name)\n"
                }
            }
            n += 1
            media += "m\(n),d1,activityDetection,2024-01-01T00:00:09Z,media/blank/003.jpg,false,image/jpeg\n"
            observations += "o\(n),d1,m\(n),,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z,media,human,\n"
            observations += "e1,d1,,ev1,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z,event,animal,Cervidae\n"
            try media.write(toFile: dir.file("package/media.csv"), atomically: true, encoding: .utf8)
            try observations.write(toFile: dir.file("package/observations.csv"), atomically: true, encoding: .utf8)
            let fromPackage = try Self.learn(["--from-camtrap-dp", dir.file("package"), "--out", dir.file("a.json")])
            #expect(fromPackage.output.contains("Cervidae: Cervidae (family)"))
            #expect(fromPackage.output.contains("wrote \(dir.file("a.json")): 3 classes, 6 examples"))

            // MegaDetector: the most confident detection's top classification names an image; no detection
            // above the threshold makes it blank.
            let megadetector = """
                {"images": [
                  {"file": "package/media/Cervidae/002.jpg", "detections": [
                    {"category": "1", "conf": 0.9, "bbox": [0.1, 0.1, 0.5, 0.5], "classifications": [["3", 0.2], ["1", 0.8]]}]},
                  {"file": "package/media/Cervidae/003.jpg", "detections": [
                    {"category": "1", "conf": 0.8, "bbox": [0.1, 0.1, 0.5, 0.5], "classifications": [["1", 0.7]]}]},
                  {"file": "package/media/Giraffa camelopardalis/002.jpg", "detections": [
                    {"category": "1", "conf": 0.9, "bbox": [0, 0, 1, 1], "classifications": [["2", 0.9]]}]},
                  {"file": "package/media/Giraffa camelopardalis/003.jpg", "detections": [
                    {"category": "1", "conf": 0.7, "bbox": [0, 0, 1, 1], "classifications": [["2", 0.6]]}]},
                  {"file": "package/media/blank/002.jpg", "detections": [{"category": "1", "conf": 0.05, "bbox": [0, 0, 1, 1]}]},
                  {"file": "package/media/blank/001.jpg", "detections": []}
                ],
                "detection_categories": {"1": "animal"},
                "classification_categories": {"1": "Cervidae", "2": "Giraffa camelopardalis", "3": "blank"}}
                """
            try megadetector.write(toFile: dir.file("md.json"), atomically: true, encoding: .utf8)
            let both = try Self.learn([
                "--from-camtrap-dp", dir.file("package"), "--from-megadetector", dir.file("md.json"), "--out",
                dir.file("b.json"),
            ])
            // blank/001.jpg is in both, with the same class: counted once. 6 + 5 = 11.
            #expect(both.output.contains("wrote \(dir.file("b.json")): 3 classes, 11 examples"), "\(both.output)")
        }
    }

    @Test func theApplianceWritesSiteClassesToTheCatalogAndItsExports() throws {
        try withTemporaryDirectory { dir in
            let train = dir.file("train")
            try Self.composites(train, per: 8)
            let head = dir.file("head.json")
            _ = try Self.learn([train, "--out", head])
            let inbox = dir.file("inbox")
            try Self.composites(inbox + "/A01", per: 4, seed: 3, classes: ["Cervidae=deer,wapiti"], backgrounds: "Path")
            // Minutes apart: separate events, each frame labelled whole.
            for (n, path) in try Self.jpegs(inbox + "/A01/Cervidae").enumerated() {
                try runCommand("touch", ["-d", "@\(1_600_000_000 + 600 * n)", path])
            }
            let config = dir.file("trapline.yaml")
            try "labels:\n  siteHead: \(head)\n".write(toFile: config, atomically: true, encoding: .utf8)
            let catalog = dir.file("catalog.db")
            _ = try runCommand(
                InspectCommandTests.binary(),
                ["ingest", inbox, "--config", config, "--catalog", catalog, "--model", ClassifyCommandTests.model])
            let rows = try sqlite(catalog, "SELECT scientificName, taxonRank, classifiedBy FROM observations")
            #expect(rows.count == 4)
            let deer = rows.filter { $0[0] == "Cervidae" }
            #expect(deer.count >= 3, "\(rows)")
            #expect(
                deer.allSatisfy {
                    $0[1] == "family" && $0[2] == "efficientnet-lite0-imagenet-distilled + site head head"
                })
            let events = try sqlite(catalog, "SELECT scientificName, classifiedBy FROM event_observations")
            #expect(events.filter { $0[0] == "Cervidae" }.count >= 3)

            // The Camtrap DP export carries the site's names and validates.
            try runCommand("sqlite3", [catalog, "UPDATE deployments SET latitude = 4.2, longitude = -71.3"])
            let package = dir.file("camtrap-dp")
            try runCommand(
                InspectCommandTests.binary(),
                ["export", "camtrap-dp", package, "--catalog", catalog, "--utc-offset=+00:00"])
            let observations = try String(contentsOfFile: package + "/observations.csv", encoding: .utf8)
            #expect(observations.contains("Cervidae") && observations.contains("site head"))
            let validation = try runCommand(
                "python3",
                [Fixtures.referenceScript("validate_camtrap_dp.py"), package, Fixtures.referenceScript("camtrap-dp")],
                check: false)
            #expect(validation.status == 0, "\(validation.output)\(validation.errorOutput)")

            // A head for another model stops start-up, naming the key.
            var document = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: head))) as? [String: Any])
            document["modelID"] = String(repeating: "0", count: 64)
            try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: head))
            let refused = try runCommand(
                InspectCommandTests.binary(),
                ["ingest", inbox, "--config", config, "--catalog", catalog, "--model", ClassifyCommandTests.model],
                check: false)
            #expect(refused.status != 0 && refused.errorOutput.contains("labels.siteHead"))
            // Labels already written stay as they were.
            #expect(try sqlite(catalog, "SELECT scientificName, taxonRank, classifiedBy FROM observations") == rows)

            // A new head (the deer now learned as roe deer) applies to earlier photos only when asked.
            try FileManager.default.moveItem(atPath: train + "/Cervidae", toPath: train + "/roe deer")
            _ = try Self.learn([train, "--out", head])
            let arguments = ["--config", config, "--catalog", catalog, "--model", ClassifyCommandTests.model]
            let later = try runCommand(InspectCommandTests.binary(), ["relabel", "--since", "2030-01-01"] + arguments)
            #expect(later.output.contains("done: 0 relabelled"))
            #expect(try sqlite(catalog, "SELECT scientificName, taxonRank, classifiedBy FROM observations") == rows)
            // The photos are from 2020-09-13 onwards (their time stamps).
            let relabelled = try runCommand(
                InspectCommandTests.binary(), ["relabel", "--since", "2020-09-13T12:00"] + arguments)
            #expect(relabelled.output.contains("done: 4 relabelled, 0 could not be read again"))
            let now = try sqlite(catalog, "SELECT scientificName, taxonRank FROM observations")
            #expect(now.count == 4)
            #expect(now.filter { $0 == ["Capreolus capreolus", "species"] }.count == deer.count, "\(now)")
            #expect(
                try sqlite(
                    catalog, "SELECT COUNT(*) FROM event_observations WHERE scientificName = 'Capreolus capreolus'")
                    == [["\(deer.count)"]])
            let bad = try runCommand(
                InspectCommandTests.binary(), ["relabel", "--since", "last week"] + arguments, check: false)
            #expect(bad.status != 0 && bad.errorOutput.contains("--since must be a date"))
        }
    }
}

import Catalog
import Foundation
import TestSupport
import Testing

@testable import Ingest

@Suite struct IngestLogicTests {
    @Test func fileFilter() {
        for name in ["IMG_0001.JPG", "a.jpg", "b.jpeg", "c.JpEg"] { #expect(FileFilter.isCandidate(name), "\(name)") }
        for name in [
            ".IMG_0001.JPG.x7Gq2a", "a.jpg.part", "a.jpg.tmp", ".hidden.jpg", "notes.txt", "a.png", "a.jpg~", "",
        ] {
            #expect(!FileFilter.isCandidate(name), "\(name)")
        }
    }

    @Test func batchesCloseWhenFullOrWhenTheFirstImageHasWaited() {
        var former = BatchFormer(maxSize: 3, maxWait: 2, slo: 10)
        func item(_ n: Int, at t: Double) -> PendingMedia {
            PendingMedia(mediaID: "m\(n)", filePath: "/f/\(n)", deploymentID: "A", arrivedAt: t)
        }
        former.add(item(1, at: 100))
        former.add(item(1, at: 100))  // already queued
        #expect(former.count == 1)
        #expect(former.take(now: 101) == nil)
        #expect(former.nextDue == 102)
        let waited = former.take(now: 102)
        #expect(waited?.items.map(\.mediaID) == ["m1"])
        #expect(waited?.firstArrival == 100 && waited?.deadline == 110)
        for n in 2...5 { former.add(item(n, at: 200 + Double(n))) }
        let full = former.take(now: 200)
        #expect(full?.items.map(\.mediaID) == ["m2", "m3", "m4"])
        #expect(former.take(now: 200) == nil)
        #expect(former.take(now: 200, force: true)?.items.map(\.mediaID) == ["m5"])
    }

    @Test func deploymentIsTheFirstFolderLevels() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            let one = Intake(catalog: catalog, settings: IntakeSettings(root: "/srv/traps/", deploymentDepth: 1))
            #expect(one.deployment(of: "/srv/traps/A05/100EK113/x.JPG") == "A05")
            #expect(one.deployment(of: "/srv/traps/x.JPG") == "traps")
            let two = Intake(catalog: catalog, settings: IntakeSettings(root: "/srv/traps", deploymentDepth: 2))
            #expect(two.deployment(of: "/srv/traps/site1/A05/x.JPG") == "site1/A05")
            let none = Intake(catalog: catalog, settings: IntakeSettings(root: "/srv/traps", deploymentDepth: 0))
            #expect(none.deployment(of: "/srv/traps/A05/x.JPG") == "traps")
        }
    }

    @Test func incompleteFilesWaitUntilSettled() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            let intake = Intake(catalog: catalog, settings: IntakeSettings(root: dir.path, settleSeconds: 30))
            let photo = [UInt8](
                try Data(contentsOf: URL(fileURLWithPath: try Fixtures.system("/usr/share/darknet/data/dog.jpg"))))
            try Data(photo.prefix(photo.count / 2)).write(to: URL(fileURLWithPath: dir.file("half.jpg")))
            let modified = try #require(FolderScan.stat(dir.file("half.jpg"))).modified
            #expect(try intake.take(dir.file("half.jpg"), now: modified + 1) == .incomplete)
            guard case .registered(_, .new) = try intake.take(dir.file("half.jpg"), now: modified + 31) else {
                Issue.record("a settled file without an end marker must be catalogued (to fail as truncated)")
                return
            }
            try Data(photo).write(to: URL(fileURLWithPath: dir.file("whole.jpg")))
            guard case .registered(let id, .new) = try intake.take(dir.file("whole.jpg"), now: modified + 1) else {
                Issue.record("a complete JPEG is catalogued at once")
                return
            }
            #expect(id == SHA256.hex(photo))
            #expect(try intake.take(dir.file("whole.jpg"), now: modified + 2) == .alreadyKnown)
            guard case .failed("not-found", _) = try intake.take(dir.file("missing.jpg"), now: modified) else {
                Issue.record("a vanished file gets a failed row")
                return
            }
        }
    }
}

@Suite(.timeLimit(.minutes(2))) struct WatcherTests {
    /// Collects what a source reports until `count` files arrived or the timeout passed.
    static func collect(_ stream: AsyncStream<WatchEvent>, count: Int, timeout: Double) async -> [String] {
        await withTaskGroup(of: [String].self) { group in
            group.addTask {
                var files: [String] = []
                for await event in stream {
                    if case .file(let path) = event { files.append(path) }
                    if files.count >= count { break }
                }
                return files
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return []
            }
            let first = await group.next() ?? []
            group.cancelAll()
            return first
        }
    }

    @Test func inotifyReportsWritesRenamesAndNewFolders() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let watcher = FolderWatcher(root: dir.path, logger: .init(label: "test"))
        let stream = try watcher.events()
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir.file("written.jpg")))
        try Data([1]).write(to: URL(fileURLWithPath: dir.file("upload.jpg.part")))
        try FileManager.default.moveItem(atPath: dir.file("upload.jpg.part"), toPath: dir.file("renamed.jpg"))
        try Data([1]).write(to: URL(fileURLWithPath: dir.file(".hidden.jpg")))
        try FileManager.default.createDirectory(atPath: dir.file("new/deeper"), withIntermediateDirectories: true)
        try Data([4]).write(to: URL(fileURLWithPath: dir.file("new/deeper/inside.jpg")))
        let files = await Self.collect(stream, count: 3, timeout: 20)
        watcher.stop()
        #expect(Set(files) == [dir.file("written.jpg"), dir.file("renamed.jpg"), dir.file("new/deeper/inside.jpg")])
    }

    /// Files written into a folder the moment it appears (a card reader, a camera's first trigger) are reported
    /// though they may land before the folder's watch exists: the folder is listed once it is watched.
    @Test func filesInAFolderJustMadeAreNotMissed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let watcher = FolderWatcher(root: dir.path, logger: .init(label: "test"))
        let stream = try watcher.events()
        var expected: Set<String> = []
        for camera in 0..<30 {
            let folder = dir.file("C\(camera)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for frame in 0..<10 {
                try Data([UInt8(frame)]).write(to: URL(fileURLWithPath: folder + "/.\(frame).part"))
                try FileManager.default.moveItem(atPath: folder + "/.\(frame).part", toPath: folder + "/\(frame).jpg")
                expected.insert(folder + "/\(frame).jpg")
            }
        }
        // A file may be reported twice (listed and its event): collect until every one was seen.
        var seen: Set<String> = []
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .seconds(60))
                watcher.stop()
            }
            for await event in stream {
                if case .file(let path) = event { seen.insert(path) }
                if seen.isSuperset(of: expected) { break }
            }
            group.cancelAll()
        }
        watcher.stop()
        #expect(expected.subtracting(seen).isEmpty, "missed: \(expected.subtracting(seen).sorted().prefix(5))")
    }

    @Test func pollerReportsAFileOnceItIsStable() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.file("A05"), withIntermediateDirectories: true)
        let poller = FolderPoller(root: dir.path, interval: 0.2, logger: .init(label: "test"))
        let stream = try poller.events()
        try Data([1, 2]).write(to: URL(fileURLWithPath: dir.file("A05/a.jpg")))
        let files = await Self.collect(stream, count: 1, timeout: 20)
        poller.stop()
        #expect(files == [dir.file("A05/a.jpg")])
    }
}

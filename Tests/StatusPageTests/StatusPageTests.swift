import Foundation
import Imaging
import TestSupport
import Testing

@testable import Catalog
@testable import StatusPage

@Suite struct ThumbnailStoreTests {
    static let id = String(repeating: "ab", count: 32)

    static func image(_ width: Int = 64, _ height: Int = 48, seed: Int = 0) throws -> RGBImage {
        try RGBImage(
            width: width, height: height,
            pixels: (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7) })
    }

    static func name(_ n: Int) -> String {
        let hex = String(n, radix: 16)
        return String(repeating: "0", count: 64 - hex.count) + hex
    }

    @Test func thumbnailsAreRealJPEGsAndOnlyTheirNamesAreServed() throws {
        try withTemporaryDirectory { dir in
            let store = try ThumbnailStore(folder: dir.file("thumbs"), limitBytes: 1 << 20)
            try store.store(mediaID: Self.id, image: try Self.image())
            let path = try #require(store.file(named: Self.id + ".jpg"))
            // djpeg (libjpeg-turbo's own tool) reads it back at the size written.
            let decoded = try runCommand("djpeg", ["-pnm", "-outfile", dir.file("t.ppm"), path])
            #expect(decoded.status == 0)
            let header = try String(contentsOfFile: dir.file("t.ppm"), encoding: .isoLatin1).prefix(12)
            #expect(header.hasPrefix("P6\n64 48"))
            for bad in [
                "../" + Self.id + ".jpg", Self.id + ".png", Self.id.uppercased() + ".jpg", "..%2Fcatalog.db",
                String(Self.id.dropLast()) + "g.jpg", "",
            ] {
                #expect(store.file(named: bad) == nil, "\(bad)")
            }
            // A placeholder row's ID is not a hash: nothing is stored for it.
            try store.store(mediaID: "path:abc", image: try Self.image())
            #expect(store.count == 1)
        }
    }

    @Test func theFolderStaysUnderItsLimitOldestFirst() throws {
        try withTemporaryDirectory { dir in
            let first = try ThumbnailStore(folder: dir.file("thumbs"), limitBytes: 1 << 20)
            try first.store(mediaID: Self.name(1), image: try Self.image(seed: 1))
            let one = first.totalBytes
            let limit = one * 3 + one / 2  // room for three
            let store = try ThumbnailStore(folder: dir.file("thumbs"), limitBytes: limit)
            #expect(store.count == 1 && store.totalBytes == one, "a reopened store takes stock of what is there")
            for n in 2...6 {
                try store.store(mediaID: Self.name(n), image: try Self.image(seed: n))
                usleep(10_000)  // distinct modification times
            }
            #expect(store.totalBytes <= limit)
            #expect(store.count == 3)
            #expect(store.file(named: Self.name(1) + ".jpg") == nil && store.file(named: Self.name(6) + ".jpg") != nil)
            let onDisk = try FileManager.default.contentsOfDirectory(atPath: dir.file("thumbs"))
            #expect(onDisk.count == 3)
            // Media gone from the catalog lose their thumbnails.
            let removed = store.sweep { ids in Set(ids.filter { $0 == Self.name(6) }) }
            #expect(removed == 2 && store.count == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("thumbs")) == [Self.name(6) + ".jpg"])
        }
    }
}

@Suite struct PageRendererTests {
    /// The box whose crop named an image is drawn over its thumbnail, from the catalog's bbox columns.
    @Test func theAnimalsBoxIsDrawnOverItsThumbnail() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog(path: dir.file("c.db"))
            for id in [ThumbnailStoreTests.name(1), ThumbnailStoreTests.name(2)] {
                _ = try catalog.register(Self.arrival(id))
            }
            var boxed = LabelRecord(
                mediaID: ThumbnailStoreTests.name(1), observationType: "animal", scientificName: "Ardea alba",
                classIndex: 1, probability: 0.6, animalProbability: 0.9, topClassesJSON: "[]")
            boxed.box = BoxRecord(x: 0.25, y: 0.5, width: 0.125, height: 0.25, score: 2)
            let whole = LabelRecord(
                mediaID: ThumbnailStoreTests.name(2), observationType: "blank", scientificName: nil, classIndex: 2,
                probability: 0.9, animalProbability: 0.1, topClassesJSON: "[]")
            try catalog.commit(
                BatchResult(
                    firstArrival: 1, deadline: 2, completed: 1.5, levels: [], nodeTimings: [:], modelID: "m",
                    modelName: "m", labels: [boxed, whole], failures: []), eventGapSeconds: 60)
            let store = try ThumbnailStore(folder: dir.file("thumbs"), limitBytes: 1 << 20)
            for n in 1...2 {
                try store.store(mediaID: ThumbnailStoreTests.name(n), image: try ThumbnailStoreTests.image())
            }
            let html = PageRenderer.page(
                title: "t", now: 10, snapshot: try catalog.statusSnapshot(now: 10),
                ring: RingView(nodes: [], sliceLevels: []), thumbnails: store, hours: 6, binSeconds: 600)
            #expect(
                html.contains("<span class=\"box\" style=\"left:25.0%;top:50.0%;width:12.5%;height:25.0%\"></span>"))
            #expect(html.components(separatedBy: "class=\"box\"").count == 2, "one box: the blank image has none")
        }
    }

    static func arrival(_ id: String) -> MediaArrival {
        MediaArrival(
            mediaID: id, deploymentID: "A05", filePath: "/in/A05/\(id).jpg", fileName: "\(id).jpg", fileSize: 1,
            fileModified: 1, timestamp: CatalogTime(iso8601: Catalog.iso(1), hasOffset: true, key: 1),
            timestampSource: "test")
    }

    @Test func everythingFromTheCatalogIsEscaped() {
        #expect(
            PageRenderer.escape("<script>alert('x')</script> & \"q\"")
                == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;")
        var snapshot = StatusSnapshot()
        snapshot.failures = [
            .init(fileName: "<img src=x onerror=alert(1)>.jpg", code: "not-jpeg", error: "bad", arrived: "now")
        ]
        snapshot.latest = [
            .init(
                mediaID: "m", timestamp: "t", deploymentID: "<b>A05</b>", fileName: "f.jpg", observationType: "animal",
                scientificName: "Vulpes vulpes", taxonRank: "species", vernacularName: "red fox", probability: 0.8)
        ]
        let html = PageRenderer.page(
            title: "t", now: 0, snapshot: snapshot, ring: RingView(nodes: [], sliceLevels: []), thumbnails: nil,
            hours: 6, binSeconds: 600)
        #expect(!html.contains("<img src=x") && html.contains("&lt;img src=x"))
        #expect(!html.contains("<b>A05</b>"))
        #expect(html.contains("Vulpes vulpes (species, red fox)"))
        #expect(!html.contains("<script"), "no script on the page")
    }

    @Test func theChartPlacesBinsByTimeAndColoursThemByAttainment() {
        let now = 36_000.0
        let bins: [StatusSnapshot.SLOBin] = [
            .init(start: now - 3600, batches: 10, met: 10, meanLatencyMs: 800, maxLatencyMs: 900),
            .init(start: now - 600, batches: 4, met: 2, meanLatencyMs: 3000, maxLatencyMs: 9000),
        ]
        let html = PageRenderer.deadlineSection(bins, now: now, hours: 6, binSeconds: 600)
        #expect(html.components(separatedBy: "<rect class=\"bin\"").count - 1 == 2)
        #expect(html.contains("#5aa469") && html.contains("#d0453a"))
        #expect(html.contains("12 of 14 batches met their deadline"))
        #expect(html.contains("<polyline"))
    }
}

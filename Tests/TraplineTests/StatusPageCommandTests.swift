import Foundation
import TestSupport
import Testing

/// The head's status page and metrics, run as a user runs them: `trapline run` on real photos, the page loaded
/// in headless Chromium, `/metrics` checked by Prometheus's own `promtool`, bad requests and slow clients.
@Suite struct StatusPageCommandTests {
    /// Where the screenshot is kept for a person to look at (a test artifact; docs/status-page.png is a copy).
    static let artifacts = Fixtures.repositoryRoot.appendingPathComponent(".build/test-artifacts").path

    static func chromium(_ arguments: [String], profile: String) throws -> CommandResult {
        try runCommand(
            "chromium",
            ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)"] + arguments,
            check: false)
    }

    static func curl(_ arguments: [String]) throws -> CommandResult {
        try runCommand("curl", ["-s", "--max-time", "20"] + arguments, check: false)
    }

    /// - Parameter http: More `http.*` lines (indented two spaces).
    static func startSite(http: String = "") throws -> (RunCommandTests.Site, Daemon, String) {
        let port = try freePorts(1)[0]
        let site = try RunCommandTests.Site(http: "127.0.0.1:\(port)\n\(http)")
        let daemon = try Daemon(
            binary: InspectCommandTests.binary(), config: site.config, directory: site.directory, name: "page")
        try daemon.start()
        // READY=1 means labelling is up; the page binds its port alongside, a moment later on a busy machine.
        let url = "http://127.0.0.1:\(port)"
        _ = try waitUntil(timeout: 30) {
            try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", url + "/metrics"]).output != "000"
        }
        return (site, daemon, url)
    }

    @Test func thePageShowsLabelsNodesAndTheChartInABrowser() throws {
        let (site, daemon, url) = try Self.startSite()
        defer { site.directory.remove() }
        defer { _ = daemon.stop() }
        let photos = RunCommandTests.photos + ["/usr/share/doc/opencv-doc/examples/data/squirrel_cls.jpg"]
        for (n, photo) in photos.enumerated() {
            try site.put(try RunCommandTests.bytes(try Fixtures.system(photo)), at: "A05/\(n).jpg")
        }
        try site.put(Array("not a jpeg".utf8), at: "A05/broken.jpg")
        #expect(try waitUntil(timeout: 120) { try site.count("status != 'pending'") == photos.count + 1 })

        // The DOM as Chromium builds it: labels, the node table, the chart, thumbnails, the failure.
        let profile = site.directory.file("chromium")
        let dom = try Self.chromium(["--dump-dom", url + "/"], profile: profile)
        #expect(dom.status == 0, "\(dom.errorOutput)")
        let html = dom.output
        #expect(html.contains("Sciurus niger (species, fox squirrel)"), "the squirrel's written label")
        #expect(html.contains("Canis familiaris (species, dog)"))
        #expect(html.contains("<tr class=\"node\">") && html.contains("class=\"up\">up</td>"))
        #expect(html.contains("<svg id=\"deadlines\"") && html.contains("<rect class=\"bin\""))
        #expect(html.contains("batches met their deadline in the last 6 hours"))
        #expect(html.contains("src=\"/thumbnails/"))
        #expect(html.contains("broken.jpg") && html.contains("not-jpeg"))

        // A screenshot a person can look at.
        try FileManager.default.createDirectory(atPath: Self.artifacts, withIntermediateDirectories: true)
        let png = Self.artifacts + "/status-page.png"
        try? FileManager.default.removeItem(atPath: png)
        let shot = try Self.chromium(
            ["--hide-scrollbars", "--window-size=1200,1700", "--screenshot=\(png)", url + "/"], profile: profile)
        #expect(shot.status == 0, "\(shot.errorOutput)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1200 && bytes.count > 20_000, "a page's worth of pixels, not a blank")

        // Every thumbnail on the page is served, as a JPEG.
        let names = html.components(separatedBy: "src=\"/thumbnails/").dropFirst().map { String($0.prefix(68)) }
        #expect(names.count == photos.count)
        for name in names {
            let got = try Self.curl([
                "-o", site.directory.file("t.jpg"), "-w", "%{http_code} %{content_type}",
                url + "/thumbnails/" + name,
            ])
            #expect(got.output == "200 image/jpeg")
        }

        // /metrics, checked by promtool.
        let metrics = try Self.curl([url + "/metrics"])
        try metrics.output.write(toFile: site.directory.file("metrics.txt"), atomically: true, encoding: .utf8)
        let check = try runCommand(
            "sh", ["-c", "promtool check metrics < '\(site.directory.file("metrics.txt"))'"], check: false)
        #expect(check.status == 0, "\(check.output) \(check.errorOutput)")
        for expected in [
            "trapline_images_catalogued_total \(photos.count + 1)",
            "trapline_images_labelled_total{observation_type=\"animal\"}",
            "trapline_images_failed_total{reason=\"not-jpeg\"} 1", "trapline_batch_latency_seconds_bucket",
            "trapline_batches_total{deadline=\"met\"}", "trapline_slice_level{slice=\"0\"} 0.0", "trapline_node_up{",
            "trapline_queue_depth{queue=\"waiting\"}",
        ] {
            #expect(metrics.output.contains(expected), "\(expected)")
        }

        // Bad requests: unknown paths, traversal in thumbnail names, oversized headers.
        for path in [
            "/nope", "/thumbnails/../catalog.db", "/thumbnails/..%2Fcatalog.db",
            "/thumbnails/%2e%2e%2fstate%2fcatalog.db",
            "/thumbnails/" + String(repeating: "0", count: 64) + ".jpg",
        ] {
            let got = try Self.curl(["--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", url + path])
            #expect(got.output == "404", "\(path): \(got.output)")
        }
        let header = site.directory.file("header.txt")
        try ("X-Big: " + String(repeating: "a", count: 200_000) + "\n").write(
            toFile: header, atomically: true, encoding: .utf8)
        let huge = try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", "@" + header, url])
        #expect(huge.output != "200", "an oversized header is refused")
        let after = try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", url + "/"])
        #expect(after.output == "200", "and the server goes on serving")
    }

    @Test func slowClientsDoNotStallLabelling() throws {
        let (site, daemon, url) = try Self.startSite()
        defer { site.directory.remove() }
        defer { _ = daemon.stop() }
        // First without slow clients, for comparison (printed, not asserted: timings belong to benchmarks).
        var start = Date()
        for (n, photo) in RunCommandTests.photos.enumerated() {
            try site.put(try RunCommandTests.bytes(try Fixtures.system(photo)), at: "A05/\(n).jpg")
        }
        #expect(try waitUntil(timeout: 120) { try site.count("status = 'labeled'") == RunCommandTests.photos.count })
        let alone = Date().timeIntervalSince(start)
        // Then with sixteen clients that each ask for a thumbnail 300 times in one go (4 MB of responses) and
        // read one byte a second through a 1 KiB receive buffer: the server's writes to them back up at once.
        let thumbnails = try FileManager.default.contentsOfDirectory(atPath: site.directory.file("state/thumbnails"))
        let thumbnail = try #require(thumbnails.first { $0.hasSuffix(".jpg") })
        let port = String(url.split(separator: ":").last!)
        let script = """
            import socket, time
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.connect(("127.0.0.1", \(port)))
            s.sendall(b"GET /thumbnails/\(thumbnail) HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" * 300)
            for _ in range(60):
                if not s.recv(1): break
                time.sleep(1)
            """
        var slow: [Process] = []
        for _ in 0..<16 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", script]
            try process.run()
            slow.append(process)
        }
        defer {
            for process in slow where process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        usleep(500_000)
        start = Date()
        for (n, photo) in RunCommandTests.photos.enumerated() {
            // The same photos re-encoded, so they are new media.
            try site.put(
                distinctJPEG(try RunCommandTests.bytes(try Fixtures.system(photo)), number: n), at: "B01/\(n).jpg")
        }
        #expect(
            try waitUntil(timeout: 120) { try site.count("status = 'labeled'") == 2 * RunCommandTests.photos.count })
        let withClients = Date().timeIntervalSince(start)
        print(
            "status page: \(RunCommandTests.photos.count) photos labelled in \(String(format: "%.1f", alone)) s alone, "
                + "\(String(format: "%.1f", withClients)) s with 16 clients reading 1 byte/s")
        // Not a benchmark: a stall would hold the batch until the clients give up (minutes); the bound leaves a
        // shared 2-core machine four times the quiet run, and at least 10 s.
        #expect(withClients <= max(10, 4 * alone), "labelling stalled behind slow clients")
        #expect(slow.filter(\.isRunning).count == 16, "the slow clients were still connected")
        let page = try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", url + "/"])
        #expect(page.output == "200", "and others are still served")
    }

    @Test func basicAuthenticationGuardsPageAndMetrics() throws {
        let hash = try runCommand(
            "sh", ["-c", "printf 's3cret passphrase\\n' | '\(InspectCommandTests.binary())' password-hash"]
        ).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(hash.hasPrefix("pbkdf2-sha256$"))
        let (site, daemon, url) = try Self.startSite(http: "  user: ranger\n  passwordHash: \"\(hash)\"")
        defer { site.directory.remove() }
        defer { _ = daemon.stop() }
        for path in ["/", "/metrics"] {
            let open = try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", url + path])
            #expect(open.output == "401", "\(path) without credentials")
            let wrong = try Self.curl(["-u", "ranger:guess", "-o", "/dev/null", "-w", "%{http_code}", url + path])
            #expect(wrong.output == "401")
            let right = try Self.curl(
                ["-u", "ranger:s3cret passphrase", "-o", "/dev/null", "-w", "%{http_code}", url + path])
            #expect(right.output == "200", "\(path) with the password")
        }
    }

    @Test func onTheLocalRingThePageListsEveryNodeOverHTTPSWithTheRingsCA() throws {
        let port = try freePorts(1)[0]
        let ring = try RingCommandTests.LocalRing(nodes: 2, http: "127.0.0.1:\(port)\n  tls: true")
        defer { ring.remove() }
        let daemons = try ring.start()
        defer { for daemon in daemons { _ = daemon.stop() } }
        for (n, photo) in RunCommandTests.photos.enumerated() {
            try ring.site.put(try RunCommandTests.bytes(try Fixtures.system(photo)), at: "A05/\(n).jpg")
        }
        #expect(
            try waitUntil(timeout: 120) { try ring.site.count("status = 'labeled'") == RunCommandTests.photos.count })
        let url = "https://127.0.0.1:\(port)/"
        let ca = ring.credentials + "/ca.pem"
        // The ring's state is refreshed every 5 s: wait until both nodes show their service times.
        var html = ""
        #expect(
            try waitUntil(timeout: 30) {
                html = try Self.curl(["--cacert", ca, url]).output
                return html.components(separatedBy: " ms</td>").count - 1 == 2
            }, "\(html)")
        for name in ring.names { #expect(html.contains("<td>\(name)</td><td class=\"up\">up</td>")) }
        #expect(html.contains("<td>0-") && html.contains("Canis familiaris"))
        // Without the ring's CA the certificate is not trusted; plain HTTP is not served.
        #expect(try Self.curl(["-o", "/dev/null", url]).status != 0)
        #expect(try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/"]).output != "200")
        let metrics = try Self.curl(["--cacert", ca, url + "metrics"]).output
        for name in ring.names { #expect(metrics.contains("trapline_node_up{node=\"\(name)\"} 1.0")) }
        #expect(metrics.contains("trapline_slice_level{slice=\"1\"}"))
    }
}

import Catalog
import Dispatch
import FoundationEssentials
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Prometheus
import ServiceLifecycle
import Synchronization

/// How the status page is served.
public struct StatusServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// Basic authentication: the user and a `PasswordHash` of the password; nil for none.
    public var user: String?
    public var passwordHash: String?
    /// HTTPS with this certificate chain and key (PEM files: a ring node's own), or plain HTTP when nil.
    public var tls: (certificate: String, key: String)?
    public var title: String
    /// How far back the deadline chart reaches, and its bin width.
    public var hours = 6.0
    public var binSeconds = 600.0

    public init(host: String, port: Int, title: String) {
        self.host = host
        self.port = port
        self.title = title
    }

    /// `127.0.0.1:8470`, `[::1]:8470`, `0.0.0.0:8470` -> host and port; nil when malformed.
    public static func parse(listen: String) -> (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (1...65_535).contains(port)
        else { return nil }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// Whether the address is reachable only from this machine.
    public var isLoopback: Bool { host == "127.0.0.1" || host == "::1" || host == "localhost" }
}

/// The head's read-only status page (`/`), its thumbnails (`/thumbnails/<mediaID>.jpg`) and Prometheus metrics
/// (`/metrics`), on Hummingbird 2. Every page is rendered from a fresh catalog read (SQLite WAL readers never
/// block the labelling writer) and the last ring snapshot, which a background task refreshes every few seconds;
/// nothing on the page changes anything.
public final class StatusServer: Service, Sendable {
    let settings: StatusServerSettings
    let catalog: Catalog
    let thumbnails: ThumbnailStore?
    let registry: PrometheusCollectorRegistry
    let ring: @Sendable () async -> RingView
    let logger: Logger
    let latestRing = LockedValue(RingView(nodes: [], sliceLevels: []))
    let seenControllerEvents = LockedValue(-1)

    /// Creates the server.
    /// - Parameters:
    ///   - settings: Address, authentication, TLS.
    ///   - catalog: The catalog to show.
    ///   - thumbnails: Where thumbnails are, if they are made.
    ///   - registry: The metrics `/metrics` renders.
    ///   - ring: Asks the ring (or this node) for its state.
    ///   - logger: Where to log.
    public init(
        settings: StatusServerSettings, catalog: Catalog, thumbnails: ThumbnailStore?,
        registry: PrometheusCollectorRegistry, ring: @escaping @Sendable () async -> RingView, logger: Logger
    ) {
        self.settings = settings
        self.catalog = catalog
        self.thumbnails = thumbnails
        self.registry = registry
        self.ring = ring
        self.logger = logger
    }

    public func run() async throws {
        logger.info(
            "status page",
            metadata: [
                "http.listen": "\(settings.host):\(settings.port)", "http.tls": "\(settings.tls != nil)",
                "http.auth": "\(settings.user != nil)",
            ])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.refreshLoop() }
            do {
                try await makeApplication().run()
            } catch {
                // The page is an extra: a port in use or a bad certificate must not stop the labelling. Say so,
                // and stay up (without a page) until the appliance shuts down.
                logger.error(
                    "status page not served",
                    metadata: ["http.listen": "\(settings.host):\(settings.port)", "error": "\(error)"])
                try? await gracefulShutdown()
            }
            group.cancelAll()
        }
    }

    /// Reads a certificate chain and key as HTTPS would.
    /// - Throws: NIOSSL's error for a missing or malformed file.
    public static func checkTLS(certificate: String, key: String) throws {
        _ = try NIOSSLCertificate.fromPEMFile(certificate)
        _ = try NIOSSLPrivateKey(file: key, format: .pem)
    }

    /// The Hummingbird application.
    public func makeApplication(port: Int? = nil) throws -> some ApplicationProtocol {
        let router = Router()
        if let user = settings.user, let hash = settings.passwordHash {
            router.add(middleware: BasicAuthMiddleware(user: user, hash: hash))
        }
        router.get("/") { _, _ in try await self.page() }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: ApplianceMetrics.exposition(self.registry))))
        }
        router.get("/thumbnails/:name") { _, context in
            let name = try context.parameters.require("name")
            guard let path = self.thumbnails?.file(named: name),
                let data = FileManager.default.contents(atPath: path)
            else { throw HTTPError(.notFound) }
            var headers = HTTPFields()
            headers[.contentType] = "image/jpeg"
            headers[.cacheControl] = "max-age=3600"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        let configuration = ApplicationConfiguration(
            address: .hostname(settings.host, port: port ?? settings.port), serverName: "trapline")
        // A client that stalls is dropped after 60 s idle; headers are capped by Hummingbird's decoder (80 KiB).
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(60)))
        let server: HTTPServerBuilder
        if let tls = settings.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            let tlsConfiguration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(key))
            server = try .tls(http1, tlsConfiguration: tlsConfiguration)
        } else {
            server = http1
        }
        return Application(router: router, server: server, configuration: configuration, logger: logger)
    }

    func page() async throws -> Response {
        let now = Date().timeIntervalSince1970
        let snapshot = try catalog.statusSnapshot(now: now, hours: settings.hours, binSeconds: settings.binSeconds)
        var ringView = latestRing.value
        if ringView.nodes.isEmpty { ringView = await refreshRing() }
        let html = PageRenderer.page(
            title: settings.title, now: now, snapshot: snapshot, ring: ringView, thumbnails: thumbnails,
            hours: settings.hours, binSeconds: settings.binSeconds)
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Every 5 s: the ring's state (for the page and the gauges) and the count of controller decisions; every
    /// hour: thumbnails whose media are gone.
    func refreshLoop() async {
        var lastSweep = 0.0
        while !Task.isCancelled {
            _ = await refreshRing()
            if let count = try? catalog.lastControllerEventID() {
                let previous = seenControllerEvents.exchange(count)
                if previous >= 0 { ApplianceMetrics.controllerChanges(count - previous) }
            }
            let now = Date().timeIntervalSince1970
            if let thumbnails, now - lastSweep > 3600 {
                lastSweep = now
                let removed = (try? thumbnails.sweep { try self.catalog.existingMedia($0) }) ?? 0
                if removed > 0 { logger.info("thumbnails swept", metadata: ["removed": "\(removed)"]) }
            }
            try? await Task.sleep(for: .seconds(5))
        }
    }

    @discardableResult
    func refreshRing() async -> RingView {
        let view = await ring()
        latestRing.value = view
        for node in view.nodes {
            ApplianceMetrics.node(node.name, up: node.state != "not answering", bypassed: node.bypassed)
        }
        for (slice, level) in view.sliceLevels.enumerated() {
            if let level { ApplianceMetrics.sliceLevel(slice, level) }
        }
        return view
    }
}

/// HTTP basic authentication against a `PasswordHash`. PBKDF2 is slow on purpose, so checks run one at a time
/// on their own queue (never on the threads that serve pages or label images), at most four wait, and further
/// attempts are answered 503 at once; the user name is compared only after the hash, so timing does not tell
/// whether it was right. A verified header is remembered, so a browser pays for PBKDF2 once.
struct BasicAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let user: String
    let hash: String
    let verified = LockedValue(Set<String>())
    let verifier = PasswordVerifier()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if let header = request.headers[.authorization], header.hasPrefix("Basic ") {
            if verified.value.contains(header) { return try await next(request, context) }
            if let data = Data(base64Encoded: String(header.dropFirst(6))),
                let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
            {
                let given = String(text[..<colon])
                switch await verifier.verify(String(text[text.index(after: colon)...]), hash: hash) {
                case true? where given == user:
                    verified.withValue { set in if set.count < 64 { set.insert(header) } }
                    return try await next(request, context)
                case nil:
                    var headers = HTTPFields()
                    headers[.retryAfter] = "5"
                    return Response(status: .serviceUnavailable, headers: headers)
                default:
                    break
                }
            }
        }
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Basic realm=\"trapline\", charset=\"UTF-8\""
        return Response(status: .unauthorized, headers: headers)
    }
}

/// Runs password checks one at a time on a queue of their own.
final class PasswordVerifier: Sendable {
    static let maxWaiting = 4
    private let queue = DispatchQueue(label: "trapline.http.auth")
    private let waiting = Mutex(0)

    /// Whether `password` matches `hash`; nil when too many checks are already waiting.
    func verify(_ password: String, hash: String) async -> Bool? {
        let admitted = waiting.withLock { count -> Bool in
            guard count < Self.maxWaiting else { return false }
            count += 1
            return true
        }
        guard admitted else { return nil }
        let result = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: PasswordHash.verify(password, hash: hash)) }
        }
        waiting.withLock { $0 -= 1 }
        return result
    }
}

/// A value behind a lock.
final class LockedValue<Value: Sendable>: Sendable {
    private let stored: Mutex<Value>

    init(_ value: Value) { stored = Mutex(value) }

    var value: Value {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }

    func exchange(_ value: Value) -> Value {
        stored.withLock {
            let old = $0
            $0 = value
            return old
        }
    }

    func withValue<T: Sendable>(_ body: (inout Value) -> T) -> T { stored.withLock { body(&$0) } }
}

import Catalog
import Inference
import Logging
import Prometheus
import Ring
import StatusPage

extension ApplianceServices {
    /// The metrics registry: the Prometheus backend is installed once per process, the first time it is asked for.
    static let registry: PrometheusCollectorRegistry = ApplianceMetrics.bootstrap()

    /// The status page and `/metrics`, unless `http.listen` is off.
    /// - Parameters:
    ///   - runtime: The head's catalog, model and thumbnails.
    ///   - ring: The ring and its head, or nil on a single node.
    /// - Throws: `ConfigError` for a malformed address or missing TLS credentials.
    static func statusServer(_ runtime: ApplianceRuntime, ring: (config: RingConfig, head: RingHead)?, logger: Logger)
        throws -> StatusServer?
    {
        let config = runtime.config
        guard let listen = config.httpListen else { return nil }
        guard let (host, port) = StatusServerSettings.parse(listen: listen) else {
            throw ConfigError(key: "http.listen", "must be host:port, not \"\(listen)\"")
        }
        let node = ring?.config.node ?? config.ringNode ?? RingSetup.hostName()
        var settings = StatusServerSettings(host: host, port: port, title: "trapline on \(node)")
        settings.user = config.httpUser
        settings.passwordHash = config.httpPasswordHash
        if config.httpTLS {
            let certificate = RingAuthority.certificate(config.ringCredentials, node: node)
            let key = RingAuthority.key(config.ringCredentials, node: node)
            do {
                try StatusServer.checkTLS(certificate: certificate, key: key)
            } catch {
                throw ConfigError(
                    key: "http.tls",
                    "cannot use \(certificate) and \(key) (made by `trapline ring init`): \(error)")
            }
            settings.tls = (certificate, key)
        }
        if !settings.isLoopback && (settings.user == nil || settings.tls == nil) {
            let missing = settings.user == nil ? "a password (http.user, http.passwordHash)" : "TLS (http.tls)"
            logger.warning(
                "the status page is reachable beyond this machine without \(missing)",
                metadata: ["http.listen": "\(listen)"])
        }
        let levels = (0..<runtime.model.metadata.optionCount).map { runtime.model.metadata.widthFraction(option: $0) }
        let source: @Sendable () async -> RingView
        if let ring {
            source = { await Self.ringView(ring.config, head: ring.head, levels: levels) }
        } else {
            let units = runtime.model.unitCount
            let level = config.level
            source = {
                RingView(
                    nodes: [.init(name: node, state: "up", units: "0-\(units - 1)", levels: [level])],
                    sliceLevels: [level])
            }
        }
        return StatusServer(
            settings: settings, catalog: runtime.catalog, thumbnails: runtime.thumbnails, registry: registry,
            ring: source, logger: logger)
    }

    /// Each member's state, slices, levels, service time, slowdown and temperature, as the ring reports them.
    static func ringView(_ ring: RingConfig, head: RingHead, levels: [Double]) async -> RingView {
        let alive = await head.liveMembers
        // The units each member runs now: the route of a batch sent now (boundaries move; a bypassed node has none).
        let route = await head.route()
        let answers = (try? await RingQuery.stats(ring, timeoutSeconds: 1)) ?? []
        var nodes: [RingView.Node] = []
        var sliceLevels = [Double?](repeating: nil, count: ring.plan.count - 1)
        for (index, member) in ring.members.enumerated() {
            let units =
                route.first { $0.node == member.name }.map { "\($0.units.lowerBound)-\($0.units.upperBound - 1)" }
                ?? "none"
            let bypassed = index < alive.count && !alive[index]
            let answer = index < answers.count ? answers[index].stats : nil
            switch answer {
            case .success(let stats):
                let levelIndex = index < stats.levels.count ? Int(stats.levels[index]) : 0
                let level = levelIndex < levels.count ? levels[levelIndex] : 0
                sliceLevels[index] = level
                // Slowdown: the mean service time over the profiled median of the same slice and level, at the
                // largest profiled batch (the ring's batches are usually full under load).
                let profiled = stats.profile.filter {
                    Int($0.firstUnit) == ring.plan[index] && Int($0.endUnit) == ring.plan[index + 1]
                        && Int($0.level) == levelIndex
                }.max { $0.batch < $1.batch }
                let slowdown = profiled.flatMap { entry in
                    entry.medianMs > 0 && stats.meanServiceMs > 0 ? stats.meanServiceMs / entry.medianMs : nil
                }
                nodes.append(
                    .init(
                        name: member.name, state: bypassed ? "bypassed" : "up", bypassed: bypassed, units: units,
                        levels: [level], meanServiceMs: stats.batches > 0 ? stats.meanServiceMs : nil,
                        slowdown: slowdown, temperatureCelsius: stats.hasTemperature_p ? stats.temperatureCelsius : nil,
                        prepared: index > 0 ? stats.prepared : nil)
                )
            case .failure(let error):
                nodes.append(
                    .init(
                        name: member.name, state: "not answering", bypassed: bypassed, units: units, levels: [],
                        detail: "\(error)".prefix(160).description))
            case nil:
                nodes.append(
                    .init(name: member.name, state: "not answering", bypassed: bypassed, units: units, levels: []))
            }
        }
        // The head sets every slice's level: where a member did not answer, its own record says what was set.
        if case .success(let headStats)? = answers.first?.stats {
            for slice in sliceLevels.indices where sliceLevels[slice] == nil && slice < headStats.levels.count {
                let index = Int(headStats.levels[slice])
                sliceLevels[slice] = index < levels.count ? levels[index] : nil
            }
        }
        return RingView(nodes: nodes, sliceLevels: sliceLevels)
    }
}

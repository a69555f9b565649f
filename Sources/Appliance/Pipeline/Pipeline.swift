import Catalog
import FoundationEssentials
import Ingest
import Labels
import Logging
import ServiceLifecycle
import StatusPage

/// The single-node appliance loop: files arrive (watcher or poller, plus a reconcile scan at start), are read
/// into the catalog, grouped into batches with deadlines, labelled, and committed in one transaction per batch.
/// On graceful shutdown (SIGTERM, SIGINT) it stops taking files, finishes the batch in flight and returns;
/// whatever was still waiting stays `pending` in the catalog and is batched again at the next start.
public final class Pipeline: Service, @unchecked Sendable {
    enum Input: Sendable {
        case watch(WatchEvent)
        case tick
        case finished(Int)
    }

    typealias Outcome = (batch: FormedBatch, result: Result<BatchResult, any Error>)

    let config: ApplianceConfig
    let catalog: Catalog
    let intake: Intake
    let labeling: any BatchLabeling
    let source: any FileSource
    let notifier: SystemdNotifier
    let logger: Logger
    let load: LoadMeter
    private var former: BatchFormer
    private var retries: [String: Double] = [:]
    private var lastWatchdog = 0.0
    private var lastRelabelCheck = 0.0
    /// Frames queued or out to be labelled again, until their batch is recorded.
    private var relabelling: Set<String> = []
    /// After a failed catalog write, no batch is started before this time (the disk may be full).
    private var pausedUntil = 0.0
    /// Batches out for labelling, by a running number; each reports back through the input stream.
    private var inFlight: [Int: Task<Outcome, Never>] = [:]
    private var launched = 0
    private var feed: AsyncStream<Input>.Continuation?

    /// Creates the pipeline.
    public init(
        config: ApplianceConfig, catalog: Catalog, labeling: any BatchLabeling, source: any FileSource,
        notifier: SystemdNotifier, logger: Logger, load: LoadMeter = LoadMeter()
    ) {
        self.load = load
        self.config = config
        self.catalog = catalog
        self.labeling = labeling
        self.source = source
        self.notifier = notifier
        self.logger = logger
        intake = Intake(
            catalog: catalog,
            settings: IntakeSettings(
                root: config.watchFolder, deploymentDepth: config.deploymentDepth, maxFileBytes: config.maxFileBytes,
                settleSeconds: config.settleSeconds
            )
        )
        former = BatchFormer(maxSize: config.batchMaxSize, maxWait: config.batchMaxWaitSeconds, slo: config.sloSeconds)
    }

    public func run() async throws {
        let (inputs, feed) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
        self.feed = feed
        let events = try source.events()
        let forwarder = Task {
            for await event in events { feed.yield(.watch(event)) }
            feed.finish()
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                feed.yield(.tick)
            }
        }
        try requeuePending()
        feed.yield(.watch(.rescan("start-up reconcile scan")))
        notifier.notify("READY=1\nSTATUS=watching \(config.watchFolder)")
        logger.info(
            "watching",
            metadata: ["watch.folder": "\(config.watchFolder)", "watch.mode": "\(config.watchMode.rawValue)"])
        await withGracefulShutdownHandler {
            for await input in inputs.cancelOnGracefulShutdown() {
                await handle(input)
            }
        } onGracefulShutdown: { [source] in
            source.stop()
        }
        ticker.cancel()
        forwarder.cancel()
        // Finish the batches already out: their labels are committed, or their media stay pending.
        for (number, task) in inFlight.sorted(by: { $0.key < $1.key }) {
            inFlight[number] = nil
            record(await task.value)
        }
        notifier.notify("STOPPING=1")
        logger.info("stopped", metadata: ["pending": "\(former.count)"])
        // The inputs end only on shutdown, or when the watcher itself failed: then exit non-zero, so that
        // systemd's Restart=on-failure starts a fresh watch.
        guard Task.isShuttingDownGracefully || Task.isCancelled else {
            throw IngestError(.watchFailed, "the watch on \(config.watchFolder) ended unexpectedly")
        }
    }

    private func handle(_ input: Input) async {
        let now = Date().timeIntervalSince1970
        switch input {
        case .watch(.file(let path)): take(path, now: now)
        case .watch(.rescan(let reason)): rescan(reason, now: now)
        case .tick: await tick(now: now)
        case .finished(let number):
            if let task = inFlight.removeValue(forKey: number) { record(await task.value) }
            startBatches()
        }
    }

    private func tick(now: Double) async {
        if let interval = notifier.watchdogInterval, now - lastWatchdog >= interval {
            notifier.notify("WATCHDOG=1")
            lastWatchdog = now
        }
        for (path, due) in retries where due <= now {
            retries[path] = nil
            take(path, now: now)
        }
        if config.localise, now - lastRelabelCheck >= Self.relabelCheckSeconds {
            lastRelabelCheck = now
            queueRelabels(now: now)
        }
        startBatches()
        load.setWaiting(former.count)
        ApplianceMetrics.queues(waiting: former.count, inFlight: inFlight.count)
    }

    /// Sends formed batches out for labelling while fewer than the stage's limit are out.
    private func startBatches() {
        while inFlight.count < labeling.maxInFlight, Date().timeIntervalSince1970 >= pausedUntil,
            var batch = former.take(now: Date().timeIntervalSince1970)
        {
            catalog.addBursts(to: &batch, config: config, logger: logger)
            launched += 1
            let number = launched
            let labeling = labeling
            let feed = feed
            inFlight[number] = Task {
                let result: Result<BatchResult, any Error>
                do {
                    result = .success(try await labeling.label(batch))
                } catch {
                    result = .failure(error)
                }
                feed?.yield(.finished(number))
                return (batch, result)
            }
        }
    }

    /// How often closed events are checked for frames to label again.
    static let relabelCheckSeconds = 5.0

    /// Queues the frames of closed events that were labelled before the rest of their burst arrived
    /// (docs/localisation.md): a few batches' worth at a time, so new arrivals are never starved.
    private func queueRelabels(now: Double) {
        guard former.count < config.batchMaxSize else { return }
        do {
            let items = try catalog.relabelCandidates(
                quietSeconds: config.eventGapSeconds, now: now, limit: 4 * config.batchMaxSize)
            let fresh = items.filter { relabelling.insert($0.mediaID).inserted }
            guard !fresh.isEmpty else { return }
            for item in fresh { former.add(item) }
            logger.info("labelling again the frames of closed bursts", metadata: ["count": "\(fresh.count)"])
        } catch {
            logger.warning("cannot look for bursts to label again", metadata: ["error": "\(error)"])
        }
    }

    func take(_ path: String, now: Double) {
        do {
            var timings = IntakeTimings()
            switch try intake.take(path, now: now, timings: &timings) {
            case .registered(let mediaID, let registration):
                if registration == .new { ApplianceMetrics.catalogued() }
                if case .moved(let from) = registration {
                    logger.info("file moved", metadata: ["media.path": "\(path)", "media.previousPath": "\(from)"])
                }
                if var item = try catalog.pendingItem(mediaID) {
                    item.headSeconds = timings.nodeTimings
                    former.add(item)
                    load.arrived(at: now)
                }
            case .incomplete:
                retries[path] = now + max(0.5, min(config.settleSeconds, 2))
            case .failed(let code, let message):
                ApplianceMetrics.failed(reason: "\(code)")
                logger.warning(
                    "cannot read image",
                    metadata: ["media.path": "\(path)", "error.code": "\(code)", "error": "\(message)"])
            case .alreadyKnown:
                break
            }
        } catch {
            // The catalog could not be written (disk full, I/O error): the file stays where it is and is found
            // again by the next rescan, so nothing is lost.
            logger.error("catalog write failed; will retry", metadata: ["media.path": "\(path)", "error": "\(error)"])
            retries[path] = now + 5
        }
    }

    private func rescan(_ reason: String, now: Double) {
        let tree = FolderScan.scan(config.watchFolder)
        logger.info("scanning", metadata: ["reason": "\(reason)", "files": "\(tree.files.count)"])
        for folder in tree.unreadable {
            logger.warning("folder not readable", metadata: ["folder": "\(folder)"])
        }
        for file in tree.files { take(file.path, now: now) }
    }

    private func requeuePending() throws {
        let pending = try catalog.pending()
        for item in pending { former.add(item) }
        if !pending.isEmpty { logger.info("re-batching pending media", metadata: ["count": "\(pending.count)"]) }
    }

    private func record(_ outcome: Outcome) {
        let batch = outcome.batch
        defer { for item in batch.items where item.relabel { relabelling.remove(item.mediaID) } }
        do {
            let result = try outcome.result.get()
            var clock = StepClock()
            let batchID = try catalog.commit(
                result, eventGapSeconds: config.eventGapSeconds, eventLabeler: labeling.eventLabeler)
            // The commit's own time is known only once it is done: added to the batch's row afterwards.
            try? catalog.addTiming("head.commit", seconds: clock.lap(), batchID: batchID)
            for label in result.labels where !label.relabel { ApplianceMetrics.labelled(type: label.observationType) }
            for failure in result.failures { ApplianceMetrics.failed(reason: failure.code) }
            ApplianceMetrics.batch(latencySeconds: result.completed - result.firstArrival, met: result.metDeadline)
            logger.info(
                "batch labelled",
                metadata: [
                    "batch.id": "\(batchID)", "batch.size": "\(batch.items.count)",
                    "batch.latencyMs": "\(Int((result.completed - result.firstArrival) * 1000))",
                    "batch.met": "\(result.metDeadline)", "batch.failed": "\(result.failures.count)",
                ]
            )
        } catch {
            logger.error("batch not recorded; its media stay pending, retrying in 5 s", metadata: ["error": "\(error)"])
            for item in batch.items { former.add(item) }
            pausedUntil = Date().timeIntervalSince1970 + 5
        }
    }
}

extension Catalog {
    /// Looks up each item's burst (when localisation is on). A catalog that cannot be read leaves the items
    /// without one: they are labelled whole, never lost.
    func addBursts(to batch: inout FormedBatch, config: ApplianceConfig, logger: Logger) {
        guard config.localise else { return }
        do {
            let bursts = try bursts(for: batch.items, gapSeconds: config.eventGapSeconds, limit: 500)
            for index in batch.items.indices { batch.items[index].burst = bursts[batch.items[index].mediaID] ?? [] }
        } catch {
            logger.warning("cannot look up bursts; labelling whole frames", metadata: ["error": "\(error)"])
        }
    }
}

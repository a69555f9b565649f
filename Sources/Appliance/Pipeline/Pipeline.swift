import Catalog
import FoundationEssentials
import Ingest
import Logging
import ServiceLifecycle

/// The single-node appliance loop: files arrive (watcher or poller, plus a reconcile scan at start), are read
/// into the catalog, grouped into batches with deadlines, labelled, and committed in one transaction per batch.
/// On graceful shutdown (SIGTERM, SIGINT) it stops taking files, finishes the batch in flight and returns;
/// whatever was still waiting stays `pending` in the catalog and is batched again at the next start.
public final class Pipeline: Service, @unchecked Sendable {
    enum Input: Sendable {
        case watch(WatchEvent)
        case tick
    }

    let config: ApplianceConfig
    let catalog: Catalog
    let intake: Intake
    let labeling: LabelingStage
    let source: any FileSource
    let notifier: SystemdNotifier
    let logger: Logger
    private var former: BatchFormer
    private var retries: [String: Double] = [:]
    private var lastWatchdog = 0.0
    /// After a failed catalog write, no batch is started before this time (the disk may be full).
    private var pausedUntil = 0.0

    /// Creates the pipeline.
    public init(
        config: ApplianceConfig, catalog: Catalog, labeling: LabelingStage, source: any FileSource,
        notifier: SystemdNotifier, logger: Logger
    ) {
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
        while Date().timeIntervalSince1970 >= pausedUntil, let batch = former.take(now: Date().timeIntervalSince1970) {
            await label(batch)
        }
    }

    func take(_ path: String, now: Double) {
        do {
            switch try intake.take(path, now: now) {
            case .registered(let mediaID, let registration):
                if case .moved(let from) = registration {
                    logger.info("file moved", metadata: ["media.path": "\(path)", "media.previousPath": "\(from)"])
                }
                if let item = try catalog.pendingItem(mediaID) { former.add(item) }
            case .incomplete:
                retries[path] = now + max(0.5, min(config.settleSeconds, 2))
            case .failed(let code, let message):
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

    private func label(_ batch: FormedBatch) async {
        do {
            let result = try await labeling.label(batch)
            let batchID = try catalog.commit(result, eventGapSeconds: config.eventGapSeconds)
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

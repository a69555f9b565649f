import Catalog
import FoundationEssentials
import Ingest
import Labels
import Logging

/// How far a one-shot backfill has got.
public struct BackfillProgress: Sendable {
    public var phase: String
    public var done: Int
    public var total: Int
    public var elapsed: Double

    /// Items per second so far.
    public var rate: Double { elapsed > 0 ? Double(done) / elapsed : 0 }
    /// Seconds left at the current rate; nil before there is a rate.
    public var remaining: Double? { rate > 0 ? Double(total - done) / rate : nil }
}

/// `trapline ingest DIR`: catalogues every image under a folder and labels everything pending, in batches.
/// Interrupting it loses nothing: what was catalogued stays, pending media are labelled by the next run (of
/// `ingest` or of the daemon), and files already catalogued are not read again.
public struct Backfill: Sendable {
    public let runtime: ApplianceRuntime
    public let logger: Logger

    /// Creates a backfill over the runtime's configured watch folder.
    public init(runtime: ApplianceRuntime, logger: Logger) {
        self.runtime = runtime
        self.logger = logger
    }

    /// Runs until done or until `shouldStop` says so (checked between files and between batches).
    /// - Returns: Media labelled and failed in this run.
    public func run(
        progress: (BackfillProgress) -> Void, shouldStop: () -> Bool
    ) async throws -> (labeled: Int, failed: Int, stopped: Bool) {
        let config = runtime.config
        let intake = Intake(
            catalog: runtime.catalog,
            settings: IntakeSettings(
                root: config.watchFolder, deploymentDepth: config.deploymentDepth, maxFileBytes: config.maxFileBytes,
                settleSeconds: 0
            )
        )
        let files = FolderScan.scan(config.watchFolder).files
        let start = Date().timeIntervalSince1970
        for (index, file) in files.enumerated() {
            if shouldStop() { return (0, 0, true) }
            _ = try intake.take(file.path, now: Date().timeIntervalSince1970)
            progress(
                BackfillProgress(
                    phase: "reading", done: index + 1, total: files.count, elapsed: Date().timeIntervalSince1970 - start
                ))
        }
        let pending = try runtime.catalog.pending(limit: Int.max)
        return try await label(pending, phase: "labelling", progress: progress, shouldStop: shouldStop)
    }

    /// Labels items in batches, committing each, until done or `shouldStop` says so (checked between batches).
    private func label(
        _ items: [PendingMedia], phase: String, progress: (BackfillProgress) -> Void, shouldStop: () -> Bool
    ) async throws -> (labeled: Int, failed: Int, stopped: Bool) {
        let config = runtime.config
        var former = BatchFormer(maxSize: config.batchMaxSize, maxWait: 0, slo: config.sloSeconds)
        for item in items { former.add(item) }
        var (labeled, failed, done) = (0, 0, 0)
        let start = Date().timeIntervalSince1970
        while var batch = former.take(now: .infinity, force: true) {
            runtime.catalog.addBursts(to: &batch, config: config, logger: logger)
            if shouldStop() { return (labeled, failed, true) }
            let result = try await runtime.labeling.label(batch)
            try runtime.catalog.commit(
                result, eventGapSeconds: config.eventGapSeconds, eventLabeler: runtime.labeling.eventLabeler)
            labeled += result.labels.count
            failed += result.failures.count
            done += batch.items.count
            progress(
                BackfillProgress(
                    phase: phase, done: done, total: items.count, elapsed: Date().timeIntervalSince1970 - start))
        }
        return (labeled, failed, false)
    }
}

extension Backfill {
    /// `trapline relabel --since`: labels every frame captured since a time again, with the labeller the
    /// configuration gives now, replacing its observation and its event's label. Frames whose file is gone keep
    /// their label.
    /// - Returns: Frames relabelled, and frames that could not be read again.
    public func relabel(
        since timeKey: Double, progress: (BackfillProgress) -> Void, shouldStop: () -> Bool
    ) async throws -> (labeled: Int, failed: Int, stopped: Bool) {
        let items = try runtime.catalog.labelled(since: timeKey, now: Date().timeIntervalSince1970)
        return try await label(items, phase: "relabelling", progress: progress, shouldStop: shouldStop)
    }
}

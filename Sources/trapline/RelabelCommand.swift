import Appliance
import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

struct RelabelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relabel",
        abstract: "Label again every image captured since a date, with the labels settings in force now.",
        discussion: """
            Labels already in the catalog are never rewritten on their own: a new site head (labels.siteHead), \
            threshold or species list applies to images that arrive from then on. This command is how to apply \
            it to earlier ones: each image captured at or after --since is read and labelled again, and its \
            observation and its event's label are replaced. An image whose file is gone keeps its label. Stop the \
            daemon first (the catalog has one writer); Ctrl-C stops after the current batch.
            """
    )

    @Option(help: "Capture date (and time) to start from: 2026-05-01 or 2026-05-01T06:00:00, the camera's clock time.")
    var since: String

    @OptionGroup var options: ApplianceOptions

    func validate() throws {
        guard Self.timeKey(since) != nil else {
            throw ValidationError("--since must be a date, 2026-05-01, or a date and time, 2026-05-01T06:00:00.")
        }
    }

    /// Seconds since 1970 of a clock time written YYYY-MM-DD[THH:MM[:SS]], as the catalog's `timeKey` counts.
    static func timeKey(_ text: String) -> Double? {
        let parts = text.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
        let dateFields = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        let timeFields = parts.count > 1 ? parts[1].split(separator: ":", omittingEmptySubsequences: false) : []
        let date = dateFields.compactMap { Int($0) }
        let time = timeFields.compactMap { Int($0) }
        guard date.count == 3, dateFields.count == 3, time.count == timeFields.count,
            parts.count == 1 || (2...3).contains(time.count), date[0] >= 1970, (1...12).contains(date[1]),
            (1...31).contains(date[2]), time.isEmpty || (0..<24).contains(time[0]),
            time.count < 2 || (0..<60).contains(time[1]), time.count < 3 || (0..<61).contains(time[2])
        else { return nil }
        // Days from the civil date (proleptic Gregorian), then the time of day.
        let (y, m, d) = (date[1] <= 2 ? date[0] - 1 : date[0], date[1], date[2])
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = (time.first ?? 0) * 3600 + (time.count > 1 ? time[1] * 60 : 0) + (time.count > 2 ? time[2] : 0)
        return Double(days * 86_400 + seconds)
    }

    func run() async throws {
        let config = try await options.load(extra: [:])
        let logger = ApplianceOptions.logger(config)
        let runtime = try ApplianceOptions.runtime(config, logger: logger)
        StopSignal.install()
        let reporter = ProgressReporter(terminal: isatty(STDOUT_FILENO) == 1)
        let result = try await Backfill(runtime: runtime, logger: logger).relabel(
            since: Self.timeKey(since)!, progress: reporter.show, shouldStop: { StopSignal.requested })
        reporter.finish()
        let verdict = result.stopped ? "interrupted (run again to finish)" : "done"
        print("\(verdict): \(result.labeled) relabelled, \(result.failed) could not be read again (kept as they were)")
        if result.stopped { throw ExitCode(130) }
    }
}

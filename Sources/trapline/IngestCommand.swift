import Appliance
import ArgumentParser
import Logging

#if canImport(Glibc)
    import Glibc
#endif

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Catalogue and label every image already under a folder (a one-shot backfill).",
        discussion: """
            Shows progress (count, rate, time left) on a terminal and plain lines otherwise. Ctrl-C stops after \
            the current batch; run it again to resume: catalogued files are not read again, and pending images \
            are labelled.
            """
    )

    @Argument(help: "The folder to backfill; its first-level folders name the deployments.")
    var folder: String

    @OptionGroup var options: ApplianceOptions

    func run() async throws {
        let config = try await options.load(extra: ["watch.folder": folder])
        let logger = ApplianceOptions.logger(config)
        let runtime = try ApplianceOptions.runtime(config, logger: logger)
        StopSignal.install()
        let reporter = ProgressReporter(terminal: isatty(STDOUT_FILENO) == 1)
        let result = try await Backfill(runtime: runtime, logger: logger).run(
            progress: reporter.show, shouldStop: { StopSignal.requested }
        )
        reporter.finish()
        let verdict = result.stopped ? "interrupted (run again to resume)" : "done"
        print(
            "\(verdict): \(result.labeled) labelled, \(result.failed) failed in this run; catalog \(config.catalogPath)"
        )
        if result.stopped { throw ExitCode(130) }
    }
}

/// Progress on a terminal (one line rewritten in place) or as plain lines every 5% for logs and pipes.
final class ProgressReporter: @unchecked Sendable {
    let terminal: Bool
    private var lastPhase = ""
    private var lastPercent = -1

    init(terminal: Bool) { self.terminal = terminal }

    func show(_ p: BackfillProgress) {
        let percent = p.total > 0 ? p.done * 100 / p.total : 100
        let eta = p.remaining.map { "\(Int($0.rounded()))s left" } ?? "-"
        let line = "\(p.phase) \(p.done)/\(p.total) (\(percent)%), \(String(format1: p.rate))/s, \(eta)"
        if terminal {
            let width = 30
            let filled = p.total > 0 ? p.done * width / p.total : width
            print(
                "\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(line)   ",
                terminator: "")
            if p.phase != lastPhase && !lastPhase.isEmpty { print("") }
            fflush(nil)  // all streams: stdout is not concurrency-safe to name
        } else if percent / 5 != lastPercent / 5 || p.phase != lastPhase || p.done == p.total {
            print(line)
        }
        lastPhase = p.phase
        lastPercent = percent
    }

    func finish() {
        if terminal { print("") }
    }
}

extension String {
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}

import ArgumentParser
import Catalog
import FoundationEssentials

struct Timings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show where the batches' time went: the head's steps per image, and each ring node's.",
        discussion: """
            Every batch records its steps (batches.nodeTimings): on the head, reading, hashing and registering each \
            file as it arrives, waiting for the decoder, decoding, grey decoding, localising and crop decoding, \
            normalising, its own units, coding activations, waiting for the other nodes, the controller, \
            labelling and the catalog commit; on each ring node, its compute, queue, link and coding. For each \
            step this prints milliseconds per image (its total over every batch's images, and the median and 95th \
            percentile over the batches that recorded it), and the head's share. With ring.offload a worker may \
            prepare a batch: the head then reads the files for it and waits, and the worker's time shows as its \
            `prepare`. Steps overlap between batches (the next \
            batch is decoded while the ring computes this one), so they do not add up to the latency.
            """
    )

    @OptionGroup var options: ApplianceOptions

    @Option(help: "Only batches completed at or after this UTC time: 2026-05-01 or 2026-05-01T06:00:00.")
    var since: String?

    @Option(help: "Only the newest this many batches.")
    var last: Int?

    @Flag(help: "Print one JSON document.")
    var json = false

    func validate() throws {
        if let since, RelabelCommand.timeKey(since) == nil {
            throw ValidationError("--since must be a date, 2026-05-01, or a date and time, 2026-05-01T06:00:00.")
        }
        if let last, last < 1 { throw ValidationError("--last must be at least 1.") }
    }

    func run() async throws {
        let config = try await options.load(extra: [:])
        let catalog = try CLISupport.existingCatalog(config.catalogPath)
        let records = try catalog.batchTimings(since: since.flatMap(RelabelCommand.timeKey), last: last)
        let summary = TimingSummary(records)
        if json {
            print(try Self.jsonText(summary))
            return
        }
        print("catalog   \(config.catalogPath)")
        guard summary.batches > 0 else {
            print("no batches recorded yet")
            return
        }
        let attainment = summary.met * 100 / summary.batches
        print(
            "batches   \(summary.batches), \(summary.images) images, \(Self.ms(summary.meanLatencyMs)) ms mean latency, \(attainment)% met their deadline"
        )
        if summary.offloaded > 0 {
            print("offloaded \(summary.offloaded) batches prepared by a worker (ring.offload)")
        }
        let work = summary.headWorkMsPerImage
        let capacity = work > 0 ? String(format1: 1000 / work) : "-"
        print(
            "head      \(Self.ms(work)) ms of its own work per image: at most \(capacity) images/s if it did nothing else"
        )
        print("")
        print(Self.row("step", "ms/image", "p50", "p95", "share", "batches"))
        for step in summary.head {
            let share = step.work && work > 0 ? "\(Int((100 * step.msPerImage / work).rounded()))%" : "wait"
            print(
                Self.row(
                    step.name, Self.ms(step.msPerImage), Self.ms(step.p50), Self.ms(step.p95), share, "\(step.batches)")
            )
        }
        if !summary.nodes.isEmpty {
            print("")
            print(Self.row("ring hops", "ms/image", "p50", "p95", "", "batches"))
            for step in summary.nodes {
                print(
                    Self.row(
                        step.name, Self.ms(step.msPerImage), Self.ms(step.p50), Self.ms(step.p95), "", "\(step.batches)"
                    ))
            }
        }
    }

    /// Milliseconds to two decimals under 10, else one.
    static func ms(_ value: Double) -> String {
        guard value < 10 else { return String(format1: value) }
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func row(_ name: String, _ columns: String...) -> String {
        (name.count >= 34 ? name + " " : name + String(repeating: " ", count: 34 - name.count))
            + columns.map { $0.leftPadded(9) }.joined()
    }

    static func jsonText(_ summary: TimingSummary) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try encoder.encode(TimingsReport(summary)), as: UTF8.self)
    }
}

/// `trapline timings --json`.
struct TimingsReport: Encodable {
    struct Step: Encodable {
        var key: String
        var name: String
        var work: Bool
        var batches: Int
        var images: Int
        var totalSeconds: Double
        var msPerImage: Double
        var p50: Double
        var p95: Double
    }

    var batches: Int
    var images: Int
    var met: Int
    var offloaded: Int
    var meanLatencyMs: Double
    var headWorkMsPerImage: Double
    var head: [Step]
    var nodes: [Step]

    init(_ summary: TimingSummary) {
        func steps(_ list: [TimingSummary.Step]) -> [Step] {
            list.map {
                Step(
                    key: $0.key, name: $0.name, work: $0.work, batches: $0.batches, images: $0.images,
                    totalSeconds: $0.totalSeconds, msPerImage: $0.msPerImage, p50: $0.p50, p95: $0.p95)
            }
        }
        batches = summary.batches
        images = summary.images
        met = summary.met
        offloaded = summary.offloaded
        meanLatencyMs = summary.meanLatencyMs
        headWorkMsPerImage = summary.headWorkMsPerImage
        head = steps(summary.head)
        nodes = steps(summary.nodes)
    }
}

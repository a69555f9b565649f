import Appliance
import ArgumentParser
import Catalog

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise the catalog: images by status, the commonest species, deadline attainment."
    )

    @OptionGroup var options: ApplianceOptions

    func run() async throws {
        let config = try await options.load(extra: [:])
        let catalog = try CLISupport.existingCatalog(config.catalogPath)
        let s = try catalog.summary()
        print("catalog     \(config.catalogPath)")
        print(
            "images      \(s.labeled + s.pending + s.failed): \(s.labeled) labelled (\(s.blank) blank), \(s.pending) pending, \(s.failed) failed"
        )
        let attainment = s.batches > 0 ? "\(s.batchesMet * 100 / s.batches)%" : "-"
        let latency = s.meanLatencyMs.map { "\(Int($0.rounded())) ms mean latency" } ?? "no batches yet"
        print("deadlines   \(s.batchesMet) of \(s.batches) batches met (\(attainment)), \(latency)")
        if let last = s.lastBatch { print("last batch  \(last)") }
        if !s.species.isEmpty {
            print("species")
            for (name, count) in s.species { print("  \(String(count).leftPadded(6))  \(name)") }
        }
        if !s.recentFailures.isEmpty {
            print("recent failures")
            for failure in s.recentFailures { print("  \(failure.path): \(failure.error)") }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

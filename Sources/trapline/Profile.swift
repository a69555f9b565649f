import Appliance
import ArgumentParser
import Control
import FoundationEssentials
import Inference

struct Profile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Measure this node's service time for every slice at every option (width level or slice option) and batch size.",
        discussion: """
            Runs each slice of the ring's plan (or the model's 4-node plan when no ring is configured) on this \
            machine: one warm-up run, then the median of --runs timed runs, for each level and batch size. Stores \
            the table in control.profile, where the node reads it at start and reports it to the head, whose \
            adaptive controller divides measured times by it to see a node slow down. Then it measures each unit \
            on its own the same way, from which the head predicts any range of units when it moves slice \
            boundaries (control.policy repartition or adaptive). Run it on every node, with the appliance stopped \
            (it competes for the CPU).
            """
    )

    @OptionGroup var options: ApplianceOptions

    @Option(help: "This node's name (ring.node; default: the host name).")
    var node: String?

    @Option(help: "Batch sizes to measure, comma-separated.")
    var batchSizes = "1,2,4,8"

    @Option(help: "Timed runs per point (the median is kept).")
    var runs = 5

    @Option(help: "Where to store the profile (default: control.profile).")
    var out: String?

    @Flag(help: "Skip measuring each unit on its own (halves the time; the repartition policy then cannot start).")
    var noUnits = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard sizes.count > 0, sizes.allSatisfy({ (1...256).contains($0) }), sizes == sizes.sorted() else {
            throw ValidationError("--batch-sizes must be ascending whole numbers in 1...256, like 1,2,4,8")
        }
    }

    var sizes: [Int] { batchSizes.split(separator: ",").compactMap { Int($0.trimmingSpaces) } }

    func run() async throws {
        let config = try await options.load(extra: ["ring.node": node].compactMapValues { $0 })
        let (model, _, sha) = try ModelLocator.load(
            config.modelPath, environment: CLISupport.environment, executable: CommandLine.arguments[0])
        let ring: RingSetupResult
        do {
            ring = try RingSetupResult(config: config, model: model)
        } catch let error as ConfigError {
            throw CLIError("bad configuration: \(error.description)")
        }
        print("profiling \(ring.plan.count - 1) slices of plan \(ring.plan) on \(ring.node), batch sizes \(sizes)")
        if let kernel = Trapline.blasKernel { print("OpenBLAS kernel \(kernel)") }
        let options = (0..<model.metadata.optionCount).map(model.metadata.optionName)
        print("slice  units    batch  " + options.map { $0.padding(12) }.joined())
        let profiles = try Profiler.measure(
            model: model, plan: ring.plan, node: ring.node, batchSizes: sizes, runs: runs, threads: config.threads
        ) { profile in
            for (row, batch) in profile.batchSizes.enumerated() {
                let units = "\(profile.units[0])..<\(profile.units[1])"
                print(
                    "\(ring.plan.firstIndex(of: profile.units[0]) ?? 0)".padding(7) + units.padding(9)
                        + "\(batch)".padding(7) + profile.serviceMs[row].map { String(ms: $0).padding(12) }.joined())
            }
        }
        var units: [SliceProfile]?
        if !noUnits {
            print("each unit on its own (for moving slice boundaries):")
            units = try Profiler.measureUnits(
                model: model, node: ring.node, batchSizes: sizes, runs: runs, threads: config.threads
            ) { profile in
                for (row, batch) in profile.batchSizes.enumerated() {
                    print(
                        "unit \(profile.units[0])".padding(16) + "\(batch)".padding(7)
                            + profile.serviceMs[row].map { String(ms: $0).padding(12) }.joined())
                }
            }
        }
        let path = out ?? config.controlProfile
        let document = ProfileStore.Document(
            modelID: sha, plan: ring.plan, measuredAt: Date().formatted(.iso8601), slices: profiles, units: units)
        do {
            try ProfileStore.save(document, to: path)
        } catch let error as ConfigError {
            throw CLIError(error.description)
        }
        print("stored in \(path) (milliseconds per batch, median of \(runs))")
    }
}

/// The plan and node name a profile is measured for.
struct RingSetupResult {
    let plan: [Int]
    let node: String

    init(config: ApplianceConfig, model: Model) throws {
        if let ring = try RingSetup.config(config, model: model) {
            plan = ring.plan
            node = ring.node
        } else {
            plan = model.metadata.slicePlan(nodes: 4) ?? [0, model.unitCount]
            node = config.ringNode ?? RingSetup.hostName()
        }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }

    fileprivate init(ms value: Double) {
        let hundredths = Int((value * 100).rounded())
        self = "\(hundredths / 100)." + (hundredths % 100 < 10 ? "0" : "") + "\(hundredths % 100)"
    }
}

// What one controller decision costs on the head, per batch: the joint search over boundaries and levels for rings
// of 4, 8 and 16 nodes sharing 18 units with 5 options, in three situations. At 4 nodes (625 level vectors) both the
// walked search and the frontier search are timed; beyond, only the frontier search can run (5^8 and 5^16 vectors).
// Prints one JSON line per ring, search and situation with the median and the slowest of the timed decisions.
//   swift run -c release --package-path Benchmarks control-bench [decisions]
import Control
import Dispatch

let decisions = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200 : 200
let unitCount = 18
let unitBase: [Double] = [6, 7, 8, 6, 7, 8, 7, 9, 7, 7, 8, 7, 8, 8, 9, 9, 9, 9]
let optionFactor: [Double] = [1, 0.8, 0.6, 0.45, 0.7]
let batchSizes = [1, 2, 4, 8]
let boundaryValues = [
    150_528, 401_408, 200_704, 75_264, 75_264, 31_360, 31_360, 15_680, 15_680, 15_680, 21_952, 21_952, 21_952, 9_408,
    9_408, 9_408, 9_408, 15_680, 1_000,
]
let curves: [[Double]] = [
    [1, 0.99, 0.97, 0.9, 0.95], [1, 0.98, 0.95, 0.85, 0.9], [1, 0.985, 0.96, 0.88, 0.9], [1, 0.99, 0.96, 0.87, 0.9],
]

/// A ring of `nodes` members, each planned an even share of the units.
struct Ring {
    let nodes: Int
    var plan: [Int] { (0...nodes).map { $0 * unitCount / nodes } }

    func slice(of unit: Int) -> Int { (0..<nodes).last { plan[$0] <= unit } ?? 0 }

    func unitProfile(_ node: Int, _ unit: Int) -> SliceProfile {
        SliceProfile(
            node: "n\(node)", units: [unit, unit + 1], batchSizes: batchSizes,
            serviceMs: batchSizes.map { batch in optionFactor.map { unitBase[unit] * $0 * Double(batch) / 8 } })
    }

    var units: UnitProfiles {
        UnitProfiles(
            plan: plan, nodes: (0..<nodes).map { node in (0..<unitCount).map { unitProfile(node, $0) } },
            boundaryValues: boundaryValues)
    }

    var slices: [SliceProfile] {
        let plan = plan
        return (0..<nodes).map { slice in
            SliceProfile(
                node: "n\(slice)", units: [plan[slice], plan[slice + 1]], batchSizes: batchSizes,
                serviceMs: batchSizes.map { batch in
                    optionFactor.map { factor in
                        (plan[slice]..<plan[slice + 1]).reduce(0.0) { $0 + unitBase[$1] * factor * Double(batch) / 8 }
                    }
                })
        }
    }

    var accuracy: AccuracyTable { AccuracyTable(full: 1, slices: (0..<nodes).map { curves[$0 % curves.count] }) }

    /// A batch as the head would observe it: node n `slowdowns[n]` times its profile, on the controller's bounds.
    func observation(_ controller: Controller, slowdowns: [Double], rate: Double, backlog: Double) -> BatchObservation {
        let bounds = controller.bounds
        var observation = BatchObservation(
            batchSize: 8, sliceMs: [], sliceLevels: controller.levels, arrivalRate: rate, backlogBatches: backlog,
            deadlineMs: 400)
        observation.hops = (0..<(bounds.count - 1)).map { stage in
            let ms = (bounds[stage]..<bounds[stage + 1]).reduce(0.0) { sum, unit in
                sum + unitBase[unit] * optionFactor[controller.levels[slice(of: unit)]]
            }
            return HopSample(
                node: stage, units: bounds[stage]..<bounds[stage + 1], computeMs: slowdowns[stage] * ms,
                linkMs: stage == 0 ? 0 : 2e-5 * Double(boundaryValues[bounds[stage]] * 8))
        }
        return observation
    }

    func measure(_ name: String, pattern: [Double], rate: Double, backlog: Double, frontier: Bool) throws {
        // The appliance's settings: `control.drainBatches` 8 (so a backlog shrinks the throughput bound instead of
        // adding to the latency).
        var settings = ControllerSettings()
        settings.drainBatches = 8
        settings.walkedSearchLimit = frontier ? 0 : 8_000_000
        var controller = try Controller(
            profiles: slices, accuracy: accuracy, levelCount: optionFactor.count, policy: .adaptive,
            settings: settings, units: units)
        let slowdowns = (0..<nodes).map { pattern[$0 % pattern.count] }
        // The arrival rate grows with the ring, so that the same situation holds at every size.
        let scaledRate = rate * Double(nodes) / 4
        var times: [Double] = []
        var last = ""
        for _ in 0..<decisions {
            let next = observation(controller, slowdowns: slowdowns, rate: scaledRate, backlog: backlog)
            let start = DispatchTime.now().uptimeNanoseconds
            let decision = controller.observe(next)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            last = String(decision.reason.prefix(60))
        }
        times.sort()
        print(
            "{\"nodes\": \(nodes), \"search\": \"\(controller.usesFrontier ? "frontier" : "walked")\", "
                + "\"situation\": \"\(name)\", \"decisions\": \(decisions), \"medianMs\": \(times[times.count / 2]), "
                + "\"maxMs\": \(times.last ?? 0), \"lastDecision\": \"\(last)\"}")
    }

    func measureAll(frontier: Bool) throws {
        // Full width fits: the current choice is kept.
        try measure("fits at full width", pattern: [1], rate: 150, backlog: 0, frontier: frontier)
        // Pruned and fitting: more accurate choices are checked each batch for relaxation.
        try measure(
            "pruned, checking relaxations", pattern: [1.5, 2.5, 5, 2.5], rate: 130, backlog: 0, frontier: frontier)
        // Nothing fits, with a backlog: the least overloaded choice is searched for.
        try measure("overloaded with a backlog", pattern: [2, 2, 6, 2], rate: 400, backlog: 4, frontier: frontier)
    }
}

try Ring(nodes: 4).measureAll(frontier: false)
for nodes in [4, 8, 16] { try Ring(nodes: nodes).measureAll(frontier: true) }

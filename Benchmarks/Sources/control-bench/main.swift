// What one controller decision costs on the head, per batch: the joint search over boundaries and levels for a
// 4-node ring of 18 units and 5 options (625 level vectors), in three situations. Prints one JSON line per
// situation with the median and the slowest of the timed decisions.
//   swift run -c release --package-path Benchmarks control-bench [decisions]
import Control
import Dispatch

let decisions = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200 : 200
let plan = [0, 3, 8, 13, 18]
let unitBase: [Double] = [6, 7, 8, 6, 7, 8, 7, 9, 7, 7, 8, 7, 8, 8, 9, 9, 9, 9]
let optionFactor: [Double] = [1, 0.8, 0.6, 0.45, 0.7]
let batchSizes = [1, 2, 4, 8]
let boundaryValues = [
    150_528, 401_408, 200_704, 75_264, 75_264, 31_360, 31_360, 15_680, 15_680, 15_680, 21_952, 21_952, 21_952, 9_408,
    9_408, 9_408, 9_408, 15_680, 1_000,
]

func unitProfile(_ node: Int, _ unit: Int) -> SliceProfile {
    SliceProfile(
        node: "n\(node)", units: [unit, unit + 1], batchSizes: batchSizes,
        serviceMs: batchSizes.map { batch in optionFactor.map { unitBase[unit] * $0 * Double(batch) / 8 } })
}

let units = UnitProfiles(
    plan: plan, nodes: (0..<4).map { node in (0..<18).map { unitProfile(node, $0) } }, boundaryValues: boundaryValues)
let slices = (0..<4).map { slice in
    SliceProfile(
        node: "n\(slice)", units: [plan[slice], plan[slice + 1]], batchSizes: batchSizes,
        serviceMs: batchSizes.map { batch in
            optionFactor.map { factor in
                (plan[slice]..<plan[slice + 1]).reduce(0.0) { $0 + unitBase[$1] * factor * Double(batch) / 8 }
            }
        })
}
let accuracy = AccuracyTable(
    full: 1,
    slices: [
        [1, 0.99, 0.97, 0.9, 0.95], [1, 0.98, 0.95, 0.85, 0.9], [1, 0.985, 0.96, 0.88, 0.9],
        [1, 0.99, 0.96, 0.87, 0.9],
    ])

/// A batch as the head would observe it: node n `slowdowns[n]` times its profile, on the controller's own bounds.
func observation(_ controller: Controller, slowdowns: [Double], rate: Double, backlog: Double) -> BatchObservation {
    let bounds = controller.bounds
    var observation = BatchObservation(
        batchSize: 8, sliceMs: [], sliceLevels: controller.levels, arrivalRate: rate, backlogBatches: backlog,
        deadlineMs: 400)
    observation.hops = (0..<(bounds.count - 1)).map { stage in
        let ms = (bounds[stage]..<bounds[stage + 1]).reduce(0.0) { sum, unit in
            let slice = (0..<4).last { plan[$0] <= unit } ?? 0
            return sum + unitBase[unit] * optionFactor[controller.levels[slice]]
        }
        return HopSample(
            node: stage, units: bounds[stage]..<bounds[stage + 1], computeMs: slowdowns[stage] * ms,
            linkMs: stage == 0 ? 0 : 2e-5 * Double(boundaryValues[bounds[stage]] * 8))
    }
    return observation
}

func measure(_ name: String, slowdowns: [Double], rate: Double, backlog: Double) throws {
    var controller = try Controller(
        profiles: slices, accuracy: accuracy, levelCount: optionFactor.count, policy: .adaptive, units: units)
    var times: [Double] = []
    var last = ""
    for _ in 0..<decisions {
        let next = observation(controller, slowdowns: slowdowns, rate: rate, backlog: backlog)
        let start = DispatchTime.now().uptimeNanoseconds
        let decision = controller.observe(next)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        last = String(decision.reason.prefix(60))
    }
    times.sort()
    print(
        "{\"situation\": \"\(name)\", \"decisions\": \(decisions), \"medianMs\": \(times[times.count / 2]), "
            + "\"maxMs\": \(times.last ?? 0), \"lastDecision\": \"\(last)\"}")
}

// Full width fits: the current vector is kept, relaxation has nothing to check.
try measure("fits at full width", slowdowns: [1, 1, 1, 1], rate: 150, backlog: 0)
// Pruned and fitting: every more accurate vector is checked each batch for the relaxation streaks.
try measure("pruned, checking relaxations", slowdowns: [1.5, 2.5, 5, 2.5], rate: 130, backlog: 0)
// Nothing fits, with a backlog: every vector is searched, then the least overloaded one is found.
try measure("overloaded with a backlog", slowdowns: [2, 2, 6, 2], rate: 400, backlog: 4)

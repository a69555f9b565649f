// A discrete-event simulator of the ring (docs/simulator.md): the head's batching, preparation and ring trips on
// simulated time, with the real Control module choosing levels and boundaries. Reads a JSON list of scenarios
// (Benchmarks/ring/simulate.py writes them), simulates each, and writes a JSON list of results in the real
// experiment's shape.
//   swift run -c release --package-path Benchmarks ring-sim SCENARIOS.json RESULTS.json
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: ring-sim SCENARIOS.json RESULTS.json\n".utf8))
    exit(2)
}
do {
    let scenarios = try JSONDecoder().decode(
        [Scenario].self, from: Data(contentsOf: URL(fileURLWithPath: arguments[1])))
    var results: [RunResult] = []
    for scenario in scenarios {
        results.append(try Simulation(scenario).run())
    }
    let encoder = JSONEncoder()
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    try encoder.encode(results).write(to: URL(fileURLWithPath: arguments[2]))
} catch {
    FileHandle.standardError.write(Data("ring-sim: \(error)\n".utf8))
    exit(1)
}

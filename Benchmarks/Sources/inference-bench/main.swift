// Times the engine on the bundled model for a benchmark driver that sets it beside onnxruntime.
//   inference-bench MODEL ROUNDS THREADS BATCH...      one JSON line per (batch, level): median ms per batch
//   inference-bench MODEL ROUNDS THREADS --switch      the cost of switching level between calls
//   inference-bench MODEL ROUNDS THREADS --layers      per-unit times at batch 8, level 0 (where the time goes)
import Inference

#if canImport(Glibc)
    import Glibc
#endif

func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// A reusable input/output pair for one batch size and unit range.
struct Buffers {
    var input: [Float]
    var output: [Float]

    init(engine: Engine, batch: Int, units: Range<Int>) {
        let count = batch * engine.shape(atBoundary: units.lowerBound).count
        input = (0..<count).map { Float($0 % 251) / 125 - 1 }
        output = [Float](repeating: 0, count: batch * engine.shape(atBoundary: units.upperBound).count)
    }

    mutating func run(_ engine: Engine, batch: Int, units: Range<Int>, level: Int) throws {
        try input.withUnsafeBufferPointer { source in
            try output.withUnsafeMutableBufferPointer { target in
                try engine.run(
                    source, batch: batch, units: units, levels: Array(repeating: level, count: units.count),
                    into: target)
            }
        }
    }
}

func timeLevels(_ engine: Engine, rounds: Int, threads: Int, batches: [Int]) throws {
    let units = 0..<engine.model.unitCount
    for batch in batches {
        var buffers = Buffers(engine: engine, batch: batch, units: units)
        for level in 0..<engine.model.levelCount { try buffers.run(engine, batch: batch, units: units, level: level) }
        var samples = Array(repeating: [Double](), count: engine.model.levelCount)
        for _ in 0..<rounds {
            for level in 0..<engine.model.levelCount {
                samples[level].append(
                    try milliseconds { try buffers.run(engine, batch: batch, units: units, level: level) })
            }
        }
        for level in samples.indices {
            let prune = engine.model.metadata.pruneLevels[level]
            print(
                #"{"runtime": "trapline", "threads": \#(threads), "batch": \#(batch), "level": \#(prune), "ms": \#(median(samples[level]))}"#
            )
        }
    }
}

/// Level 2 timed after a level-2 call (no switch) and after a level-1 call (a switch), interleaved.
func timeSwitching(_ engine: Engine, rounds: Int, threads: Int) throws {
    let units = 0..<engine.model.unitCount
    var buffers = Buffers(engine: engine, batch: 8, units: units)
    var same: [Double] = []
    var switched: [Double] = []
    for _ in 0..<rounds {
        try buffers.run(engine, batch: 8, units: units, level: 2)
        same.append(try milliseconds { try buffers.run(engine, batch: 8, units: units, level: 2) })
        try buffers.run(engine, batch: 8, units: units, level: 1)
        switched.append(try milliseconds { try buffers.run(engine, batch: 8, units: units, level: 2) })
    }
    print(
        #"{"switch": true, "threads": \#(threads), "sameLevelMs": \#(median(same)), "afterSwitchMs": \#(median(switched))}"#
    )
}

func timeLayers(_ engine: Engine, rounds: Int, threads: Int) throws {
    for unit in 0..<engine.model.unitCount {
        for level in [0, 2] {
            var buffers = Buffers(engine: engine, batch: 8, units: unit..<(unit + 1))
            try buffers.run(engine, batch: 8, units: unit..<(unit + 1), level: level)
            let samples = try (0..<rounds).map { _ in
                try milliseconds { try buffers.run(engine, batch: 8, units: unit..<(unit + 1), level: level) }
            }
            print(#"{"unit": \#(unit), "level": \#(level), "threads": \#(threads), "ms": \#(median(samples))}"#)
        }
    }
}

// The kernel trapline itself would run (it may re-execute this program), named on stderr for the record.
let kernel = BLASKernel.selectBeforeStart()
fputs("OpenBLAS kernel \(kernel)\n", stderr)
let arguments = CommandLine.arguments
guard arguments.count >= 5, let rounds = Int(arguments[2]), let threads = Int(arguments[3]) else {
    print("usage: inference-bench MODEL ROUNDS THREADS (BATCH... | --switch | --layers)")
    exit(64)
}
let engine = Engine(model: try Model.load(path: arguments[1]), threads: threads)
switch arguments[4] {
case "--switch": try timeSwitching(engine, rounds: rounds, threads: threads)
case "--layers": try timeLayers(engine, rounds: rounds, threads: threads)
default:
    try timeLevels(engine, rounds: rounds, threads: threads, batches: arguments.dropFirst(4).compactMap { Int($0) })
}

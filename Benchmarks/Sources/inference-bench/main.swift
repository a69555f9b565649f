// Times the engine on the bundled model for a benchmark driver that sets it beside onnxruntime.
//   inference-bench MODEL ROUNDS THREADS BATCH...      one JSON line per (batch, level): median ms per batch
//   inference-bench MODEL ROUNDS THREADS --switch      the cost of switching level between calls
//   inference-bench MODEL ROUNDS THREADS --layers      per-unit times at batch 8, level 0 (where the time goes)
//   inference-bench MODEL ROUNDS THREADS --gemm-floor BATCH...   the network's GEMMs alone, per batch
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

/// The GEMMs of the network alone (every 1x1 convolution, the stem's im2col product and the classifier, with the
/// engine's shapes at level 0 and the same call), timed per batch: the floor under the engine's time if
/// everything else (depthwise convolutions, im2col, epilogues, pooling) were free.
func timeGEMMFloor(_ engine: Engine, rounds: Int, threads: Int, batches: [Int]) {
    let m = engine.model.metadata
    let shapes = (0...m.units.count).map { engine.shape(atBoundary: $0) }
    for batch in batches {
        var products: [(m: Int, n: Int, k: Int)] = []
        for (index, unit) in m.units.enumerated() {
            let (input, output, kept) = (shapes[index], shapes[index + 1], m.keptChannels[index][0])
            let inPixels = batch * input.height * input.width
            let outPixels = batch * output.height * output.width
            switch unit.kind {
            case .stem:
                products.append((outPixels, kept, unit.inChannels * (unit.kernel ?? 3) * (unit.kernel ?? 3)))
            case .mbconv:
                if unit.expand == true { products.append((inPixels, kept, unit.inChannels)) }
                products.append((outPixels, unit.outChannels ?? 0, kept))
            case .head:
                products += [(inPixels, kept, unit.inChannels), (batch, unit.classes ?? 0, kept)]
            }
        }
        let largest = products.map { max($0.m * $0.k, $0.n * $0.k, $0.m * $0.n) }.max() ?? 0
        let a = [Float](repeating: 0.5, count: largest)
        let b = [Float](repeating: 0.25, count: largest)
        var c = [Float](repeating: 0, count: largest)
        let samples = (0...rounds).map { _ in
            milliseconds {
                c.withUnsafeMutableBufferPointer { out in
                    for p in products {
                        BLAS.multiplyTransposed(a, b, into: out.baseAddress!, m: p.m, n: p.n, k: p.k)
                    }
                }
            }
        }.dropFirst()
        print(
            #"{"runtime": "gemm-floor", "threads": \#(threads), "batch": \#(batch), "level": 0.0, "ms": \#(median(Array(samples)))}"#
        )
    }
}

// The kernel trapline itself would run (it may re-execute this program), named for the record (the reports read
// only the JSON lines).
print("OpenBLAS kernel \(BLASKernel.selectBeforeStart())")
let arguments = CommandLine.arguments
guard arguments.count >= 5, let rounds = Int(arguments[2]), let threads = Int(arguments[3]) else {
    print("usage: inference-bench MODEL ROUNDS THREADS (BATCH... | --switch | --layers | --gemm-floor BATCH...)")
    exit(64)
}
let engine = Engine(model: try Model.load(path: arguments[1]), threads: threads)
switch arguments[4] {
case "--switch": try timeSwitching(engine, rounds: rounds, threads: threads)
case "--layers": try timeLayers(engine, rounds: rounds, threads: threads)
case "--gemm-floor":
    timeGEMMFloor(
        engine, rounds: rounds, threads: threads, batches: arguments.dropFirst(5).compactMap { Int($0) })
default:
    try timeLevels(engine, rounds: rounds, threads: threads, batches: arguments.dropFirst(4).compactMap { Int($0) })
}

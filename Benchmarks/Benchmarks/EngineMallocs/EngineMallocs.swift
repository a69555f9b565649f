// Malloc counts of a warm engine: after the first call has sized the workspace, a call makes no allocation per
// image. Run with `swift package benchmark --target EngineMallocs` (CI-friendly: counts, not timings, are gated).
import Benchmark
import Inference

/// The engine and its buffers, built once outside the measured region.
final class EngineFixture: @unchecked Sendable {
    let engine: Engine
    var input: [Float]
    var output: [Float]
    let batch: Int
    let levelVectors: [[Int]]

    init(batch: Int) {
        let path = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
        let model: Model
        do {
            model = try Model.load(path: "/\(path)/../Models/efficientnet-lite0.safetensors")
        } catch {
            fatalError("benchmark needs the bundled model: \(error)")
        }
        engine = Engine(model: model, threads: 1)
        self.batch = batch
        input = [Float](repeating: 0.1, count: batch * engine.shape(atBoundary: 0).count)
        output = [Float](repeating: 0, count: batch * 1000)
        // Built here so that the measured calls allocate nothing of the benchmark's own.
        // Every width level for the whole network, then every slice option of a format 2 model on each slice of
        // the 4-node plan (the other slices at full width).
        var vectors = (0..<model.levelCount).map { Array(repeating: $0, count: model.unitCount) }
        if let plan = model.metadata.slicePlan(nodes: 4) {
            for option in model.levelCount..<model.metadata.optionCount {
                for slice in 0..<(plan.count - 1) {
                    let options = (0..<(plan.count - 1)).map { $0 == slice ? option : 0 }
                    vectors.append(model.metadata.unitLevels(plan: plan, options: options))
                }
            }
        }
        levelVectors = vectors
        run(level: 0)  // warm: sizes the workspace
    }

    func run(level: Int) {
        let units = engine.model.unitCount
        let levels = levelVectors[level]
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                do {
                    try engine.run(source, batch: batch, units: 0..<units, levels: levels, into: target)
                } catch {
                    fatalError("engine refused a valid call: \(error)")
                }
            }
        }
    }
}

nonisolated(unsafe) let benchmarks = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .wallClock],
        maxDuration: .seconds(20),
        maxIterations: 10,
        thresholds: [.mallocCountTotal: .init(absolute: [.p100: 0])]
    )
    for batch in [1, 8] {
        let fixture = EngineFixture(batch: batch)
        Benchmark("warm-engine-batch\(batch)-all-levels-and-options") { benchmark in
            for vector in fixture.levelVectors.indices { fixture.run(level: vector) }
        }
    }
}

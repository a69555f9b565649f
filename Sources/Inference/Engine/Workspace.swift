/// Preallocated buffers reused by every call: two ping-pong activation buffers and two scratch buffers for a
/// block's expanded tensors (or the stem's im2col columns, or the head's features). They grow when a larger
/// batch arrives and are never freed before the engine is, so a warm engine allocates nothing per image.
final class Workspace {
    /// Scratch values per unit pass: images are processed in chunks so that an expanded tensor stays within
    /// this budget (1 MiB of floats: cache-sized, measured best of 2^16...2^22 on batch 8) while each SGEMM still
    /// has hundreds of rows or more.
    static let chunkBudget = 1 << 18

    private(set) var batchCapacity = 0
    private(set) var ping = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private(set) var pong = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private(set) var scratchA = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private(set) var scratchB = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)

    deinit {
        for buffer in [ping, pong, scratchA, scratchB] { buffer.deallocate() }
    }

    /// Makes the buffers large enough for `batch` images of `model`.
    func ensure(batch: Int, model: Model) {
        guard batch > batchCapacity else { return }
        let shapes = model.metadata.boundaryShapes
        let activation = shapes.dropFirst().dropLast().map(\.count).max() ?? 0
        var needA = 0
        var needB = 0
        for index in model.metadata.units.indices {
            let perImage = Self.scratchPerImage(model, index, shapes)
            let chunk = Self.chunk(batch: batch, perImage: max(perImage.a, perImage.b))
            needA = max(needA, chunk * perImage.a)
            needB = max(needB, chunk * perImage.b)
        }
        replace(&ping, count: batch * activation)
        replace(&pong, count: batch * activation)
        replace(&scratchA, count: needA)
        replace(&scratchB, count: needB)
        batchCapacity = batch
    }

    static func chunk(batch: Int, perImage: Int) -> Int {
        max(1, min(batch, chunkBudget / max(perImage, 1)))
    }

    /// Scratch floats one image needs in a unit: (A, B).
    static func scratchPerImage(_ model: Model, _ index: Int, _ shapes: [ActivationShape]) -> (a: Int, b: Int) {
        let unit = model.metadata.units[index]
        let (input, output) = (shapes[index], shapes[index + 1])
        switch unit.kind {
        case .stem:
            let kernel = unit.kernel ?? 3
            return (output.height * output.width * kernel * kernel * unit.inChannels, 0)
        case .mbconv:
            let expanded = unit.expandedChannels ?? 0
            let a = unit.expand == true ? input.height * input.width * expanded : 0
            return (a, output.height * output.width * expanded)
        case .head:
            let features = unit.features ?? 0
            return (input.height * input.width * features, features)
        }
    }

    private func replace(_ buffer: inout UnsafeMutableBufferPointer<Float>, count: Int) {
        buffer.deallocate()
        buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count, 1))
        buffer.initialize(repeating: 0)
    }
}

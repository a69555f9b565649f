import Imaging
import Inference
import SystemPackage

/// Classifies JPEG files end to end: prepare (decode, orient, crop, resize), normalise into a reused batch
/// buffer, run the whole network at a level, label. A bad image fails alone; the others are still labelled.
public final class ImageClassifier {
    /// The outcome for one image.
    public enum Outcome: Sendable {
        case labeled(ImageLabel, PreparedImage)
        case failed(ImagingError)
    }

    public let engine: Engine
    public let labeler: Labeler
    public let preparer: ImagePreparer
    public let batchSize: Int
    private var batchInput: [Float]
    private var batchLogits: [Float]
    private var batchFeatures: [Float]

    /// Creates a classifier.
    /// - Parameters:
    ///   - engine: The engine (and so the model) to run.
    ///   - labeler: How logits become labels.
    ///   - crop: The crop policy; the model's own when nil.
    ///   - limits: Guard rails for decoding.
    ///   - batchSize: Images per engine call.
    ///   - thumbnailWidth: When set, each prepared image also carries a thumbnail this wide.
    public init(
        engine: Engine, labeler: Labeler, crop: CropPolicy? = nil, limits: DecodeLimits = DecodeLimits(),
        batchSize: Int = 8, thumbnailWidth: Int? = nil
    ) {
        let spec = ModelInputSpec(metadata: engine.model.metadata, crop: crop)
        self.engine = engine
        self.labeler = labeler
        var preparer = ImagePreparer(spec: spec, limits: limits)
        preparer.thumbnailWidth = thumbnailWidth
        self.preparer = preparer
        self.batchSize = max(1, min(batchSize, Engine.maxBatch))
        self.batchInput = [Float](repeating: 0, count: self.batchSize * engine.shape(atBoundary: 0).count)
        self.batchLogits = [Float](
            repeating: 0, count: self.batchSize * engine.shape(atBoundary: engine.model.unitCount).count)
        self.batchFeatures = [Float](repeating: 0, count: self.batchSize * engine.featureCount)
    }

    /// Classifies files, in order.
    /// - Parameters:
    ///   - paths: JPEG files.
    ///   - level: The level index for every unit.
    /// - Returns: One outcome per path, in the same order.
    /// - Throws: `InferenceError` only for an invalid level.
    public func classify(_ paths: [String], level: Int) throws -> [Outcome] {
        try classify(paths, unitLevels: Array(repeating: level, count: engine.model.unitCount))
    }

    /// Classifies files, in order, each unit at its own level (a width level index, or the skip level for a
    /// skippable block: `ModelMetadata.unitLevels` turns per-slice options into these).
    /// - Parameters:
    ///   - paths: JPEG files.
    ///   - unitLevels: One level index per unit of the network.
    /// - Returns: One outcome per path, in the same order.
    /// - Throws: `InferenceError` only for invalid levels.
    public func classify(_ paths: [String], unitLevels: [Int]) throws -> [Outcome] {
        var outcomes: [Outcome?] = Array(repeating: nil, count: paths.count)
        var pending: [(index: Int, image: PreparedImage)] = []
        for (index, path) in paths.enumerated() {
            do {
                pending.append((index, try preparer.prepare(file: FilePath(path))))
            } catch let error as ImagingError {
                outcomes[index] = .failed(error)
            } catch {
                outcomes[index] = .failed(ImagingError(.readFailed, "\(error)", path: path))
            }
            if pending.count == batchSize {
                try run(pending, unitLevels: unitLevels, into: &outcomes)
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { try run(pending, unitLevels: unitLevels, into: &outcomes) }
        return outcomes.map { $0! }
    }

    /// Runs the network over model-sized images (whole frames and crops alike), `batchSize` at a time.
    /// - Parameters:
    ///   - images: Images at the model's input size.
    ///   - unitLevels: One level index per unit.
    /// - Returns: One row of logits per image, in order.
    /// - Throws: `ImagingError` for an image of the wrong size, `InferenceError` for invalid levels.
    public func logits(for images: [RGBImage], unitLevels: [Int]) throws -> [[Float]] {
        try outputs(for: images, unitLevels: unitLevels, features: false).logits
    }

    /// Runs the network over model-sized images, `batchSize` at a time, keeping each image's pooled features too.
    /// - Parameters:
    ///   - images: Images at the model's input size.
    ///   - unitLevels: One level index per unit.
    ///   - features: Whether to keep the pooled features (else `features` is empty).
    /// - Returns: One row of logits and one of features per image, in order.
    /// - Throws: `ImagingError` for an image of the wrong size, `InferenceError` for invalid levels.
    public func outputs(for images: [RGBImage], unitLevels: [Int], features: Bool) throws
        -> (logits: [[Float]], features: [[Float]])
    {
        let perImage = engine.shape(atBoundary: 0).count
        let units = engine.model.unitCount
        let classes = engine.shape(atBoundary: units).count
        let width = engine.featureCount
        let spec = preparer.spec
        var rows: [[Float]] = []
        var featureRows: [[Float]] = []
        rows.reserveCapacity(images.count)
        for start in stride(from: 0, to: images.count, by: batchSize) {
            let chunk = images[start..<min(images.count, start + batchSize)]
            try batchInput.withUnsafeMutableBufferPointer { input in
                for (slot, image) in chunk.enumerated() {
                    let region = UnsafeMutableBufferPointer(
                        rebasing: input[(slot * perImage)..<((slot + 1) * perImage)])
                    try image.normalize(into: region, mean: spec.mean, scale: spec.scale)
                }
            }
            try batchInput.withUnsafeBufferPointer { input in
                try batchLogits.withUnsafeMutableBufferPointer { logits in
                    try batchFeatures.withUnsafeMutableBufferPointer { pooled in
                        try engine.run(
                            input, batch: chunk.count, units: 0..<units, levels: unitLevels, into: logits,
                            features: features ? pooled : nil)
                    }
                }
            }
            for slot in 0..<chunk.count {
                rows.append(Array(batchLogits[(slot * classes)..<((slot + 1) * classes)]))
                if features { featureRows.append(Array(batchFeatures[(slot * width)..<((slot + 1) * width)])) }
            }
        }
        return (rows, featureRows)
    }

    private func run(
        _ batch: [(index: Int, image: PreparedImage)], unitLevels: [Int], into outcomes: inout [Outcome?]
    ) throws {
        let site = labeler.siteHead != nil
        let (rows, features) = try outputs(for: batch.map(\.image.image), unitLevels: unitLevels, features: site)
        for (position, (item, row)) in zip(batch, rows).enumerated() {
            let probabilities = Labeler.softmax(row[...])
            let label = labeler.label(probabilities: probabilities)
            outcomes[item.index] = .labeled(
                site
                    ? labeler.withSiteHead(
                        label, probabilities: probabilities, features: features[position][...], level: unitLevels.last)
                    : label,
                item.image)
        }
    }
}

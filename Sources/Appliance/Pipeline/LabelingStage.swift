import Catalog
import Dispatch
import FoundationEssentials
import Imaging
import Inference
import Ingest
import StatusPage

/// Labels formed batches with the whole network on this node, off the cooperative thread pool: decoding and
/// inference run on a dedicated serial queue, so the watcher and the service group stay responsive.
public final class LabelingStage: BatchLabeling, @unchecked Sendable {
    /// One batch at a time: the engine is this node's only compute.
    public let maxInFlight = 1
    public let modelID: String
    public let modelName: String
    public let levelIndex: Int
    public let levelFraction: Double
    private let classifier: ImageClassifier
    private let thumbnails: ThumbnailStore?
    private let queue = DispatchQueue(label: "trapline.labeling")

    /// Creates the stage.
    /// - Parameters:
    ///   - model: The loaded model.
    ///   - modelID: The model file's SHA-256.
    ///   - config: Threads, level, crop, labels and limits.
    ///   - thumbnails: Where the status page's thumbnails go, if it has any.
    /// - Throws: `ConfigError` when the configured level is not one of the model's.
    public init(model: Model, modelID: String, config: ApplianceConfig, thumbnails: ThumbnailStore? = nil) throws {
        guard let index = model.metadata.pruneLevels.firstIndex(where: { abs($0 - config.level) < 1e-9 }) else {
            let levels = model.metadata.pruneLevels.map { "\($0)" }.joined(separator: ", ")
            throw ConfigError(key: "model.level", "\(config.level) is not one of the model's levels: \(levels)")
        }
        self.modelID = modelID
        self.modelName = model.metadata.name
        self.levelIndex = index
        self.levelFraction = model.metadata.pruneLevels[index]
        self.thumbnails = thumbnails
        classifier = ImageClassifier(
            engine: Engine(model: model, threads: config.threads),
            labeler: try Labeler(config: config, metadata: model.metadata),
            crop: config.crop.flatMap(CropPolicy.init(rawValue:)),
            limits: DecodeLimits(maxPixels: config.maxPixels),
            batchSize: config.batchMaxSize,
            thumbnailWidth: thumbnails == nil ? nil : ThumbnailStore.width
        )
    }

    /// Labels a batch.
    /// - Parameter batch: The batch.
    /// - Returns: The result, ready for the catalog.
    public func label(_ batch: FormedBatch) async throws -> BatchResult {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                continuation.resume(with: Result { try labelNow(batch) })
            }
        }
    }

    func labelNow(_ batch: FormedBatch) throws -> BatchResult {
        let start = Date().timeIntervalSince1970
        let outcomes = try classifier.classify(batch.items.map(\.filePath), level: levelIndex)
        var labels: [LabelRecord] = []
        var failures: [FailureRecord] = []
        for (item, outcome) in zip(batch.items, outcomes) {
            switch outcome {
            case .labeled(let label, let prepared):
                labels.append(Self.record(item.mediaID, label))
                thumbnails?.keep(item.mediaID, prepared.thumbnail)
            case .failed(let error):
                failures.append(
                    FailureRecord(mediaID: item.mediaID, code: error.code.description, message: error.message))
            }
        }
        let end = Date().timeIntervalSince1970
        return BatchResult(
            firstArrival: batch.firstArrival, deadline: batch.deadline, completed: end,
            levels: [SliceLevel(fraction: levelFraction)],
            nodeTimings: ["local": end - start], modelID: modelID, modelName: modelName, labels: labels,
            failures: failures
        )
    }

    static func record(_ mediaID: String, _ label: ImageLabel) -> LabelRecord {
        let top = label.top.first
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(label.top)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        let written = label.written
        return LabelRecord(
            mediaID: mediaID, observationType: label.observationType.rawValue, scientificName: written.scientificName,
            taxonRank: written.taxonRank, vernacularName: written.vernacularName, classIndex: top?.index ?? -1,
            probability: Double(written.probability), animalProbability: Double(label.animalProbability),
            topClassesJSON: json
        )
    }
}

extension Labeler {
    /// The labeller the configuration asks for.
    /// - Throws: `ConfigError` (`labels.taxa`) naming a taxon the model's taxonomy lacks.
    init(config: ApplianceConfig, metadata: ModelMetadata) throws {
        do {
            try self.init(
                metadata: metadata, topK: config.topK, blankThreshold: Float(config.blankThreshold),
                rollupThreshold: Float(config.rollupThreshold), taxa: config.taxa)
        } catch let error as InferenceError {
            throw ConfigError(key: "labels.taxa", error.message)
        }
    }
}

extension ThumbnailStore {
    /// Stores a thumbnail if there is one; a thumbnail that cannot be written costs nothing but itself.
    func keep(_ mediaID: String, _ image: RGBImage?) {
        guard let image else { return }
        try? store(mediaID: mediaID, image: image)
    }
}

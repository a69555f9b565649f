import Catalog
import Dispatch
import FoundationEssentials
import Imaging
import Inference
import Ingest
import Labels
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
    private let planner: BurstPlanner
    private let combiner: BurstCombiner
    private let unitLevels: [Int]
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
        let labeler = try Labeler(config: config, metadata: model.metadata, modelID: modelID)
        classifier = ImageClassifier(
            engine: Engine(model: model, threads: config.threads),
            labeler: labeler,
            crop: config.crop.flatMap(CropPolicy.init(rawValue:)),
            limits: DecodeLimits(maxPixels: config.maxPixels),
            batchSize: config.batchMaxSize,
            thumbnailWidth: thumbnails == nil ? nil : ThumbnailStore.width
        )
        var preparer = classifier.preparer
        preparer.maxFileBytes = config.maxFileBytes
        planner = BurstPlanner(preparer: preparer, settings: config.burstSettings)
        combiner = BurstCombiner(labeler: labeler, settings: config.burstSettings)
        unitLevels = Array(repeating: index, count: model.unitCount)
    }

    public var eventLabeler: EventLabeler? { combiner.eventLabeler }

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
        let planned = planner.plan(batch.items.map(BurstFrame.init))
        let site = combiner.labeler.siteHead != nil
        let outputs = try classifier.outputs(for: planned.inputs, unitLevels: unitLevels, features: site)
        let results = combiner.combine(
            planned, logits: outputs.logits.map { $0[...] }, features: site ? outputs.features.map { $0[...] } : nil,
            headLevel: unitLevels.last)
        var clock = StepClock()
        let (labels, failures) = Self.records(batch, planned, results, labeler: combiner.labeler)
        var timings = planned.timings.nodeTimings.merging(batch.headSeconds) { $0 + $1 }
        clock.lap("head.label", into: &timings)
        for (item, plan) in zip(batch.items, planned.frames) {
            thumbnails?.keep(item.mediaID, plan.thumbnail)
        }
        let end = Date().timeIntervalSince1970
        timings["local"] = end - start
        return BatchResult(
            firstArrival: batch.firstArrival, deadline: batch.deadline, completed: end,
            levels: [SliceLevel(fraction: levelFraction)],
            nodeTimings: timings, modelID: modelID, modelName: modelName, labels: labels,
            failures: failures
        )
    }

    /// A batch's catalog records from its frames' labels.
    static func records(
        _ batch: FormedBatch, _ planned: BurstBatch, _ results: [Result<FrameLabel, ImagingError>],
        labeler: Labeler? = nil
    ) -> (labels: [LabelRecord], failures: [FailureRecord]) {
        var labels: [LabelRecord] = []
        var failures: [FailureRecord] = []
        for (item, result) in zip(batch.items, results) {
            switch result {
            case .success(let frame):
                var label = record(item.mediaID, frame)
                label.classifiedBy = labeler?.classifiedBy(frame.combined)
                label.contextFrames = max(1, item.burst.count)
                label.relabel = item.relabel
                labels.append(label)
            case .failure(let error):
                var failure = FailureRecord(mediaID: item.mediaID, code: error.code.description, message: error.message)
                // A frame labelled once keeps that label when it cannot be read again (the file was moved).
                if item.relabel { failure.relabelContext = max(1, item.burst.count) }
                failures.append(failure)
            }
        }
        return (labels, failures)
    }

    /// A frame's catalog record: its written label, the box whose crop named it, every moving region.
    static func record(_ mediaID: String, _ frame: FrameLabel) -> LabelRecord {
        var record = record(mediaID, frame.combined)
        let boxes = frame.boxes.map(BoxRecord.init)
        record.boxes = boxes
        record.box = frame.labelBox.map { boxes[$0] }
        record.burstFrames = frame.burstFrames
        record.classScores = classScoresJSON(BurstCombiner.topScores(frame.probabilities))
        return record
    }

    static func classScoresJSON(_ scores: [(index: Int, p: Float)]) -> String {
        "[" + scores.map { "[\($0.index),\($0.p)]" }.joined(separator: ",") + "]"
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
    /// The labeller the configuration asks for, with its site head.
    /// - Parameters:
    ///   - config: The labels' settings.
    ///   - metadata: The model's metadata.
    ///   - modelID: The model file's SHA-256, which a site head must have been learned with.
    /// - Throws: `ConfigError` (`labels.taxa`) naming a taxon the model's taxonomy lacks; (`labels.siteHead`) for a
    ///   site head that cannot be read or was learned with another model.
    init(config: ApplianceConfig, metadata: ModelMetadata, modelID: String) throws {
        do {
            try self.init(
                metadata: metadata, topK: config.topK, blankThreshold: Float(config.blankThreshold),
                rollupThreshold: Float(config.rollupThreshold), taxa: config.taxa)
        } catch let error as InferenceError {
            throw ConfigError(key: "labels.taxa", error.message)
        }
        if let path = config.siteHeadPath {
            do {
                let head = try SiteHead.load(path: path)
                try head.check(modelID: modelID, featureCount: metadata.units.last?.features ?? 0)
                siteHead = head
            } catch let error as InferenceError {
                throw ConfigError(key: "labels.siteHead", error.message)
            }
        }
    }

    /// What the catalog records as `classifiedBy` for a label: the model, and the site head when it wrote it.
    func classifiedBy(_ label: ImageLabel) -> String? {
        guard label.bySiteHead, let siteHead else { return nil }
        return "\(metadata.name) + site head \(siteHead.name)"
    }
}

extension ThumbnailStore {
    /// Stores a thumbnail if there is one; a thumbnail that cannot be written costs nothing but itself.
    func keep(_ mediaID: String, _ image: RGBImage?) {
        guard let image else { return }
        try? store(mediaID: mediaID, image: image)
    }
}

extension BurstFrame {
    /// A pending media's frame, with the burst its batch looked up.
    init(_ item: PendingMedia) {
        self.init(id: item.mediaID, path: item.filePath, burst: item.burst)
    }
}

extension BoxRecord {
    /// A moving region as the catalog records it.
    public init(_ motion: MotionBox) {
        self.init(
            x: motion.box.x, y: motion.box.y, width: motion.box.width, height: motion.box.height, score: motion.score)
    }
}

extension FormedBatch {
    /// The head's work on the batch's files before it formed (reading, hashing, registering), summed by step.
    var headSeconds: [String: Double] {
        items.reduce(into: [:]) { sums, item in sums.merge(item.headSeconds) { $0 + $1 } }
    }
}

extension BurstTimings {
    /// The batch's preparation costs as `BatchResult.nodeTimings` entries (seconds; `burst.crops` a count).
    var nodeTimings: [String: Double] {
        [
            "jpeg.decode": wholeDecodeMs / 1000, "burst.grayDecode": grayDecodeMs / 1000,
            "burst.localise": localiseMs / 1000, "burst.cropDecode": cropDecodeMs / 1000,
            "burst.crops": Double(crops),
        ]
    }
}

extension BurstCombiner {
    /// The catalog's event labeller: an event's label from its frames' kept class scores.
    var eventLabeler: EventLabeler {
        { [self] frames in
            let classes = labeler.metadata.classes.names.count
            let shown = frames.filter { $0.observationType != "blank" }
            let kept = shown.map { Self.parseScores($0.classScores) }.filter { !$0.isEmpty }
            // Frames labelled before the catalog kept class scores cannot be averaged: no event label then.
            guard kept.count == shown.count else { return nil }
            let vectors = kept.map { BurstCombiner.dense($0, classes: classes) }
            let votes = frames.map {
                EventVote(
                    type: ObservationType(rawValue: $0.observationType) ?? .blank, scientificName: $0.scientificName)
            }
            return eventLabel(probabilities: vectors, frames: frames.count, votes: votes).map {
                var record = LabelingStage.record("", $0)
                // With a site head, the frames' votes may carry its names: the event says both wrote it.
                record.classifiedBy = labeler.siteHead.map { "\(labeler.metadata.name) + site head \($0.name)" }
                return record
            }
        }
    }

    /// Reads `LabelRecord.classScores` (`[[index, p], ...]`); entries it cannot read are skipped.
    static func parseScores(_ text: String) -> [(index: Int, p: Float)] {
        guard let data = text.data(using: .utf8),
            let pairs = try? JSONDecoder().decode([[Double]].self, from: data)
        else { return [] }
        return pairs.compactMap { pair in
            pair.count == 2 && pair[0] >= 0 && pair[0] < 1e7 ? (Int(pair[0]), Float(pair[1])) : nil
        }
    }
}

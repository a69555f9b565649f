import Catalog
import Dispatch
import FoundationEssentials
import Imaging
import Inference
import Ingest
import Labels
import Ring
import StatusPage
import SystemPackage

/// Labels batches on the ring: the head decodes and normalises the images, the ring computes the network
/// slice by slice across the nodes, and the head turns the returned logits into labels.
public final class RingLabelingStage: BatchLabeling, @unchecked Sendable {
    public let head: RingHead
    public let maxInFlight: Int
    let modelID: String
    let modelName: String
    let metadata: ModelMetadata
    let preparer: ImagePreparer
    let labeler: Labeler
    let planner: BurstPlanner
    let combiner: BurstCombiner
    /// The most images one trip round the ring carries (the nodes' batch limit).
    let chunkSize: Int
    let imageWidth: Int
    /// The adaptive controller, under that policy.
    public let control: PruningControl?
    let thumbnails: ThumbnailStore?
    private let queue = DispatchQueue(label: "trapline.decode")

    /// Creates the stage.
    /// - Parameters:
    ///   - head: The ring's head.
    ///   - model: The model.
    ///   - modelID: The model file's SHA-256.
    ///   - config: Labels, crop, limits and the in-flight limit.
    ///   - control: The adaptive controller, if the policy is adaptive.
    /// - Throws: `ConfigError` for a `labels.taxa` entry the model's taxonomy lacks.
    public init(
        head: RingHead, model: Model, modelID: String, config: ApplianceConfig, control: PruningControl?,
        thumbnails: ThumbnailStore? = nil
    ) throws {
        self.head = head
        self.control = control
        maxInFlight = config.ringMaxInFlight
        self.modelID = modelID
        modelName = model.metadata.name
        metadata = model.metadata
        let spec = ModelInputSpec(metadata: model.metadata, crop: config.crop.flatMap(CropPolicy.init(rawValue:)))
        var preparer = ImagePreparer(spec: spec, limits: DecodeLimits(maxPixels: config.maxPixels))
        preparer.thumbnailWidth = thumbnails == nil ? nil : ThumbnailStore.width
        self.preparer = preparer
        self.thumbnails = thumbnails
        labeler = try Labeler(config: config, metadata: model.metadata, modelID: modelID)
        var burstPreparer = preparer
        burstPreparer.maxFileBytes = config.maxFileBytes
        planner = BurstPlanner(preparer: burstPreparer, settings: config.burstSettings)
        combiner = BurstCombiner(labeler: labeler, settings: config.burstSettings)
        chunkSize = max(1, config.batchMaxSize)
        imageWidth = spec.width * spec.height * model.metadata.input.channels
    }

    public var eventLabeler: EventLabeler? { combiner.eventLabeler }

    public func label(_ batch: FormedBatch) async throws -> BatchResult {
        let start = Date().timeIntervalSince1970
        let (planned, began) = await prepare(batch)
        let decoded = Date().timeIntervalSince1970
        var timings = planned.timings.nodeTimings.merging(batch.headSeconds) { $0 + $1 }
        timings["head.prepareWait"] = began - start
        guard !planned.slots.isEmpty else {
            let (_, failures) = LabelingStage.records(batch, planned, combiner.combine(planned, logits: []))
            return BatchResult(
                firstArrival: batch.firstArrival, deadline: batch.deadline, completed: decoded, levels: [],
                nodeTimings: timings, modelID: modelID, modelName: modelName, labels: [], failures: failures)
        }
        // Whole frames and crops go round the ring in batches no larger than the nodes take; the controller
        // sees every one of them, crops included.
        var logits: [ArraySlice<Float>] = []
        let site = labeler.siteHead != nil
        var features: [ArraySlice<Float>]? = site ? [] : nil
        var first: RingResult?
        var attempts = 0
        var hopTimings: [String: Double] = [:]
        var decodeMs = (decoded - start) * 1000
        var clock = StepClock()
        for chunk in stride(from: 0, to: planned.slots.count, by: chunkSize) {
            let count = min(chunkSize, planned.slots.count - chunk)
            let input = try normalise(planned.inputs[chunk..<(chunk + count)])
            clock.lap("head.normalise", into: &timings)
            let result = try await head.infer(input, batch: count, deadline: batch.deadline, features: site)
            clock.lap("head.ring", into: &timings)
            await control?.observe(result, batchSize: count, decodeMs: decodeMs)
            clock.lap("head.control", into: &timings)
            decodeMs = 0
            for slot in 0..<count {
                logits.append(result.logits[(slot * result.classes)..<((slot + 1) * result.classes)])
            }
            if site {
                // A chunk without features (a node of an older trapline) is labelled by the model alone.
                let width = result.featureCount
                for slot in 0..<count {
                    features?.append(width > 0 ? result.features[(slot * width)..<((slot + 1) * width)] : [])
                }
            }
            first = first ?? result
            attempts += result.attempts
            for hop in result.hops {
                if hop.node == head.node.config.node {
                    // The head's own hop, part of `head.ring`: its units and its activations' coding.
                    timings["head.slice", default: 0] += hop.sliceMs.reduce(0, +) / 1000
                    timings["head.codec", default: 0] += (hop.decodeMs + hop.encodeMs) / 1000
                }
                hopTimings["\(hop.node).compute", default: 0] += hop.sliceMs.reduce(0, +) / 1000
                hopTimings["\(hop.node).queue", default: 0] += hop.queueMs / 1000
                hopTimings["\(hop.node).link", default: 0] += hop.linkMs / 1000
                hopTimings["\(hop.node).decode", default: 0] += hop.decodeMs / 1000
                hopTimings["\(hop.node).encode", default: 0] += hop.encodeMs / 1000
            }
        }
        // The head unit's level: the last slice's option, as the unit's level index.
        let units = metadata.units.count
        let headLevel = first?.sliceLevels.last.map { metadata.unitLevels((units - 1)..<units, option: $0)[0] }
        let results = combiner.combine(planned, logits: logits, features: features, headLevel: headLevel)
        let (labels, failures) = LabelingStage.records(batch, planned, results, labeler: labeler)
        clock.lap("head.label", into: &timings)
        timings.merge(hopTimings) { $1 }
        timings["attempts"] = Double(attempts)
        return BatchResult(
            firstArrival: batch.firstArrival, deadline: batch.deadline, completed: Date().timeIntervalSince1970,
            levels: (first?.sliceLevels ?? []).map { metadata.sliceLevel(option: $0) }, nodeTimings: timings,
            modelID: modelID, modelName: modelName, labels: labels, failures: failures)
    }

    /// Plans the batch on the decoding queue: decodes, localises and crops. Returns the plan and when the queue
    /// began it (seconds since 1970; before then the batch waited behind others).
    private func prepare(_ batch: FormedBatch) async -> (BurstBatch, Double) {
        await withCheckedContinuation { continuation in
            queue.async { [self] in
                let began = Date().timeIntervalSince1970
                let planned = planner.plan(batch.items.map(BurstFrame.init))
                for (item, plan) in zip(batch.items, planned.frames) {
                    thumbnails?.keep(item.mediaID, plan.prepared?.thumbnail)
                }
                continuation.resume(returning: (planned, began))
            }
        }
    }

    /// The model's input for some slots, normalised into one batch.
    private func normalise(_ images: ArraySlice<RGBImage>) throws -> [Float] {
        var input = [Float](repeating: 0, count: images.count * imageWidth)
        try input.withUnsafeMutableBufferPointer { buffer in
            for (slot, image) in images.enumerated() {
                let region = UnsafeMutableBufferPointer(
                    rebasing: buffer[(slot * imageWidth)..<((slot + 1) * imageWidth)])
                try image.normalize(into: region, mean: preparer.spec.mean, scale: preparer.spec.scale)
            }
        }
        return input
    }
}

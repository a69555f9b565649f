import Catalog
import Dispatch
import FoundationEssentials
import Imaging
import Inference
import Ingest
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
        labeler = try Labeler(config: config, metadata: model.metadata)
        imageWidth = spec.width * spec.height * model.metadata.input.channels
    }

    public func label(_ batch: FormedBatch) async throws -> BatchResult {
        let start = Date().timeIntervalSince1970
        let prepared = await prepare(batch)
        let decoded = Date().timeIntervalSince1970
        guard !prepared.slots.isEmpty else {
            return BatchResult(
                firstArrival: batch.firstArrival, deadline: batch.deadline, completed: decoded, levels: [],
                nodeTimings: ["jpeg.decode": decoded - start], modelID: modelID, modelName: modelName, labels: [],
                failures: prepared.failures)
        }
        let result = try await head.infer(prepared.input, batch: prepared.slots.count, deadline: batch.deadline)
        await control?.observe(result, batchSize: prepared.slots.count, decodeMs: (decoded - start) * 1000)
        var labels: [LabelRecord] = []
        for (slot, mediaID) in prepared.slots.enumerated() {
            let row = result.logits[(slot * result.classes)..<((slot + 1) * result.classes)]
            labels.append(LabelingStage.record(mediaID, labeler.label(row)))
        }
        var timings: [String: Double] = ["jpeg.decode": decoded - start, "attempts": Double(result.attempts)]
        for hop in result.hops {
            timings["\(hop.node).compute"] = hop.sliceMs.reduce(0, +) / 1000
            timings["\(hop.node).queue"] = hop.queueMs / 1000
            timings["\(hop.node).link"] = hop.linkMs / 1000
            timings["\(hop.node).decode"] = hop.decodeMs / 1000
            timings["\(hop.node).encode"] = hop.encodeMs / 1000
        }
        return BatchResult(
            firstArrival: batch.firstArrival, deadline: batch.deadline, completed: Date().timeIntervalSince1970,
            levels: result.sliceLevels.map { metadata.sliceLevel(option: $0) }, nodeTimings: timings, modelID: modelID,
            modelName: modelName, labels: labels, failures: prepared.failures)
    }

    private struct Prepared: Sendable {
        var input: [Float]
        var slots: [String]
        var failures: [FailureRecord]
    }

    private func prepare(_ batch: FormedBatch) async -> Prepared {
        await withCheckedContinuation { continuation in
            queue.async { [self] in continuation.resume(returning: prepareNow(batch)) }
        }
    }

    private func prepareNow(_ batch: FormedBatch) -> Prepared {
        var images: [(String, PreparedImage)] = []
        var failures: [FailureRecord] = []
        for item in batch.items {
            do {
                let prepared = try preparer.prepare(file: FilePath(item.filePath))
                thumbnails?.keep(item.mediaID, prepared.thumbnail)
                images.append((item.mediaID, prepared))
            } catch let error as ImagingError {
                failures.append(
                    FailureRecord(mediaID: item.mediaID, code: error.code.description, message: error.message))
            } catch {
                failures.append(
                    FailureRecord(
                        mediaID: item.mediaID, code: ImagingError.Code.readFailed.description, message: "\(error)"))
            }
        }
        var input = [Float](repeating: 0, count: images.count * imageWidth)
        var slots: [String] = []
        input.withUnsafeMutableBufferPointer { buffer in
            for (mediaID, image) in images {
                let region = UnsafeMutableBufferPointer(
                    rebasing: buffer[(slots.count * imageWidth)..<((slots.count + 1) * imageWidth)])
                do {
                    try image.image.normalize(into: region, mean: preparer.spec.mean, scale: preparer.spec.scale)
                    slots.append(mediaID)
                } catch {
                    failures.append(
                        FailureRecord(
                            mediaID: mediaID, code: ImagingError.Code.corrupt.description, message: "\(error)"))
                }
            }
        }
        input.removeLast(input.count - slots.count * imageWidth)
        return Prepared(input: input, slots: slots, failures: failures)
    }
}

import Catalog
import Dispatch
import FoundationEssentials
import Imaging
import Inference
import Ingest
import Labels
import Logging
import Ring
import StatusPage
import Synchronization
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
    /// `ring.offload`: auto, always or off.
    let offload: String
    let fingerprint: String
    let resendSeconds: Double
    let logger: Logger
    private let queue = DispatchQueue(label: "trapline.decode")
    private let activity = Mutex(Activity())

    /// What the head is preparing where.
    struct Activity {
        /// Batches queued or being prepared on the head.
        var local = 0
        /// Batches out for preparation, by worker.
        var remote: [String: Int] = [:]
        /// The latest local preparations' start and end (seconds since 1970).
        var intervals: [(Double, Double)] = []
        /// Problems with a worker's preparation already logged (one warning each).
        var warned: Set<String> = []
        /// The head's work outside the ring (seconds) and the slots it was for, over its latest batches.
        var outside: [(seconds: Double, slots: Int)] = []
    }

    /// Batches the head's outside work is averaged over.
    static let outsideWindow = 16

    /// Milliseconds per slot of the head's work outside the ring over its latest batches, this one included.
    private func outsideWork(_ seconds: Double, slots: Int) -> Double {
        activity.withLock { activity in
            activity.outside.append((seconds, slots))
            if activity.outside.count > Self.outsideWindow { activity.outside.removeFirst() }
            let total = activity.outside.reduce(0) { $0 + $1.slots }
            let ms = total > 0 ? activity.outside.reduce(0) { $0 + $1.seconds } * 1000 / Double(total) : 0
            return ms
        }
    }

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
        // The same planner a worker prepares with (`ring.offload`), so that its inputs are these.
        planner = RemotePreparation.planner(model: model, config: config, thumbnails: thumbnails != nil)
        preparer = planner.preparer
        self.thumbnails = thumbnails
        labeler = try Labeler(config: config, metadata: model.metadata, modelID: modelID)
        combiner = BurstCombiner(labeler: labeler, settings: config.burstSettings)
        offload = config.ringOffload
        fingerprint = RemotePreparation.fingerprint(planner)
        resendSeconds = config.ringResendSeconds
        logger = head.node.logger
        chunkSize = max(1, config.batchMaxSize)
        imageWidth = preparer.spec.width * preparer.spec.height * model.metadata.input.channels
    }

    public var eventLabeler: EventLabeler? { combiner.eventLabeler }

    public func label(_ batch: FormedBatch) async throws -> BatchResult {
        let start = Date().timeIntervalSince1970
        let prepared = await prepare(batch)
        let planned = prepared.batch
        for (item, plan) in zip(batch.items, planned.frames) { thumbnails?.keep(item.mediaID, plan.thumbnail) }
        let decoded = Date().timeIntervalSince1970
        var timings = prepared.timings.merging(batch.headSeconds) { $0 + $1 }
        // The head's own work outside the ring, for the controller: per image over its latest batches, since one
        // batch's share swings with whether the head or a worker prepared it (60 ms or 2 ms per image).
        let outside = prepared.headSeconds + batch.headSeconds.values.reduce(0, +)
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
        var overhead = 0.0
        for chunk in stride(from: 0, to: planned.slots.count, by: chunkSize) {
            let count = min(chunkSize, planned.slots.count - chunk)
            let input = try normalise(planned.inputs[chunk..<(chunk + count)])
            clock.lap("head.normalise", into: &timings)
            let result = try await head.infer(input, batch: count, deadline: batch.deadline, features: site)
            clock.lap("head.ring", into: &timings)
            if chunk == 0 {
                overhead = outsideWork(outside + (timings["head.normalise"] ?? 0), slots: planned.slots.count)
            }
            await control?.observe(
                result, batchSize: count, decodeMs: decodeMs, headOverheadMs: overhead,
                headContentionMs: contention(result))
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

    /// A prepared batch, with where it was prepared and what that cost.
    struct Prepared {
        var batch: BurstBatch
        /// `nodeTimings` entries of the preparation.
        var timings: [String: Double]
        /// Seconds of the head's own CPU it took (its decoding, or reading the files it sent).
        var headSeconds: Double
    }

    /// Prepares the batch: on a worker when `ring.offload` says so and one takes it, else here.
    private func prepare(_ batch: FormedBatch) async -> Prepared {
        let frames = batch.items.map(BurstFrame.init)
        if let worker = await chooseWorker() {
            defer { activity.withLock { $0.remote[worker, default: 1] -= 1 } }
            if let prepared = await prepareRemotely(frames, on: worker) { return prepared }
        }
        return await prepareLocally(frames)
    }

    /// The worker to prepare the next batch, reserved for it; nil to prepare it here. Under `auto` a batch goes
    /// out only while the head is still preparing an earlier one (its own preparation is then what limits it), to
    /// the live worker with none of the head's batches to prepare, the least queued and least loaded first.
    private func chooseWorker() async -> String? {
        guard offload != "off" else { return nil }
        let live = await head.liveMembers
        let stats = await head.memberStats
        let members = head.node.config.members
        return activity.withLock { activity -> String? in
            if offload == "auto", activity.local == 0 { return nil }
            let candidates = members.indices.filter { $0 > 0 && $0 < live.count && live[$0] }.filter {
                offload == "always" || activity.remote[members[$0].name, default: 0] == 0
            }
            // The least busy: fewest of the head's batches to prepare, then the shortest queue, then the least
            // compute per batch (a worker that prepares computes its units more slowly, and so is asked less).
            let chosen = candidates.min { a, b in
                let (x, y) = (members[a].name, members[b].name)
                let left = (activity.remote[x, default: 0], Int(stats[x]?.queueLength ?? 0))
                let right = (activity.remote[y, default: 0], Int(stats[y]?.queueLength ?? 0))
                if left != right { return left < right }
                return (stats[x]?.meanServiceMs ?? 0, a) < (stats[y]?.meanServiceMs ?? 0, b)
            }
            guard let chosen else { return nil }
            activity.remote[members[chosen].name, default: 0] += 1
            return members[chosen].name
        }
    }

    /// Sends the frames' files to `worker` and takes back what it prepared; nil (logged once per kind of
    /// problem and worker) when it cannot, and the head prepares the batch itself.
    private func prepareRemotely(_ frames: [BurstFrame], on worker: String) async -> Prepared? {
        var clock = StepClock()
        var timings: [String: Double] = [:]
        do {
            let request = try RemotePreparation.request(
                frames, planner: planner, fingerprint: fingerprint, thumbnails: thumbnails != nil,
                batchID: UInt64(Date().timeIntervalSince1970 * 1000))
            clock.lap("head.offloadRead", into: &timings)
            let bytes = request.files.reduce(0) { $0 + $1.data.count }
            guard bytes + (1 << 20) <= head.node.maxMessageBytes else {
                warnOnce(worker, "too large", "a batch's files are too large to send (\(bytes) bytes); prepared here")
                return nil
            }
            let reply = try await head.prepare(request, on: worker, timeoutSeconds: resendSeconds)
            clock.lap("head.offload", into: &timings)
            let planned = try PreparedBatchWire.decode(
                frames: frames, plan: Array(reply.plan), pixels: Array(reply.pixels))
            timings["\(worker).prepare"] = planned.timings.preparationMs / 1000
            timings["burst.crops"] = Double(planned.timings.crops)
            timings["offloaded"] = 1
            return Prepared(batch: planned, timings: timings, headSeconds: timings["head.offloadRead"] ?? 0)
        } catch {
            warnOnce(worker, "\(type(of: error))", "\(worker) did not prepare a batch (\(error)); prepared here")
            return nil
        }
    }

    private func warnOnce(_ worker: String, _ kind: String, _ message: String) {
        let first = activity.withLock { $0.warned.insert("\(worker) \(kind)").inserted }
        if first { logger.warning("\(message)", metadata: ["peer.name": "\(worker)"]) }
    }

    /// Plans the batch on the decoding queue: decodes, localises and crops.
    private func prepareLocally(_ frames: [BurstFrame]) async -> Prepared {
        let start = Date().timeIntervalSince1970
        activity.withLock { $0.local += 1 }
        let (planned, began, ended) = await withCheckedContinuation { continuation in
            queue.async { [self] in
                let began = Date().timeIntervalSince1970
                let planned = planner.plan(frames)
                continuation.resume(returning: (planned, began, Date().timeIntervalSince1970))
            }
        }
        activity.withLock { activity in
            activity.local -= 1
            activity.intervals.append((began, ended))
            if activity.intervals.count > Self.intervalsKept { activity.intervals.removeFirst() }
        }
        var timings = planned.timings.nodeTimings
        timings["head.prepareWait"] = began - start
        return Prepared(batch: planned, timings: timings, headSeconds: planned.timings.preparationMs / 1000)
    }

    static let intervalsKept = 16

    /// How much of the head's own hop its preparation of other batches took: the hop's time overlapping local
    /// preparations, halved (two threads runnable on the head's CPU share it equally), in milliseconds.
    private func contention(_ result: RingResult) -> Double {
        guard let own = result.hops.first(where: { $0.node == head.node.config.node }) else { return 0 }
        let (start, end) = (own.startedUnixMs / 1000, own.finishedUnixMs / 1000)
        let overlap = activity.withLock { activity in
            activity.intervals.reduce(0.0) { $0 + max(0, min(end, $1.1) - max(start, $1.0)) }
        }
        return overlap * 1000 / 2
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

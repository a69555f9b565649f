import Imaging
import Inference
import SystemPackage

/// A frame to label and the burst it was shot in.
public struct BurstFrame: Sendable, Equatable {
    /// The caller's name for the frame (a media ID, a file name).
    public var id: String
    public var path: String
    /// The burst's frames (file paths) in time order, this one included; only this one for a frame alone.
    public var burst: [String]

    /// Creates a frame.
    public init(id: String, path: String, burst: [String]) {
        self.id = id
        self.path = path
        self.burst = burst.isEmpty ? [path] : burst
    }
}

/// How bursts are localised and how crop and whole-frame labels are combined (docs/localisation.md).
public struct BurstSettings: Sendable, Equatable {
    /// Whether frames are localised at all; when false every frame is labelled whole, as before.
    public var enabled = true
    public var localiser = LocaliserSettings()
    /// At most this many frames of a burst make one background model (a long burst is cut into windows).
    public var maxFrames = 10
    /// Context around a box in its crop, on each side, as a fraction of the box's longer side.
    public var cropMargin = 0.1
    /// The smallest crop, as a fraction of the frame's shorter side (never under the model's input size, when
    /// the frame allows it).
    public var minCropFraction = 0.15
    /// The animal mass a moving region's crop needs for its frame to be an animal.
    public var cropAnimalThreshold: Float = 0.3
    /// The whole-frame animal mass a frame needs when its burst shows nothing moving in it.
    public var stillAnimalThreshold: Float = 0.8

    /// The defaults.
    public init() {}

    /// The window of a burst of `count` frames that the frame at `position` is localised with: consecutive
    /// windows of `maxFrames`, the last one moved back to be full, so that every frame of a window shares one
    /// background model.
    /// - Parameters:
    ///   - position: The frame's index in the burst.
    ///   - count: The burst's length.
    /// - Returns: The indices of the window.
    public func window(position: Int, count: Int) -> Range<Int> {
        let size = max(1, maxFrames)
        let start = min((position / size) * size, max(0, count - size))
        return start..<min(count, start + size)
    }
}

/// What the model has to see for a frame: the whole frame, or the crop around one of its moving regions.
public enum BurstSlot: Sendable, Hashable {
    case whole(frame: Int)
    case crop(frame: Int, box: Int)
    /// The crop at the box of the nearest frame of the burst that had one, for a frame where nothing moved
    /// (an animal that stopped is part of the background, and only its earlier frames show where it is).
    case carried(frame: Int)
}

/// One frame of a batch, before inference.
public struct FramePlan: Sendable {
    public var frame: BurstFrame
    /// Why the frame cannot be labelled (it is recorded as failed).
    public var failure: ImagingError?
    /// The whole frame, prepared (with its thumbnail when the preparer makes them).
    public var prepared: PreparedImage?
    /// The localiser's result for the frame, when its burst could be localised.
    public var motion: FrameMotion?
    /// For a localised frame where nothing moved: the strongest box of the nearest frame of its window that had
    /// one (nil when none had).
    public var carried: MotionBox?
    /// Frames in the background model (0 when the frame was not localised).
    public var burstFrames: Int
    /// Why the frame was labelled whole only, when it was.
    public var wholeOnlyReason: String?
    /// The thumbnail another node made when it prepared the frame (``prepared`` stays there).
    public var receivedThumbnail: RGBImage?

    /// The frame's thumbnail, when the preparer makes them.
    public var thumbnail: RGBImage? { prepared?.thumbnail ?? receivedThumbnail }
}

/// Costs of a batch's preparation, in milliseconds.
public struct BurstTimings: Sendable, Equatable {
    public var wholeDecodeMs = 0.0
    public var grayDecodeMs = 0.0
    public var localiseMs = 0.0
    public var cropDecodeMs = 0.0
    public var crops = 0

    /// Decoding, localising and cropping together: the preparation's whole cost.
    public var preparationMs: Double { wholeDecodeMs + grayDecodeMs + localiseMs + cropDecodeMs }

    /// Adds another batch's costs.
    public mutating func add(_ other: BurstTimings) {
        wholeDecodeMs += other.wholeDecodeMs
        grayDecodeMs += other.grayDecodeMs
        localiseMs += other.localiseMs
        cropDecodeMs += other.cropDecodeMs
        crops += other.crops
    }
}

/// A batch ready for the model: one input per slot (whole frames first, then crops).
public struct BurstBatch: Sendable {
    public var frames: [FramePlan]
    public var slots: [BurstSlot]
    /// One model-sized image per slot.
    public var inputs: [RGBImage]
    public var timings: BurstTimings
}

/// Prepares a batch of frames for the model: decodes each whole frame, builds each burst's background model
/// from small grayscale decodes (kept in a cache, since a burst's frames arrive over several batches), finds
/// the moving regions and decodes a square crop around each from the full-resolution file. Not thread-safe:
/// one planner per labelling queue.
public final class BurstPlanner: @unchecked Sendable {
    /// How whole frames and crops become the model's input (its thumbnail width may change between batches).
    public var preparer: ImagePreparer
    public let settings: BurstSettings
    private let localiser: BurstLocaliser
    private var cache: [String: Result<GrayFrame, ImagingError>] = [:]
    /// The current batch's files, when another node read them (``plan(_:files:)``).
    private var files: [String: Result<[UInt8], ImagingError>]?
    private var cacheOrder: [String] = []
    private static let cacheLimit = 64

    /// Creates a planner.
    /// - Parameters:
    ///   - preparer: How whole frames and crops become the model's input.
    ///   - settings: Localisation and combination settings.
    public init(preparer: ImagePreparer, settings: BurstSettings) {
        self.preparer = preparer
        self.settings = settings
        localiser = BurstLocaliser(settings: settings.localiser)
    }

    /// Prepares frames for the model.
    /// - Parameters:
    ///   - frames: The batch's frames, each with its burst.
    ///   - files: The files' bytes (or why they could not be read) by path, when another node read them; nil
    ///     reads them from disk. A path missing from it reads as not found.
    /// - Returns: The plan: per frame what was found, per slot the model's input.
    public func plan(_ frames: [BurstFrame], files: [String: Result<[UInt8], ImagingError>]? = nil) -> BurstBatch {
        self.files = files
        defer { self.files = nil }
        var timings = BurstTimings()
        var plans: [FramePlan] = []
        var bytesByFrame: [[UInt8]?] = []
        let clock = ContinuousClock()
        for frame in frames {
            var plan = FramePlan(frame: frame, failure: nil, prepared: nil, motion: nil, burstFrames: 0)
            let start = clock.now
            do {
                let bytes = try read(frame.path)
                do {
                    plan.prepared = try preparer.prepare(jpeg: bytes)
                } catch let error as ImagingError {
                    throw error.at(frame.path)
                }
                bytesByFrame.append(bytes)
            } catch let error as ImagingError {
                plan.failure = error
                bytesByFrame.append(nil)
            } catch {
                plan.failure = ImagingError(.readFailed, "\(error)", path: frame.path)
                bytesByFrame.append(nil)
            }
            timings.wholeDecodeMs += Self.ms(clock.now - start)
            plans.append(plan)
        }
        var slots = plans.indices.compactMap { plans[$0].failure == nil ? BurstSlot.whole(frame: $0) : nil }
        var inputs = slots.compactMap { slot -> RGBImage? in
            guard case .whole(let index) = slot else { return nil }
            return plans[index].prepared?.image
        }
        guard settings.enabled else {
            for index in plans.indices where plans[index].failure == nil {
                plans[index].wholeOnlyReason = "localisation is off"
            }
            return BurstBatch(frames: plans, slots: slots, inputs: inputs, timings: timings)
        }
        var read: [String: [UInt8]] = [:]
        for (plan, bytes) in zip(plans, bytesByFrame) { read[plan.frame.path] = bytes }
        var localised: [String: [String: (motion: FrameMotion, carried: MotionBox?)]] = [:]
        for index in plans.indices where plans[index].failure == nil {
            let frame = plans[index].frame
            // One background model per window of a burst: frames of the same window share it.
            let position = frame.burst.firstIndex(of: frame.path) ?? 0
            let window = settings.window(position: position, count: frame.burst.count)
            let key = "\(window.lowerBound)\n" + frame.burst.joined(separator: "\n")
            if localised[key] == nil {
                let (motions, reason) = localise(frame, read: read, timings: &timings)
                localised[key] = motions
                if motions.isEmpty { plans[index].wholeOnlyReason = reason }
            }
            if let found = localised[key]?[frame.path] {
                plans[index].motion = found.motion
                plans[index].carried = found.carried
                plans[index].burstFrames = localised[key]?.count ?? 0
            } else if plans[index].wholeOnlyReason == nil {
                plans[index].wholeOnlyReason =
                    localised[key]?.isEmpty == false
                    ? "its size differs from the rest of its burst" : "too few frames of its burst to localise"
            }
        }
        for index in plans.indices {
            guard let motion = plans[index].motion, let bytes = bytesByFrame[index],
                let geometry = gray(plans[index].frame.path, bytes: bytes, timings: &timings)?.geometry
            else { continue }
            let wanted: [(BurstSlot, MotionBox)] =
                motion.boxes.isEmpty
                ? plans[index].carried.map { [(.carried(frame: index), $0)] } ?? []
                : motion.boxes.enumerated().map { (.crop(frame: index, box: $0.offset), $0.element) }
            for (slot, box) in wanted {
                let start = clock.now
                if let crop = try? crop(box.box, of: bytes, geometry: geometry) {
                    slots.append(slot)
                    inputs.append(crop)
                    timings.crops += 1
                }
                timings.cropDecodeMs += Self.ms(clock.now - start)
            }
        }
        return BurstBatch(frames: plans, slots: slots, inputs: inputs, timings: timings)
    }

    /// The model's input for the square crop around a box.
    private func crop(_ box: RelativeBox, of bytes: [UInt8], geometry: FrameGeometry) throws -> RGBImage {
        let shorter = min(geometry.width, geometry.height)
        let input = min(preparer.spec.width, preparer.spec.height)
        let minSide = min(shorter, max(input, Int(settings.minCropFraction * Double(shorter))))
        let rect = box.squareCrop(
            frameWidth: geometry.width, frameHeight: geometry.height, margin: settings.cropMargin, minSide: minSide)
        return try preparer.prepareCrop(jpeg: bytes, rect: rect, geometry: geometry)
    }

    /// Localises the window of `frame`'s burst: per path its motion and, where nothing moved, the box carried
    /// from the nearest frame that had one; empty (with the reason) when it cannot.
    /// `read` holds the files the batch has already read, so that none is read twice.
    private func localise(_ frame: BurstFrame, read: [String: [UInt8]], timings: inout BurstTimings)
        -> ([String: (motion: FrameMotion, carried: MotionBox?)], String)
    {
        guard let own = frame.burst.firstIndex(of: frame.path) else { return ([:], "it is not in its own burst") }
        let window = settings.window(position: own, count: frame.burst.count)
        let paths = Array(frame.burst[window])
        guard paths.count >= settings.localiser.minFrames else {
            return ([:], paths.count == 1 ? "its burst has one frame" : "its burst has \(paths.count) frames")
        }
        var grays: [(String, GrayFrame)] = []
        for path in paths {
            if let gray = gray(path, bytes: read[path], timings: &timings) { grays.append((path, gray)) }
        }
        // The background model is made of the window's commonest frame size (the earliest on a tie); frames of
        // other sizes are labelled whole.
        let sizes = grays.map { [$0.1.geometry.width, $0.1.geometry.height, $0.1.geometry.orientation.rawValue] }
        let counts = Dictionary(sizes.map { ($0, 1) }, uniquingKeysWith: +)
        let most = counts.values.max() ?? 0
        guard let commonest = sizes.first(where: { counts[$0] == most }) else {
            return ([:], "no frame of its burst can be decoded")
        }
        let same = zip(grays, sizes).filter { $0.1 == commonest }.map(\.0)
        let clock = ContinuousClock()
        let start = clock.now
        let motions = localiser.localise(same.map(\.1))
        timings.localiseMs += Self.ms(clock.now - start)
        guard let motions else {
            return ([:], "only \(same.count) decodable frames of its burst have one size")
        }
        var found: [String: (motion: FrameMotion, carried: MotionBox?)] = [:]
        for (position, (path, motion)) in zip(same.map(\.0), motions).enumerated() {
            var carried: MotionBox?
            if motion.boxes.isEmpty && !motion.globalChange {
                // The nearest frame with a box, the earlier one on a tie.
                let nearest = motions.indices.filter { !motions[$0].boxes.isEmpty }.min {
                    (abs($0 - position), $0) < (abs($1 - position), $1)
                }
                carried = nearest.map { motions[$0].boxes[0] }
            }
            found[path] = (motion, carried)
        }
        return (found, "")
    }

    /// The analysis frame of a file, from the cache or decoded now; nil when it cannot be read or decoded.
    private func gray(_ path: String, bytes: [UInt8]?, timings: inout BurstTimings) -> GrayFrame? {
        if let cached = cache[path] { return try? cached.get() }
        let clock = ContinuousClock()
        let start = clock.now
        let result: Result<GrayFrame, ImagingError>
        do {
            let data = try bytes ?? read(path)
            result = .success(
                try GrayFrame.decode(jpeg: data, decoder: preparer.decoder, width: settings.localiser.gridWidth))
        } catch let error as ImagingError {
            result = .failure(error)
        } catch {
            result = .failure(ImagingError(.readFailed, "\(error)", path: path))
        }
        timings.grayDecodeMs += Self.ms(clock.now - start)
        cache[path] = result
        cacheOrder.append(path)
        if cacheOrder.count > Self.cacheLimit { cache[cacheOrder.removeFirst()] = nil }
        return try? result.get()
    }

    /// A file's bytes: from the batch's files when given, else from disk.
    private func read(_ path: String) throws -> [UInt8] {
        guard let files else { return try ImageFile.read(FilePath(path), maxBytes: preparer.maxFileBytes) }
        guard let result = files[path] else {
            throw ImagingError(.notFound, "the head did not send this file", path: path)
        }
        return try result.get()
    }

    /// Every file a batch's preparation reads: its frames, and the windows of their bursts they are localised
    /// with (each once, in first-use order).
    public func paths(for frames: [BurstFrame]) -> [String] {
        var seen: Set<String> = []
        var out: [String] = []
        for frame in frames {
            var wanted = [frame.path]
            if settings.enabled, let own = frame.burst.firstIndex(of: frame.path) {
                wanted += frame.burst[settings.window(position: own, count: frame.burst.count)]
            }
            for path in wanted where seen.insert(path).inserted { out.append(path) }
        }
        return out
    }

    public static func ms(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

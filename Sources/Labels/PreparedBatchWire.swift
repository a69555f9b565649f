import FoundationEssentials
import Imaging

/// A prepared batch as one node sends it to another (`Control.Prepare`): the plan as JSON, the pixels of every
/// slot's input and every thumbnail as bytes. Decoding gives back what the sender's ``BurstPlanner`` made, bit for
/// bit, except what the receiver does not use (each frame's decoded JPEG layout and EXIF).
public enum PreparedBatchWire {
    struct Plan: Codable {
        var frames: [Frame]
        var slots: [Slot]
        var inputs: [Size]
        var timings: Timings
    }

    struct Frame: Codable {
        var failure: Failure?
        var motion: Motion?
        var carried: Box?
        var burstFrames: Int
        var wholeOnlyReason: String?
        var thumbnail: Size?
    }

    struct Failure: Codable {
        var code: String
        var message: String
        var path: String?
    }

    struct Motion: Codable {
        var boxes: [Box]
        var movingFraction: Double
        var globalChange: Bool
    }

    struct Box: Codable {
        var x: Double
        var y: Double
        var width: Double
        var height: Double
        var score: Double

        init(_ box: MotionBox) {
            (x, y, width, height, score) = (box.box.x, box.box.y, box.box.width, box.box.height, box.score)
        }

        var motionBox: MotionBox { MotionBox(box: RelativeBox(x: x, y: y, width: width, height: height), score: score) }
    }

    struct Slot: Codable {
        /// `whole`, `crop` or `carried`.
        var kind: String
        var frame: Int
        var box: Int?
    }

    struct Size: Codable {
        var width: Int
        var height: Int
    }

    struct Timings: Codable {
        var wholeDecodeMs: Double
        var grayDecodeMs: Double
        var localiseMs: Double
        var cropDecodeMs: Double
        var crops: Int
    }

    /// Encodes a prepared batch.
    /// - Parameter batch: The planner's batch.
    /// - Returns: The plan (JSON) and the pixels (each slot's input, then each thumbnail, in frame order).
    public static func encode(_ batch: BurstBatch) throws -> (plan: [UInt8], pixels: [UInt8]) {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(batch.inputs.reduce(0) { $0 + $1.pixels.count })
        for input in batch.inputs { pixels += input.pixels }
        let frames = batch.frames.map { plan -> Frame in
            if let thumbnail = plan.thumbnail { pixels += thumbnail.pixels }
            return Frame(
                failure: plan.failure.map { Failure(code: $0.code.description, message: $0.message, path: $0.path) },
                motion: plan.motion.map {
                    Motion(
                        boxes: $0.boxes.map(Box.init), movingFraction: $0.movingFraction, globalChange: $0.globalChange)
                },
                carried: plan.carried.map(Box.init), burstFrames: plan.burstFrames,
                wholeOnlyReason: plan.wholeOnlyReason,
                thumbnail: plan.thumbnail.map { Size(width: $0.width, height: $0.height) })
        }
        let slots = batch.slots.map { slot -> Slot in
            switch slot {
            case .whole(let frame): Slot(kind: "whole", frame: frame, box: nil)
            case .crop(let frame, let box): Slot(kind: "crop", frame: frame, box: box)
            case .carried(let frame): Slot(kind: "carried", frame: frame, box: nil)
            }
        }
        let t = batch.timings
        let plan = Plan(
            frames: frames, slots: slots, inputs: batch.inputs.map { Size(width: $0.width, height: $0.height) },
            timings: Timings(
                wholeDecodeMs: t.wholeDecodeMs, grayDecodeMs: t.grayDecodeMs, localiseMs: t.localiseMs,
                cropDecodeMs: t.cropDecodeMs, crops: t.crops))
        return (Array(try JSONEncoder().encode(plan)), pixels)
    }

    /// Decodes a prepared batch for the frames it was prepared for.
    /// - Parameters:
    ///   - frames: The frames sent, in order.
    ///   - plan: The plan's JSON.
    ///   - pixels: The pixels.
    /// - Returns: The batch.
    /// - Throws: `ImagingError(.invalidArgument)` when the reply does not describe these frames.
    public static func decode(frames: [BurstFrame], plan: [UInt8], pixels: [UInt8]) throws -> BurstBatch {
        let decoded: Plan
        do {
            decoded = try JSONDecoder().decode(Plan.self, from: Data(plan))
        } catch {
            throw ImagingError(.invalidArgument, "a prepared batch's plan cannot be read: \(error)")
        }
        guard decoded.frames.count == frames.count, decoded.slots.count == decoded.inputs.count else {
            throw ImagingError(
                .invalidArgument,
                "a prepared batch has \(decoded.frames.count) frames and \(decoded.slots.count) slots for "
                    + "\(decoded.inputs.count) inputs; \(frames.count) frames were sent")
        }
        var offset = 0
        func image(_ size: Size) throws -> RGBImage {
            let count = size.width * size.height * 3
            guard size.width > 0, size.height > 0, offset + count <= pixels.count else {
                throw ImagingError(.invalidArgument, "a prepared batch's pixels end early")
            }
            defer { offset += count }
            return try RGBImage(
                width: size.width, height: size.height, pixels: Array(pixels[offset..<(offset + count)]))
        }
        let inputs = try decoded.inputs.map(image)
        var plans: [FramePlan] = []
        for (frame, wire) in zip(frames, decoded.frames) {
            var plan = FramePlan(frame: frame, failure: nil, prepared: nil, motion: nil, burstFrames: wire.burstFrames)
            plan.failure = try wire.failure.map { failure in
                guard let code = ImagingError.Code(description: failure.code) else {
                    throw ImagingError(.invalidArgument, "a prepared batch names an unknown error \(failure.code)")
                }
                return ImagingError(code, failure.message, path: failure.path)
            }
            plan.motion = wire.motion.map {
                FrameMotion(
                    boxes: $0.boxes.map(\.motionBox), movingFraction: $0.movingFraction, globalChange: $0.globalChange)
            }
            plan.carried = wire.carried?.motionBox
            plan.wholeOnlyReason = wire.wholeOnlyReason
            plan.receivedThumbnail = try wire.thumbnail.map(image)
            plans.append(plan)
        }
        guard offset == pixels.count else {
            throw ImagingError(.invalidArgument, "a prepared batch has \(pixels.count - offset) bytes too many")
        }
        let slots = try decoded.slots.map { slot -> BurstSlot in
            guard slot.frame >= 0, slot.frame < frames.count else {
                throw ImagingError(.invalidArgument, "a prepared batch's slot names frame \(slot.frame)")
            }
            switch (slot.kind, slot.box) {
            case ("whole", nil): return .whole(frame: slot.frame)
            case ("crop", let box?):
                guard box >= 0, box < plans[slot.frame].motion?.boxes.count ?? 0 else {
                    throw ImagingError(
                        .invalidArgument, "a prepared batch's crop names box \(box) of frame \(slot.frame)")
                }
                return .crop(frame: slot.frame, box: box)
            case ("carried", nil):
                guard plans[slot.frame].carried != nil else {
                    throw ImagingError(
                        .invalidArgument, "a prepared batch carries a box to frame \(slot.frame), which has none")
                }
                return .carried(frame: slot.frame)
            default: throw ImagingError(.invalidArgument, "a prepared batch has a slot of kind \(slot.kind)")
            }
        }
        let t = decoded.timings
        return BurstBatch(
            frames: plans, slots: slots, inputs: inputs,
            timings: BurstTimings(
                wholeDecodeMs: t.wholeDecodeMs, grayDecodeMs: t.grayDecodeMs, localiseMs: t.localiseMs,
                cropDecodeMs: t.cropDecodeMs, crops: t.crops))
    }
}

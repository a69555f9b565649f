import Appliance
import Catalog
import Imaging
import Inference
import Labels

/// What `trapline bursts --json` prints (the contract `trapline_training.burst_eval` reads).
struct BurstsReport: Encodable {
    var model: String
    var bursts: [BurstReport] = []
    var timing = Timing()

    struct Timing: Encodable {
        var frames = 0
        var crops = 0
        var wholeDecodeMs = 0.0
        var grayDecodeMs = 0.0
        var localiseMs = 0.0
        var cropDecodeMs = 0.0
        var wholeInferenceMs = 0.0
        var cropInferenceMs = 0.0

        mutating func add(_ t: BurstTimings, frames: Int) {
            self.frames += frames
            crops += t.crops
            wholeDecodeMs += t.wholeDecodeMs
            grayDecodeMs += t.grayDecodeMs
            localiseMs += t.localiseMs
            cropDecodeMs += t.cropDecodeMs
        }
    }

    init(model: String) { self.model = model }

    var text: String {
        var lines: [String] = []
        for burst in bursts {
            lines.append("\(burst.path): \(burst.frames.count) frames; event: \(burst.event?.text ?? "-")")
            for frame in burst.frames {
                guard frame.status == "labeled", let combined = frame.combined else {
                    lines.append("  \(frame.file): failed: \(frame.error ?? "")")
                    continue
                }
                let boxes = frame.boxes.map {
                    "[x \(fmt($0.x)) y \(fmt($0.y)) w \(fmt($0.width)) h \(fmt($0.height))]"
                }.joined(separator: " ")
                let how =
                    frame.localised ? (frame.boxes.isEmpty ? "nothing moving" : "moving: \(boxes)") : "whole frame"
                lines.append("  \(frame.file): \(combined.text) (\(how))")
            }
        }
        let n = Double(max(1, timing.frames))
        let perImage =
            (timing.wholeDecodeMs + timing.grayDecodeMs + timing.localiseMs + timing.cropDecodeMs
                + timing.wholeInferenceMs + timing.cropInferenceMs) / n
        lines.append(
            "\(timing.frames) frames, \(timing.crops) crops; per frame \(fmt(perImage, 1)) ms "
                + "(whole decode \(fmt(timing.wholeDecodeMs / n, 1)), gray decode \(fmt(timing.grayDecodeMs / n, 1)), "
                + "localise \(fmt(timing.localiseMs / n, 1)), crop decode \(fmt(timing.cropDecodeMs / n, 1)), "
                + "whole inference \(fmt(timing.wholeInferenceMs / n, 1)), "
                + "crop inference \(fmt(timing.cropInferenceMs / n, 1)))")
        return lines.joined(separator: "\n")
    }
}

struct BurstReport: Encodable {
    var path: String
    var frames: [BurstFrameReport]
    var event: LabelReport?
    /// What the mean of the frames' probabilities alone would write for the event (the event's type and top
    /// classes come from it), for comparison with `event`.
    var eventByMean: LabelReport?
}

struct BurstFrameReport: Encodable {
    var file: String
    var status: String
    var error: String?
    var width: Int?
    var height: Int?
    var localised = false
    /// Frames of the background model (0: labelled whole only).
    var burstFrames = 0
    var motion = false
    var wholeOnlyReason: String?
    var boxes: [BoxRecord] = []
    var labelBox: Int?
    var whole: LabelReport?
    var crop: LabelReport?
    var combined: LabelReport?

    init(plan: FramePlan, label: FrameLabel) {
        file = plan.frame.path
        status = "labeled"
        if let layout = plan.prepared?.layout {
            let swapped = plan.prepared?.exif.orientation?.swapsDimensions ?? false
            width = swapped ? layout.height : layout.width
            height = swapped ? layout.width : layout.height
        }
        localised = label.localised
        burstFrames = label.burstFrames
        motion = !label.boxes.isEmpty
        wholeOnlyReason = label.wholeOnlyReason
        boxes = label.boxes.map(BoxRecord.init)
        labelBox = label.labelBox
        whole = LabelReport(label.whole)
        crop = label.crop.map(LabelReport.init)
        combined = LabelReport(label.combined)
    }

    init(failed path: String, error: ImagingError) {
        file = path
        status = "failed"
        self.error = error.message
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(width, forKey: .width)
        try c.encodeIfPresent(height, forKey: .height)
        try c.encode(localised, forKey: .localised)
        try c.encode(burstFrames, forKey: .burstFrames)
        try c.encode(motion, forKey: .motion)
        try c.encodeIfPresent(wholeOnlyReason, forKey: .wholeOnlyReason)
        try c.encode(boxes, forKey: .boxes)
        try c.encodeIfPresent(labelBox, forKey: .labelBox)
        try c.encodeIfPresent(whole, forKey: .whole)
        try c.encode(crop, forKey: .crop)
        try c.encodeIfPresent(combined, forKey: .combined)
    }

    enum CodingKeys: String, CodingKey {
        case file, status, error, width, height, localised, burstFrames, motion, wholeOnlyReason, boxes, labelBox,
            whole, crop
        case combined
    }
}

struct LabelReport: Encodable {
    var observationType: String
    var scientificName: String?
    var taxonRank: String?
    var vernacularName: String?
    var classIndex: Int
    var probability: Double
    var animalProbability: Double

    init(_ label: ImageLabel) {
        observationType = label.observationType.rawValue
        scientificName = label.written.scientificName
        taxonRank = label.written.taxonRank
        vernacularName = label.written.vernacularName
        classIndex = label.top.first?.index ?? -1
        probability = Double(label.written.probability)
        animalProbability = Double(label.animalProbability)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(observationType, forKey: .observationType)
        try c.encode(scientificName, forKey: .scientificName)
        try c.encode(taxonRank, forKey: .taxonRank)
        try c.encode(vernacularName, forKey: .vernacularName)
        try c.encode(classIndex, forKey: .classIndex)
        try c.encode(probability, forKey: .probability)
        try c.encode(animalProbability, forKey: .animalProbability)
    }

    enum CodingKeys: String, CodingKey {
        case observationType, scientificName, taxonRank, vernacularName, classIndex, probability, animalProbability
    }

    var text: String {
        let name = scientificName ?? vernacularName ?? observationType
        return "\(observationType) \(name)\(taxonRank.map { " (\($0))" } ?? "") \(fmt(probability))"
    }
}

private func fmt(_ value: Double, _ digits: Int = 3) -> String {
    let scale = Double([1, 10, 100, 1000, 10000][min(4, digits)])
    return "\((value * scale).rounded() / scale)"
}

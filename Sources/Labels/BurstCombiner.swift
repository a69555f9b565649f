import Imaging
import Inference

/// One frame's labels: the whole frame's, the best crop's, and the one written.
public struct FrameLabel: Sendable {
    public var whole: ImageLabel
    /// The label of the crop with the most animal mass, when the frame had moving regions.
    public var crop: ImageLabel?
    /// The label written for the frame.
    public var combined: ImageLabel
    /// The probabilities `combined` was made from (for an event's label).
    public var probabilities: [Float]
    /// The frame's moving regions, strongest first.
    public var boxes: [MotionBox]
    /// The region whose crop named the frame, when a crop did.
    public var labelBox: Int?
    /// Frames in the frame's background model (0 when it was labelled whole only).
    public var burstFrames: Int
    /// Why the frame was labelled whole only, when it was.
    public var wholeOnlyReason: String?

    /// Whether the frame was localised against its burst.
    public var localised: Bool { burstFrames > 0 }
}

/// Turns the model's answers for a batch's slots into frame labels, and frames into an event's label.
public struct BurstCombiner: Sendable {
    public var labeler: Labeler
    public var settings: BurstSettings

    /// Creates a combiner.
    public init(labeler: Labeler, settings: BurstSettings) {
        self.labeler = labeler
        self.settings = settings
    }

    /// Labels every frame of a batch.
    /// - Parameters:
    ///   - batch: The planned batch.
    ///   - logits: One row of logits per slot, in the batch's slot order.
    /// - Returns: Per frame, its label or why it failed.
    public func combine(_ batch: BurstBatch, logits: [ArraySlice<Float>]) -> [Result<FrameLabel, ImagingError>] {
        precondition(logits.count == batch.slots.count, "one row of logits per slot")
        var whole: [Int: [Float]] = [:]
        var crops: [Int: [(box: Int, probabilities: [Float])]] = [:]
        var carried: [Int: [Float]] = [:]
        for (slot, row) in zip(batch.slots, logits) {
            switch slot {
            case .whole(let frame): whole[frame] = Labeler.softmax(row)
            case .crop(let frame, let box): crops[frame, default: []].append((box, Labeler.softmax(row)))
            case .carried(let frame): carried[frame] = Labeler.softmax(row)
            }
        }
        return batch.frames.indices.map { index in
            let plan = batch.frames[index]
            if let failure = plan.failure { return .failure(failure) }
            guard let probabilities = whole[index] else {
                return .failure(ImagingError(.corrupt, "the frame was not classified", path: plan.frame.path))
            }
            return .success(
                label(plan, whole: probabilities, crops: crops[index] ?? [], carried: carried[index]))
        }
    }

    /// One frame's label from its whole-frame and crop probabilities:
    /// - not localised (a frame alone, a burst too short): the whole frame's label, as without localisation;
    /// - moving regions: the crop with the most animal mass names the frame when that mass reaches
    ///   `cropAnimalThreshold`; otherwise the whole frame's label stands;
    /// - localised but nothing moving: the crop at the box carried from the nearest frame that had one names the
    ///   frame when its animal mass reaches `stillAnimalThreshold` (the animal stopped: that box becomes the
    ///   frame's); failing that, the whole frame must reach `stillAnimalThreshold` to be an animal.
    func label(
        _ plan: FramePlan, whole: [Float], crops: [(box: Int, probabilities: [Float])], carried: [Float]? = nil
    ) -> FrameLabel {
        let wholeLabel = labeler.label(probabilities: whole)
        var result = FrameLabel(
            whole: wholeLabel, crop: nil, combined: wholeLabel, probabilities: whole, boxes: plan.motion?.boxes ?? [],
            labelBox: nil, burstFrames: plan.burstFrames, wholeOnlyReason: plan.wholeOnlyReason)
        guard let motion = plan.motion else { return result }
        if let best = crops.max(by: { animalMass($0.probabilities) < animalMass($1.probabilities) }) {
            let cropLabel = labeler.label(
                probabilities: best.probabilities, blankThreshold: settings.cropAnimalThreshold)
            result.crop = cropLabel
            if cropLabel.observationType != .blank {
                result.combined = cropLabel
                result.probabilities = best.probabilities
                result.labelBox = best.box
            }
        } else if motion.boxes.isEmpty && !motion.globalChange {
            let still = max(labeler.blankThreshold, settings.stillAnimalThreshold)
            result.combined = labeler.label(probabilities: whole, blankThreshold: still)
            if let carried, let box = plan.carried {
                let carriedLabel = labeler.label(probabilities: carried, blankThreshold: still)
                result.crop = carriedLabel
                if carriedLabel.observationType != .blank {
                    result.combined = carriedLabel
                    result.probabilities = carried
                    result.boxes = [box]
                    result.labelBox = 0
                }
            }
        }
        return result
    }

    private func animalMass(_ probabilities: [Float]) -> Float {
        labeler.typeMasses(probabilities).animal
    }

    /// An event's label: the mean of the probabilities of its frames that show an animal, a person or a
    /// vehicle (each as kept in the catalog: its `scoreCount` most probable classes), labelled as one image and
    /// typed by the largest of the three masses; blank when every frame is.
    /// - Parameter frames: The event's frame labels.
    /// - Returns: The event's label, nil for no frames.
    public func eventLabel(_ frames: [FrameLabel]) -> ImageLabel? {
        let kept = frames.filter { $0.combined.observationType != .blank }.map {
            Self.dense(Self.topScores($0.probabilities), classes: $0.probabilities.count)
        }
        return eventLabel(probabilities: kept, frames: frames.count)
    }

    /// An event's label from the probabilities of its non-blank frames.
    /// - Parameters:
    ///   - probabilities: One vector per frame that is not blank.
    ///   - frames: How many frames the event has in all.
    /// - Returns: The label, nil for an event without frames.
    public func eventLabel(probabilities: [[Float]], frames: Int) -> ImageLabel? {
        guard frames > 0 else { return nil }
        let classes = labeler.metadata.classes.names.count
        guard !probabilities.isEmpty else {
            return labeler.label(probabilities: [Float](repeating: 0, count: classes))
        }
        var mean = [Float](repeating: 0, count: classes)
        for vector in probabilities {
            for i in 0..<min(classes, vector.count) { mean[i] += vector[i] }
        }
        for i in mean.indices { mean[i] /= Float(probabilities.count) }
        // Every frame counted is an animal, a person or a vehicle: the largest mass decides which.
        let masses = labeler.typeMasses(mean)
        return labeler.label(probabilities: mean, blankThreshold: max(masses.animal, masses.human, masses.vehicle))
    }

    /// How many of a frame's most probable classes the catalog keeps for its event's label.
    public static let scoreCount = 32

    /// The most probable classes of a probability vector, best first.
    public static func topScores(_ probabilities: [Float], count: Int = scoreCount) -> [(index: Int, p: Float)] {
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
        return order.prefix(count).map { ($0, probabilities[$0]) }
    }

    /// A probability vector with only the given classes set.
    public static func dense(_ scores: [(index: Int, p: Float)], classes: Int) -> [Float] {
        var vector = [Float](repeating: 0, count: classes)
        for score in scores where (0..<classes).contains(score.index) { vector[score.index] = score.p }
        return vector
    }
}

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
    /// The image whose probabilities `combined` was made from.
    public var source = Source.whole
    /// That image's slot in its batch (`BurstBatch.slots`), set by `BurstCombiner.combine`.
    public var slot: Int?
    /// Frames in the frame's background model (0 when it was labelled whole only).
    public var burstFrames: Int
    /// Why the frame was labelled whole only, when it was.
    public var wholeOnlyReason: String?

    /// Whether the frame was localised against its burst.
    public var localised: Bool { burstFrames > 0 }

    /// Which of a frame's images named it.
    public enum Source: Sendable, Equatable {
        case whole
        case crop(box: Int)
        /// The crop at the box carried from a frame of its burst where the animal moved.
        case carried

        /// The batch slot of this image of frame `frame`.
        func slot(frame: Int) -> BurstSlot {
            switch self {
            case .whole: .whole(frame: frame)
            case .crop(let box): .crop(frame: frame, box: box)
            case .carried: .carried(frame: frame)
            }
        }
    }
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
    ///   - features: With a site head, one row of pooled features per slot; the site head reads the row of the
    ///     image (whole frame or crop) that named the frame.
    ///   - headLevel: The width level the network's head ran at.
    public func combine(
        _ batch: BurstBatch, logits: [ArraySlice<Float>], features: [ArraySlice<Float>]? = nil, headLevel: Int? = nil
    ) -> [Result<FrameLabel, ImagingError>] {
        precondition(logits.count == batch.slots.count, "one row of logits per slot")
        precondition(features == nil || features!.count == batch.slots.count, "one row of features per slot")
        var whole: [Int: [Float]] = [:]
        var crops: [Int: [(box: Int, probabilities: [Float])]] = [:]
        var carried: [Int: [Float]] = [:]
        var slotOf: [BurstSlot: Int] = [:]
        for (index, (slot, row)) in zip(batch.slots, logits).enumerated() {
            slotOf[slot] = index
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
            var result = label(plan, whole: probabilities, crops: crops[index] ?? [], carried: carried[index])
            result.slot = slotOf[result.source.slot(frame: index)]
            if let features, labeler.siteHead != nil {
                result.combined = labeler.withSiteHead(
                    result.combined, probabilities: result.probabilities, features: result.slot.map { features[$0] },
                    level: headLevel)
            }
            return .success(result)
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
                result.source = .crop(box: best.box)
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
                    result.source = .carried
                }
            }
        }
        return result
    }

    private func animalMass(_ probabilities: [Float]) -> Float {
        labeler.typeMasses(probabilities).animal
    }

    /// An event's label (docs/taxonomy.md). Its type and top classes come from the mean of the probabilities of
    /// its frames that show an animal, a person or a vehicle (each as kept in the catalog: its `scoreCount` most
    /// probable classes), typed by the largest of the three masses, unless most of those frames are of another
    /// type; blank when every frame is. An animal event's taxon is the frames' vote (`eventTaxon`).
    /// - Parameter frames: The event's frame labels.
    /// - Returns: The event's label, nil for no frames.
    /// - Parameter votes: false for the mean's label alone (for comparison).
    public func eventLabel(_ frames: [FrameLabel], votes: Bool = true) -> ImageLabel? {
        let kept = frames.filter { $0.combined.observationType != .blank }.map {
            Self.dense(Self.topScores($0.probabilities), classes: $0.probabilities.count)
        }
        let cast = frames.map {
            EventVote(type: $0.combined.observationType, scientificName: $0.combined.written.scientificName)
        }
        return eventLabel(probabilities: kept, frames: frames.count, votes: votes ? cast : [])
    }

    /// One frame's written label, as an event counts it.
    public struct EventVote: Sendable, Equatable {
        public var type: ObservationType
        public var scientificName: String?

        public init(type: ObservationType, scientificName: String?) {
            self.type = type
            self.scientificName = scientificName
        }
    }

    /// An animal event's taxon: the deepest taxon that more than half of its animal frames support, a frame
    /// supporting its written taxon and every taxon above it. A lone odd frame is one vote against the others'
    /// shared taxa: `Aves` five times, `Egretta albus` twice, `Animalia` three times and `Chondrichthyes` once
    /// give `Aves` (7 of 11 animal frames), and a clear majority that agrees on a taxon always gets it or
    /// something deeper. Its probability is the share of animal frames that support it.
    /// - Parameter votes: The event's frames.
    /// - Returns: The taxon, nil when no frame is an animal with a name.
    public func eventTaxon(_ votes: [EventVote]) -> WrittenLabel? {
        let animals = votes.filter { $0.type == .animal }.compactMap(\.scientificName)
        guard !animals.isEmpty else { return nil }
        var support: [String: Int] = [:]
        var depth: [String: Int] = [:]
        var lineages: [String: [String]] = [:]
        for name in animals {
            let chain = lineages[name] ?? [name] + labeler.lineage(of: name)
            lineages[name] = chain
            var seen = Set<String>()
            for (position, taxon) in chain.enumerated() where seen.insert(taxon).inserted {
                support[taxon, default: 0] += 1
                // A taxon's depth: how many taxa lie above it on the chain that names it.
                depth[taxon] = max(depth[taxon] ?? 0, chain.count - 1 - position)
            }
        }
        let majority = support.filter { 2 * $0.value > animals.count }
        // The deepest; between equally deep ones (names from two sources), the better supported, then by name.
        guard
            let best = majority.keys.max(by: { a, b in
                (depth[a]!, majority[a]!, b) < (depth[b]!, majority[b]!, a)
            })
        else { return nil }
        let (rank, vernacular) = labeler.describe(best)
        return WrittenLabel(
            scientificName: best, taxonRank: rank, vernacularName: vernacular,
            probability: Float(majority[best]!) / Float(animals.count))
    }

    /// An event's label from the probabilities of its non-blank frames.
    /// - Parameters:
    ///   - probabilities: One vector per frame that is not blank.
    ///   - frames: How many frames the event has in all.
    ///   - votes: The frames' written labels, when known: they decide the type when most frames are of one, and
    ///     an animal event's taxon (`eventTaxon`).
    /// - Returns: The label, nil for an event without frames.
    public func eventLabel(probabilities: [[Float]], frames: Int, votes: [EventVote] = []) -> ImageLabel? {
        guard var label = meanLabel(probabilities: probabilities, frames: frames) else { return nil }
        let shown = votes.filter { $0.type != .blank }
        guard !shown.isEmpty else { return label }
        var counts: [ObservationType: Int] = [:]
        for vote in shown { counts[vote.type, default: 0] += 1 }
        if let (type, count) = counts.max(by: { $0.value < $1.value }), 2 * count > shown.count,
            type != label.observationType
        {
            label.observationType = type
            if type != .animal {
                label.written = WrittenLabel(
                    scientificName: nil, taxonRank: nil, vernacularName: label.written.vernacularName,
                    probability: Float(count) / Float(shown.count))
            }
        }
        if label.observationType == .animal, let taxon = eventTaxon(votes) { label.written = taxon }
        return label
    }

    private func meanLabel(probabilities: [[Float]], frames: Int) -> ImageLabel? {
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

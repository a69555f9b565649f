/// One image's label, in the catalog's terms.
public struct LabelRecord: Sendable, Equatable {
    /// Camtrap DP's observation types the labeller writes.
    public static let observationTypes = ["animal", "human", "vehicle", "blank"]

    public var mediaID: String
    /// `animal`, `human`, `vehicle` or `blank`.
    public var observationType: String
    /// The written taxon's Latin name (`Vulpes vulpes`, `Canidae`); nil for anything but an animal.
    public var scientificName: String?
    /// `species`, `genus`, `family`, `order`, `class` or `kingdom`, when there is a scientific name from a taxonomy.
    public var taxonRank: String?
    /// The common name of what is written (`red fox`; `pickup` for a vehicle), where known.
    public var vernacularName: String?
    /// The model's most probable class.
    public var classIndex: Int
    /// The probability of what is written: the summed probability of the taxon's classes for an animal.
    public var probability: Double
    public var animalProbability: Double
    /// The top-K alternatives as JSON: `[{"index": 335, "name": "...", "probability": 0.68}, ...]`.
    public var topClassesJSON: String
    /// The moving region whose crop named the frame (nil when the whole frame did).
    public var box: BoxRecord?
    /// Every moving region found in the frame, strongest first.
    public var boxes: [BoxRecord] = []
    /// Frames of the burst's background model; 0 when the frame was labelled whole only.
    public var burstFrames = 0
    /// Frames of its burst the catalog knew when the frame was labelled (`PendingMedia.burst`): when the event
    /// has more once it closes, the frame is labelled again.
    public var contextFrames = 0
    /// Whether this replaces the frame's earlier label (its burst was incomplete when it was first labelled).
    public var relabel = false
    /// What wrote the label, when not the model alone (a site head): `classifiedBy`; the model's name when nil.
    public var classifiedBy: String?
    /// The label's probabilities, most probable classes first, as compact JSON `[[index, p], ...]` (the
    /// 32 largest): what an event's label is made from.
    public var classScores = "[]"

    /// Whether the frame shows no animal, person or vehicle.
    public var isBlank: Bool { observationType == "blank" }

    /// Creates a label record.
    public init(
        mediaID: String, observationType: String, scientificName: String?, taxonRank: String? = nil,
        vernacularName: String? = nil, classIndex: Int, probability: Double, animalProbability: Double,
        topClassesJSON: String
    ) {
        self.mediaID = mediaID
        self.observationType = observationType
        self.scientificName = scientificName
        self.taxonRank = taxonRank
        self.vernacularName = vernacularName
        self.classIndex = classIndex
        self.probability = probability
        self.animalProbability = animalProbability
        self.topClassesJSON = topClassesJSON
    }
}

/// A region of a frame in Camtrap DP's terms: the top-left corner and size as fractions of the frame.
public struct BoxRecord: Sendable, Equatable, Encodable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double
    /// How strongly it differs from the burst's background (its mean difference over the threshold).
    public var score: Double

    /// Creates a box.
    public init(x: Double, y: Double, width: Double, height: Double, score: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.score = score
    }
}

/// One labelled frame of an event, as the event's label is made from it.
public struct EventFrame: Sendable, Equatable {
    public var observationType: String
    /// The frame's `LabelRecord.classScores`.
    public var classScores: String
    /// The frame's written taxon, if any: an animal event's taxon is its frames' vote.
    public var scientificName: String?

    /// Creates an event frame.
    public init(observationType: String, classScores: String, scientificName: String? = nil) {
        self.observationType = observationType
        self.classScores = classScores
        self.scientificName = scientificName
    }
}

/// Makes an event's label from its labelled frames (the appliance's labeller); nil leaves the event without one.
public typealias EventLabeler = @Sendable (_ frames: [EventFrame]) -> LabelRecord?

/// A media item that could not be labelled, and why.
public struct FailureRecord: Sendable, Equatable {
    public var mediaID: String
    public var code: String
    public var message: String
    /// For a frame being labelled again: the burst length tried. Its earlier label stays, and it is not tried
    /// again until its event grows further.
    public var relabelContext: Int?

    /// Creates a failure record.
    public init(mediaID: String, code: String, message: String) {
        self.mediaID = mediaID
        self.code = code
        self.message = message
    }
}

/// A finished batch: its timing against its deadline, the levels it ran at, and its results.
public struct BatchResult: Sendable {
    public var firstArrival: Double
    public var deadline: Double
    public var completed: Double
    /// What every slice ran (a width level's prune fraction, or a slice option), in ring order.
    public var levels: [SliceLevel]
    /// Seconds spent per node or stage, by name.
    public var nodeTimings: [String: Double]
    public var modelID: String
    public var modelName: String
    public var labels: [LabelRecord]
    public var failures: [FailureRecord]

    /// Creates a batch result.
    public init(
        firstArrival: Double, deadline: Double, completed: Double, levels: [SliceLevel], nodeTimings: [String: Double],
        modelID: String, modelName: String, labels: [LabelRecord], failures: [FailureRecord]
    ) {
        self.firstArrival = firstArrival
        self.deadline = deadline
        self.completed = completed
        self.levels = levels
        self.nodeTimings = nodeTimings
        self.modelID = modelID
        self.modelName = modelName
        self.labels = labels
        self.failures = failures
    }

    /// Whether the batch finished by its deadline.
    public var metDeadline: Bool { completed <= deadline }
}

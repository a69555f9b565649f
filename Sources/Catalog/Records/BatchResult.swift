/// One image's label, in the catalog's terms.
public struct LabelRecord: Sendable, Equatable {
    public var mediaID: String
    public var isBlank: Bool
    /// The top class's name (for an animal, the species as the model knows it).
    public var scientificName: String
    public var classIndex: Int
    public var probability: Double
    public var animalProbability: Double
    /// The top-K alternatives as JSON: `[{"index": 335, "name": "...", "probability": 0.68}, ...]`.
    public var topClassesJSON: String

    /// Creates a label record.
    public init(
        mediaID: String, isBlank: Bool, scientificName: String, classIndex: Int, probability: Double,
        animalProbability: Double, topClassesJSON: String
    ) {
        self.mediaID = mediaID
        self.isBlank = isBlank
        self.scientificName = scientificName
        self.classIndex = classIndex
        self.probability = probability
        self.animalProbability = animalProbability
        self.topClassesJSON = topClassesJSON
    }
}

/// A media item that could not be labelled, and why.
public struct FailureRecord: Sendable, Equatable {
    public var mediaID: String
    public var code: String
    public var message: String

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
    /// The prune level (fraction removed) of every slice, in ring order.
    public var levels: [Double]
    /// Seconds spent per node or stage, by name.
    public var nodeTimings: [String: Double]
    public var modelID: String
    public var modelName: String
    public var labels: [LabelRecord]
    public var failures: [FailureRecord]

    /// Creates a batch result.
    public init(
        firstArrival: Double, deadline: Double, completed: Double, levels: [Double], nodeTimings: [String: Double],
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

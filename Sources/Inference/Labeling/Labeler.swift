#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A class and its probability.
public struct ClassScore: Sendable, Equatable, Codable {
    public var index: Int
    public var name: String
    public var probability: Float
}

/// What the labeller says of one image.
public struct ImageLabel: Sendable, Equatable {
    /// The most probable classes, best first.
    public var top: [ClassScore]
    /// The summed probability of every animal class.
    public var animalProbability: Float
    /// True when the animal probability is under the blank threshold: no animal in the frame.
    public var isBlank: Bool
}

/// Turns logits into labels: softmax, top-K, the animal mass, and blank detection.
public struct Labeler: Sendable {
    public let metadata: ModelMetadata
    public var topK: Int
    /// Frames whose animal probability is below this are `blank`.
    public var blankThreshold: Float
    private let animal: [Bool]

    /// Creates a labeller.
    /// - Parameters:
    ///   - metadata: The model's metadata (class names and animal classes).
    ///   - topK: How many classes to report (at least 1).
    ///   - blankThreshold: The animal probability under which a frame is blank.
    public init(metadata: ModelMetadata, topK: Int = 5, blankThreshold: Float = 0.5) {
        self.metadata = metadata
        self.topK = max(1, min(topK, metadata.classes.names.count))
        self.blankThreshold = blankThreshold
        self.animal = metadata.classes.names.indices.map { metadata.isAnimal($0) }
    }

    /// Labels one image's logits.
    /// - Parameter logits: One row of logits, one per class.
    /// - Returns: The label.
    public func label(_ logits: ArraySlice<Float>) -> ImageLabel {
        let probabilities = Self.softmax(logits)
        var animalMass: Float = 0
        for (index, p) in probabilities.enumerated() where animal[index] { animalMass += p }
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
        let top = order.prefix(topK).map {
            ClassScore(index: $0, name: metadata.classes.names[$0], probability: probabilities[$0])
        }
        return ImageLabel(top: top, animalProbability: animalMass, isBlank: animalMass < blankThreshold)
    }

    /// A numerically stable softmax.
    public static func softmax(_ logits: ArraySlice<Float>) -> [Float] {
        let largest = logits.max() ?? 0
        var exps = logits.map { ($0 - largest).exp() }
        let total = exps.reduce(0, +)
        for i in exps.indices { exps[i] /= total }
        return exps
    }
}

extension Float {
    fileprivate func exp() -> Float { expf(self) }
}

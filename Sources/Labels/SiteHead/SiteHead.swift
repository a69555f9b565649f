import FoundationEssentials
import Inference

#if canImport(Glibc)
    import Glibc
#endif

/// A site's own classifier over the engine's pooled features, learned by `trapline learn` from a few labelled
/// folders: an L2-regularised multinomial logistic regression per width level of the network's head (a pruned
/// head keeps its first channels, so each level's head reads a prefix of the features). The labeller writes its
/// class where it is confident and the model's own roll-up elsewhere (docs/taxonomy.md).
public struct SiteHead: Sendable, Codable, Equatable {
    /// One class the site head knows.
    public struct SiteClass: Sendable, Codable, Equatable {
        /// The folder name (or the package's name) it was learned from.
        public var name: String
        /// The Latin name written (nil for `blank`).
        public var scientificName: String?
        /// `species`, `genus`, `family`, ... (nil for `blank`).
        public var taxonRank: String?
        /// An English name, where WordNet gives one.
        public var vernacularName: String?
        /// The taxa above it, nearest first, as far as they are known (WordNet, or the model's taxonomy).
        public var lineage: [String]
        /// Training examples.
        public var examples: Int
        /// Whether this is the `blank` class.
        public var isBlank: Bool { scientificName == nil }
    }

    /// One width level's regression: `classes` rows of `kept` weights, over the first `kept` standardised features.
    public struct Level: Sendable, Codable, Equatable {
        public var kept: Int
        public var weights: [Float]
        public var bias: [Float]
    }

    /// How well the head did on examples it was not fitted to (k-fold cross-validation at full width).
    public struct Validation: Sendable, Codable, Equatable {
        public var folds: Int
        public var accuracy: Double
        /// Per class, in `classes` order.
        public var recall: [Double]
        /// `confusion[true][predicted]` counts.
        public var confusion: [[Int]]
    }

    public static let formatVersion = 1
    public var format = SiteHead.formatVersion
    /// The head's name, which the catalog records with each label it writes (`classifiedBy`).
    public var name = "site-head"
    /// The model file's SHA-256 that the features came from: a head is refused with any other model.
    public var modelID: String
    public var modelName: String
    public var classes: [SiteClass]
    /// Per feature, the training mean and the reciprocal of its standard deviation.
    public var mean: [Float]
    public var inverseScale: [Float]
    /// One regression per width level of the model's head, in the model's level order.
    public var levels: [Level]
    /// Per class, the mean of its examples' pooled features (raw, `classes` rows of `mean.count`).
    public var centroids: [Float]
    /// Per class, the cosine distance from its centroid within which an image may be called that class: the
    /// `radiusQuantile` of its own examples' distances to centroids fitted without them (cross-validation). A
    /// softmax over a few classes names one of them for anything at all; an image far from every class the site
    /// taught (a bird, a bus, a scene never seen) is left to the model.
    public var radius: [Float]
    public static let radiusQuantile = 0.95
    /// The L2 penalty the regressions were fitted with.
    public var l2: Float
    /// The site head's probability a class needs for the label to be the site head's (else the model's roll-up).
    public var threshold: Float
    /// The model's animal mass a frame it calls blank needs before the site head may call it an animal.
    public var animalFloor: Float = SiteHead.defaultAnimalFloor
    /// The model's written probability at or above which its order, family, genus or species stands against
    /// the site head (docs/taxonomy.md); 1 or more: never.
    public var ceiling: Float = SiteHead.defaultCeiling
    /// Chosen on the real evaluation photos, where the model's wrong labels of the site's deer, donkeys and
    /// capybara reached 0.50 to 0.58 (0.81 once) and its right ones of other animals that the site head would have
    /// overwritten 0.55 to 0.99.
    public static let defaultCeiling: Float = 0.6
    /// Measured on held-out composites (docs/taxonomy.md): blank scenes the site head never saw came out as its
    /// animals at under 5% animal mass, deer the model barely saw at 30%.
    public static let defaultAnimalFloor: Float = 0.2
    public var validation: Validation?

    /// The class probabilities for one image's pooled features.
    /// - Parameters:
    ///   - features: The engine's pooled features (`mean.count` values; a pruned head leaves zeros past its kept
    ///     channels).
    ///   - level: The head unit's width level (nil or out of range: full width).
    /// - Returns: One probability per class.
    public func probabilities(_ features: ArraySlice<Float>, level: Int? = nil) -> [Float] {
        let regression = levels[level.flatMap { levels.indices.contains($0) ? $0 : nil } ?? 0]
        let kept = min(regression.kept, features.count)
        var logits = regression.bias
        let start = features.startIndex
        for c in 0..<classes.count {
            var sum: Float = 0
            let row = c * regression.kept
            for j in 0..<kept {
                sum += regression.weights[row + j] * (features[start + j] - mean[j]) * inverseScale[j]
            }
            logits[c] += sum
        }
        return Labeler.softmax(logits[...])
    }

    /// Whether an image's features lie within a class's radius (at a pruned level, over the kept features).
    public func accepts(_ features: ArraySlice<Float>, asClass c: Int, level: Int? = nil) -> Bool {
        let d = mean.count
        let kept = min(levels[level.flatMap { levels.indices.contains($0) ? $0 : nil } ?? 0].kept, features.count, d)
        var (dot, ff, cc) = (0.0, 0.0, 0.0)
        let start = features.startIndex
        for j in 0..<kept {
            let (f, m) = (Double(features[start + j]), Double(centroids[c * d + j]))
            dot += f * m
            ff += f * f
            cc += m * m
        }
        guard ff > 0, cc > 0 else { return false }
        return 1 - dot / (ff * cc).squareRoot() <= Double(radius[c])
    }

    /// Checks that the head was learned with this model file.
    /// - Throws: `InferenceError` (`invalid-argument`) naming both models when it was not.
    public func check(modelID: String, featureCount: Int) throws {
        guard modelID == self.modelID else {
            throw InferenceError(
                .invalidArgument,
                "the site head was learned with another model file (\(modelName), SHA-256 \(self.modelID.prefix(12))…), "
                    + "not this one (SHA-256 \(modelID.prefix(12))…); run `trapline learn` again with this model")
        }
        guard featureCount == mean.count else {
            throw InferenceError(
                .invalidArgument, "the site head reads \(mean.count) features; the model has \(featureCount)")
        }
    }

    /// Reads a site head file.
    /// - Throws: `InferenceError` (`invalid-model-file`) for a file that cannot be read or is not a valid site head.
    public static func load(path: String) throws -> SiteHead {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InferenceError(.invalidModelFile, "cannot read the site head file \(path)")
        }
        let head: SiteHead
        do {
            head = try JSONDecoder().decode(SiteHead.self, from: data)
        } catch {
            throw InferenceError(.invalidModelFile, "\(path) is not a site head file (\(error))")
        }
        try head.validate(path)
        return head
    }

    private func validate(_ path: String) throws {
        let d = mean.count
        var problems: [String] = []
        if format != Self.formatVersion {
            problems.append("format \(format), this trapline reads \(Self.formatVersion)")
        }
        if classes.count < 2 { problems.append("fewer than 2 classes") }
        if d == 0 || inverseScale.count != d { problems.append("feature statistics of different lengths") }
        if levels.isEmpty { problems.append("no levels") }
        if centroids.count != classes.count * d || radius.count != classes.count {
            problems.append("centroids or radii of the wrong size")
        }
        for (index, level) in levels.enumerated()
        where !(1...max(1, d)).contains(level.kept) || level.weights.count != classes.count * level.kept
            || level.bias.count != classes.count
        {
            problems.append("level \(index) has weights of the wrong size")
        }
        let values = mean + inverseScale + centroids + radius + levels.flatMap { $0.weights + $0.bias }
        if !values.allSatisfy(\.isFinite) { problems.append("non-finite values") }
        if !(0...1).contains(threshold) || !(0...1).contains(animalFloor) || !(ceiling >= 0) {
            problems.append("threshold or animal floor outside 0...1")
        }
        guard problems.isEmpty else {
            throw InferenceError(
                .invalidModelFile, "\(path) is not a valid site head: \(problems.joined(separator: "; "))")
        }
    }

    /// The file's bytes: sorted keys, so the same head always gives the same bytes.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// Writes the head to `path` whole or not at all: a temporary file beside it, flushed, then renamed over it.
    /// - Throws: `InferenceError` when it cannot be written (the temporary file is removed).
    public func write(to path: String) throws {
        let bytes = try encoded()
        let temporary = path + ".partial-\(getpid())"
        guard let file = fopen(temporary, "wb") else {
            throw InferenceError(.invalidArgument, "cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        fclose(file)
        guard written == bytes.count, flushed, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw InferenceError(.invalidArgument, "cannot write \(path): \(reason)")
        }
    }
}

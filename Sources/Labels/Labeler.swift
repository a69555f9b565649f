import Inference

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

/// What a frame shows, in Camtrap DP's observation types.
public enum ObservationType: String, Sendable, Codable, CaseIterable {
    case animal, human, vehicle, blank
}

/// The label written for a frame: a taxon rolled up to the rank the probabilities support (animals), or
/// the most probable class of its type (people, vehicles), with the probability of what is written.
public struct WrittenLabel: Sendable, Equatable, Codable {
    /// The Latin name (`Vulpes vulpes`, `Canidae`); nil for blank frames, people and vehicles. A model without
    /// a taxonomy (a site classifier) has only its class names, and the top animal class's name is written.
    public var scientificName: String?
    /// `species`, `genus`, `family`, `order`, `class` or `kingdom`; nil where there is no scientific name.
    public var taxonRank: String?
    /// The common name (`red fox`, `dog`, `pickup`), where known.
    public var vernacularName: String?
    /// The summed probability of every class under the written taxon (animals), of every class of the type
    /// (people, vehicles), or of no animal (blank).
    public var probability: Float
}

/// What the labeller says of one image.
public struct ImageLabel: Sendable, Equatable {
    /// The most probable classes, best first.
    public var top: [ClassScore]
    /// The summed probability of every animal class.
    public var animalProbability: Float
    /// Animal, human, vehicle, or blank (none of them reaches the blank threshold).
    public var observationType: ObservationType
    /// The label the catalog writes.
    public var written: WrittenLabel
    /// True when no animal, person or vehicle reaches the blank threshold.
    public var isBlank: Bool { observationType == .blank }
    /// Whether a site head wrote the label (else the model's own classes and roll-up did).
    public var bySiteHead = false
    /// Where a site head wrote it: the type and label the model alone would have written.
    public var model: ModelLabel?
}

/// The model's own verdict on an image whose label a site head wrote.
public struct ModelLabel: Sendable, Equatable, Codable {
    public var observationType: ObservationType
    public var label: WrittenLabel
}

/// Turns logits into labels: softmax, top-K, the animal/human/vehicle masses, the blank decision, and the
/// written taxon, rolled up the model's taxonomy to the deepest rank whose summed probability reaches the
/// roll-up threshold (docs/taxonomy.md).
public struct Labeler: Sendable {
    public let metadata: ModelMetadata
    public var topK: Int
    /// Frames where neither the animal, the human nor the vehicle mass reaches this are `blank`.
    public var blankThreshold: Float
    /// The written taxon is the deepest whose summed probability reaches this.
    public var rollupThreshold: Float
    private let types: [Taxonomy.ClassType]
    /// Per class, the taxa its probability counts toward: an animal's whole lineage; with a species list, an
    /// unlisted animal's lineage from the deepest taxon that holds a listed one (a fox on a list of Equidae counts
    /// toward Mammalia and above, never toward Vulpes or Equus).
    private let counted: [[Int]]
    /// The ranks the roll-up walks, deepest first, before it settles for `animal`.
    static let rollupRanks = ["species", "genus", "family", "order", "class"]
    public static let defaultRollupThreshold: Float = 0.5
    /// A site's own head over the pooled features (`trapline learn`): where it is confident, its class is written.
    public var siteHead: SiteHead?

    /// Creates a labeller.
    /// - Parameters:
    ///   - metadata: The model's metadata (class names, animal classes, taxonomy).
    ///   - topK: How many classes to report (at least 1).
    ///   - blankThreshold: The mass under which a frame is blank.
    ///   - rollupThreshold: The summed probability the written taxon must reach.
    ///   - taxa: A site's species list: scientific names at any rank. An unlisted animal class's probability goes
    ///     to the deepest taxon above it that holds a listed one, so a label names a listed taxon, one below it,
    ///     or (when the evidence is elsewhere) a common ancestor. Empty for no restriction.
    /// - Throws: `InferenceError` (`invalid-argument`) naming a taxon the model's taxonomy lacks, or a list given
    ///   for a model without a taxonomy.
    public init(
        metadata: ModelMetadata, topK: Int = 5, blankThreshold: Float = 0.5,
        rollupThreshold: Float = Labeler.defaultRollupThreshold, taxa: [String] = []
    ) throws {
        self.metadata = metadata
        self.topK = max(1, min(topK, metadata.classes.names.count))
        self.blankThreshold = blankThreshold
        self.rollupThreshold = rollupThreshold
        let count = metadata.classes.names.count
        let lineages: [[Int]]
        if let taxonomy = metadata.taxonomy {
            types = taxonomy.classes.map(\.type)
            lineages = (0..<count).map { taxonomy.lineage(ofClass: $0) }
        } else {
            types = (0..<count).map { metadata.isAnimal($0) ? .animal : .unknown }
            lineages = Array(repeating: [], count: count)
        }
        counted = try Self.countedTaxa(metadata, types, lineages, taxa)
    }

    private static func countedTaxa(
        _ metadata: ModelMetadata, _ types: [Taxonomy.ClassType], _ lineages: [[Int]], _ names: [String]
    ) throws -> [[Int]] {
        let animals = zip(types, lineages).map { type, lineage in type == .animal ? lineage : [] }
        guard !names.isEmpty else { return animals }
        guard let taxonomy = metadata.taxonomy else {
            throw InferenceError(
                .invalidArgument,
                "labels.taxa needs a model with a taxonomy; \(metadata.name) has none")
        }
        var wanted = Set<Int>()
        for name in names {
            let key = name.trimmingSpaces.lowercased()
            guard let index = taxonomy.taxa.firstIndex(where: { $0.name.lowercased() == key }) else {
                throw InferenceError(
                    .invalidArgument,
                    "\"\(name)\" is not a taxon of \(metadata.name)'s taxonomy "
                        + "(give scientific names of taxa it has classes under, such as Vulpes vulpes, Ardeidae "
                        + "or Bovidae)")
            }
            wanted.insert(index)
        }
        // The listed taxa and every taxon above one of them.
        var holding = Set<Int>()
        for index in wanted {
            var at: Int? = index
            while let taxon = at, holding.insert(taxon).inserted { at = taxonomy.taxa[taxon].parent }
        }
        return animals.map { lineage in
            if lineage.contains(where: wanted.contains) { return lineage }
            guard let first = lineage.firstIndex(where: holding.contains) else { return [] }
            return Array(lineage[first...])
        }
    }

    /// Labels one image's logits.
    /// - Parameter logits: One row of logits, one per class.
    /// - Returns: The label.
    public func label(_ logits: ArraySlice<Float>) -> ImageLabel {
        label(probabilities: Self.softmax(logits))
    }

    /// The summed probabilities of the animal, human and vehicle classes.
    public func typeMasses(_ probabilities: [Float]) -> (animal: Float, human: Float, vehicle: Float) {
        var mass: [Taxonomy.ClassType: Float] = [:]
        for (index, p) in probabilities.enumerated() where index < types.count { mass[types[index], default: 0] += p }
        return (mass[.animal, default: 0], mass[.human, default: 0], mass[.vehicle, default: 0])
    }

    /// Labels a probability vector (one image's softmax, or a mean of several).
    /// - Parameters:
    ///   - probabilities: One probability per class.
    ///   - blankThreshold: The animal, human or vehicle mass a label needs; the labeller's own when nil.
    /// - Returns: The label.
    public func label(probabilities: [Float], blankThreshold: Float? = nil) -> ImageLabel {
        let blankThreshold = blankThreshold ?? self.blankThreshold
        var mass: [Taxonomy.ClassType: Float] = [:]
        for (index, p) in probabilities.enumerated() { mass[types[index], default: 0] += p }
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
        let top = order.prefix(topK).map {
            ClassScore(index: $0, name: metadata.classes.names[$0], probability: probabilities[$0])
        }
        let animal = mass[.animal, default: 0]
        let human = mass[.human, default: 0]
        let vehicle = mass[.vehicle, default: 0]
        let type: ObservationType
        let written: WrittenLabel
        if animal >= blankThreshold {
            type = .animal
            written = animalLabel(probabilities, animalMass: animal, order: order)
        } else if max(human, vehicle) >= blankThreshold {
            type = human >= vehicle ? .human : .vehicle
            let kind: Taxonomy.ClassType = type == .human ? .human : .vehicle
            let best = order.first { types[$0] == kind }
            written = WrittenLabel(
                scientificName: nil, taxonRank: nil, vernacularName: best.map(vernacular),
                probability: max(human, vehicle))
        } else {
            type = .blank
            written = WrittenLabel(scientificName: nil, taxonRank: nil, vernacularName: nil, probability: 1 - animal)
        }
        return ImageLabel(top: top, animalProbability: animal, observationType: type, written: written)
    }

    private func vernacular(_ index: Int) -> String {
        metadata.taxonomy?.classes[index].vernacular ?? metadata.classes.names[index]
    }

    /// The deepest taxon whose summed probability reaches the roll-up threshold, else `animal`.
    private func animalLabel(_ probabilities: [Float], animalMass: Float, order: [Int]) -> WrittenLabel {
        guard let taxonomy = metadata.taxonomy else {
            // Without a taxonomy the class name is all there is (a site classifier's own class names).
            let best = order.first { types[$0] == .animal } ?? order[0]
            return WrittenLabel(
                scientificName: metadata.classes.names[best], taxonRank: nil, vernacularName: nil,
                probability: probabilities[best])
        }
        var taxonMass = [Float](repeating: 0, count: taxonomy.taxa.count)
        for (index, p) in probabilities.enumerated() {
            for taxon in counted[index] { taxonMass[taxon] += p }
        }
        for rank in Self.rollupRanks {
            var best: Int?
            for (index, taxon) in taxonomy.taxa.enumerated() where taxon.rank == rank {
                if best == nil || taxonMass[index] > taxonMass[best!] { best = index }
            }
            if let best, taxonMass[best] >= rollupThreshold {
                let taxon = taxonomy.taxa[best]
                return WrittenLabel(
                    scientificName: taxon.name, taxonRank: taxon.rank,
                    vernacularName: taxon.vernacular.flatMap { $0.isEmpty ? nil : $0 }, probability: taxonMass[best])
            }
        }
        let kingdom = taxonomy.taxa.first { $0.rank == "kingdom" && $0.name == "Animalia" }
        return WrittenLabel(
            scientificName: kingdom?.name, taxonRank: kingdom?.rank, vernacularName: "animal", probability: animalMass)
    }

    /// A label with the site head's say (docs/taxonomy.md). The model keeps people and vehicles. Otherwise the
    /// site head's most probable class is written (`blank` makes the frame blank) when all of these hold:
    /// - its probability reaches the head's threshold;
    /// - the image lies within that class's radius of what taught it (`SiteHead.accepts`): a softmax over a few
    ///   classes names one of them for anything at all;
    /// - for an animal class, most of the model's animal mass lies in the class of animal the site class belongs
    ///   to (Mammalia for a deer): the site head refines what the model saw, it does not turn a bird into a deer;
    /// - the model has not written, at or above the head's `ceiling`, an order, family, genus or species that the site
    ///   class is not below (a confident red fox stays a red fox, and is not made blank either);
    /// - a frame the model calls blank has at least the head's `animalFloor` of animal mass: twenty empty scenes
    ///   teach the site head those scenes, not emptiness.
    /// - Parameters:
    ///   - label: The model's label.
    ///   - probabilities: The model's probabilities the label came from.
    ///   - features: The pooled features of the same image.
    ///   - level: The head unit's width level.
    /// - Returns: The label written.
    public func withSiteHead(
        _ label: ImageLabel, probabilities: [Float], features: ArraySlice<Float>?, level: Int?
    ) -> ImageLabel {
        guard let siteHead, let features, !features.isEmpty,
            label.observationType == .animal || label.observationType == .blank
        else {
            return label
        }
        let p = siteHead.probabilities(features, level: level)
        guard let best = p.indices.max(by: { p[$0] < p[$1] }), p[best] >= siteHead.threshold else { return label }
        let chosen = siteHead.classes[best]
        guard siteHead.accepts(features, asClass: best, level: level) else { return label }
        if label.observationType == .animal, let seen = label.written.scientificName,
            ["species", "genus", "family", "order"].contains(label.written.taxonRank ?? ""),
            label.written.probability >= siteHead.ceiling, !chosen.lineage.contains(seen)
        {
            return label
        }
        if !chosen.isBlank {
            if label.observationType == .blank && label.animalProbability < siteHead.animalFloor { return label }
            if let animalClass = (chosen.lineage.first { classTaxon(of: $0) == $0 }),
                2 * mass(of: animalClass, probabilities) < label.animalProbability
            {
                return label
            }
        }
        var result = label
        result.bySiteHead = true
        result.model = ModelLabel(observationType: label.observationType, label: label.written)
        if chosen.isBlank {
            result.observationType = .blank
            result.written = WrittenLabel(
                scientificName: nil, taxonRank: nil, vernacularName: nil, probability: p[best])
        } else {
            result.observationType = .animal
            result.written = WrittenLabel(
                scientificName: chosen.scientificName, taxonRank: chosen.taxonRank,
                vernacularName: chosen.vernacularName,
                probability: p[best])
        }
        return result
    }

    /// The summed probability of every class counted toward a taxon of the model's taxonomy.
    func mass(of taxon: String, _ probabilities: [Float]) -> Float {
        guard let index = metadata.taxonomy?.taxa.firstIndex(where: { $0.name == taxon }) else { return 0 }
        var total: Float = 0
        for (i, p) in probabilities.enumerated() where i < counted.count && counted[i].contains(index) { total += p }
        return total
    }

    /// The taxon at rank `class` on a name's lineage (the name itself when it is one); nil above that rank
    /// (`Animalia`, `Chordata`) or for a name the model's taxonomy lacks.
    func classTaxon(of name: String) -> String? {
        guard let taxonomy = metadata.taxonomy, var at = taxonomy.taxa.firstIndex(where: { $0.name == name }) else {
            return nil
        }
        while true {
            if taxonomy.taxa[at].rank == "class" { return taxonomy.taxa[at].name }
            guard let parent = taxonomy.taxa[at].parent else { return nil }
            at = parent
        }
    }

    /// The taxa above a scientific name, nearest first: from the site head's classes where it names one, then
    /// from the model's taxonomy. Empty for a name neither knows.
    public func lineage(of name: String) -> [String] {
        if let siteClass = siteHead?.classes.first(where: { $0.scientificName == name }) { return siteClass.lineage }
        if let siteClass = siteHead?.classes.first(where: { $0.lineage.contains(name) }),
            let at = siteClass.lineage.firstIndex(of: name)
        {
            return Array(siteClass.lineage[(at + 1)...])
        }
        return metadata.taxonomy?.ancestors(of: name) ?? []
    }

    /// A taxon's rank and English name, from the site head's classes or the model's taxonomy.
    public func describe(_ name: String) -> (rank: String?, vernacular: String?) {
        if let siteClass = siteHead?.classes.first(where: { $0.scientificName == name }) {
            return (siteClass.taxonRank, siteClass.vernacularName)
        }
        if let taxon = metadata.taxonomy?.taxa.first(where: { $0.name == name }) {
            return (taxon.rank, taxon.vernacular.flatMap { $0.isEmpty ? nil : $0 })
        }
        return (nil, nil)
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

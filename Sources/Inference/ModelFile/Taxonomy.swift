/// The taxonomy of a model's classes (the model file's `taxonomy`, docs/model-file.md): a table of taxa, each
/// with its parent, and for every class its vernacular name, observation type and deepest taxon.
public struct Taxonomy: Sendable, Codable, Equatable {
    /// Camtrap DP's ranks, deepest first; a taxon's parent has a later rank in this list.
    public static let ranks = ["species", "genus", "family", "order", "class", "phylum", "kingdom"]

    /// What a class shows, in Camtrap DP's observation types.
    public enum ClassType: String, Sendable, Codable, CaseIterable {
        case animal, human, vehicle, unknown
    }

    public struct Taxon: Sendable, Codable, Equatable {
        /// The scientific (Latin) name: `Vulpes vulpes`, `Canidae`.
        public var name: String
        public var rank: String
        /// The common English name, or empty where the source has none.
        public var vernacular: String?
        /// The index of the taxon one rank up, which comes earlier in the table; nil at the top.
        public var parent: Int?
    }

    public struct ClassEntry: Sendable, Codable, Equatable {
        /// The WordNet id of the class (`n02119022`), where it has one.
        public var wordnet: String?
        public var vernacular: String
        public var type: ClassType
        /// The deepest taxon the class belongs to; nil where the source names none.
        public var taxon: Int?
    }

    /// Where the names come from (`WordNet 3.0 ...`).
    public var source: String?
    public var ranks: [String]?
    public var taxa: [Taxon]
    public var classes: [ClassEntry]

    /// The rank's position in `ranks` (0 for species).
    public static func depth(of rank: String) -> Int? { ranks.firstIndex(of: rank) }

    /// The taxa of a class from its deepest up.
    public func lineage(ofClass index: Int) -> [Int] {
        var result: [Int] = []
        var at = classes[index].taxon
        while let taxon = at {
            result.append(taxon)
            at = taxa[taxon].parent
        }
        return result
    }

    /// The names of the taxa above a named taxon, nearest first; nil for a name the taxonomy lacks.
    public func ancestors(of name: String) -> [String]? {
        guard let index = taxa.firstIndex(where: { $0.name == name }) else { return nil }
        var names: [String] = []
        var at = taxa[index].parent
        while let parent = at {
            names.append(taxa[parent].name)
            at = taxa[parent].parent
        }
        return names
    }

    /// Checks the document against a model with `classCount` classes whose animals are `isAnimal`.
    func validate(classCount: Int, isAnimal: (Int) -> Bool) throws {
        guard classes.count == classCount else {
            throw InferenceError.model("taxonomy has \(classes.count) classes for \(classCount)")
        }
        var names = Set<String>()
        for (index, taxon) in taxa.enumerated() {
            guard !taxon.name.isEmpty, names.insert(taxon.name).inserted else {
                throw InferenceError.model("taxonomy: taxon \(index) has an empty or repeated name \"\(taxon.name)\"")
            }
            guard let depth = Self.depth(of: taxon.rank) else {
                throw InferenceError.model(
                    "taxonomy: taxon \(index) (\(taxon.name)) has unknown rank \"\(taxon.rank)\"")
            }
            if let parent = taxon.parent {
                guard parent >= 0, parent < index else {
                    throw InferenceError.model(
                        "taxonomy: taxon \(index) (\(taxon.name)) names parent \(parent), which must come before it")
                }
                guard let parentDepth = Self.depth(of: taxa[parent].rank), parentDepth > depth else {
                    throw InferenceError.model(
                        "taxonomy: taxon \(index) (\(taxon.name)) has a parent whose rank is not above its own")
                }
            }
        }
        for (index, entry) in classes.enumerated() {
            if let taxon = entry.taxon, !(0..<taxa.count).contains(taxon) {
                throw InferenceError.model("taxonomy: class \(index) names taxon \(taxon), out of range")
            }
            guard (entry.type == .animal) == isAnimal(index) else {
                throw InferenceError.model(
                    "taxonomy: class \(index) has type \(entry.type.rawValue), which disagrees with animalRanges")
            }
        }
    }
}

import FoundationEssentials
import Inference

/// Turns a folder's name into the taxon a site class is written as (docs/taxonomy.md):
/// - `blank` (any case) is the class of empty frames;
/// - a Latin binomial (`Capreolus capreolus`) is a species;
/// - a single Latin word (`Cervidae`) takes its rank from the model's taxonomy, else from WordNet, else from the
///   zoological code's endings (-idae family, -inae subfamily, -oidea superfamily, -ini tribe);
/// - a name with its rank in brackets (`Cervinae (subfamily)`) is taken as given;
/// - anything else is a vernacular name that WordNet must resolve to a taxon (`roe deer` → `Capreolus capreolus`).
/// The lineage above the taxon comes from WordNet's member links, then from the model's taxonomy once it reaches
/// a taxon the model knows.
public struct SiteNames: Sendable {
    public let taxonomy: Taxonomy?
    public let wordNet: WordNet?

    public init(taxonomy: Taxonomy?, wordNet: WordNet?) {
        self.taxonomy = taxonomy
        self.wordNet = wordNet
    }

    /// Ranks Camtrap DP's `taxonRank` allows; a class is written at one of them.
    static let ranks = ["subspecies", "species", "genus", "family", "subfamily", "order", "class", "phylum", "kingdom"]

    /// Resolves a name.
    /// - Returns: The class (with 0 examples).
    /// - Throws: `InferenceError` (`invalid-argument`) explaining what the name needs to be.
    public func resolve(_ given: String) throws -> SiteHead.SiteClass {
        let name = given.trimmingSpaces.replacing("_", with: " ")
        if name.lowercased() == "blank" {
            return SiteHead.SiteClass(
                name: given, scientificName: nil, taxonRank: nil, vernacularName: nil, lineage: [], examples: 0)
        }
        if let open = name.firstIndex(of: "("), name.hasSuffix(")") {
            let latin = name[..<open].trimmingSpaces
            let rank = name[name.index(after: open)..<name.index(before: name.endIndex)].trimmingSpaces.lowercased()
            guard Self.isLatin(latin), Self.ranks.contains(rank) else {
                throw InferenceError(
                    .invalidArgument,
                    "\"\(given)\": give a Latin name and one of the ranks \(Self.ranks.joined(separator: ", ")) in "
                        + "brackets, as in \"Cervinae (subfamily)\"")
            }
            return make(given, latin, rank, vernacular: nil)
        }
        let words = name.split(separator: " ")
        if words.count == 2, Self.isLatin(name) {
            return make(given, name, "species", vernacular: wordNet?.synset(named: name).flatMap(wordNet!.vernacular))
        }
        if words.count == 1, Self.isLatin(name) {
            if let index = taxonomy?.taxa.firstIndex(where: { $0.name == name }), let taxon = taxonomy?.taxa[index] {
                return SiteHead.SiteClass(
                    name: given, scientificName: taxon.name, taxonRank: taxon.rank,
                    vernacularName: taxon.vernacular.flatMap { $0.isEmpty ? nil : $0 },
                    lineage: modelLineage(above: index), examples: 0)
            }
            if let synset = wordNet?.synset(named: name), let taxon = wordNet?.taxon(synset), taxon.name == name,
                Self.ranks.contains(taxon.rank)
            {
                return make(given, name, taxon.rank, vernacular: nil)
            }
            if let rank = Self.rankFromEnding(name) { return make(given, name, rank, vernacular: nil) }
        }
        guard let wordNet else {
            throw InferenceError(
                .invalidArgument,
                "\"\(given)\" is not a Latin name, and WordNet, which resolves English names, is not installed "
                    + "(apt install wordnet-base); name the folder with a scientific name (Capreolus capreolus), or "
                    + "as \"Name (rank)\"")
        }
        guard let synset = wordNet.synset(named: name.lowercased()),
            let found = wordNet.taxonBelow(synset), Self.ranks.contains(found.taxon.rank)
        else {
            throw InferenceError(
                .invalidArgument,
                "\"\(given)\" is neither a Latin name nor a name WordNet knows as an animal taxon; name the folder with "
                    + "a scientific name (Capreolus capreolus, Cervidae), or as \"Name (rank)\"")
        }
        return make(given, found.taxon.name, found.taxon.rank, vernacular: wordNet.vernacular(synset))
    }

    private func make(_ given: String, _ latin: String, _ rank: String, vernacular: String?) -> SiteHead.SiteClass {
        SiteHead.SiteClass(
            name: given, scientificName: latin, taxonRank: rank, vernacularName: vernacular,
            lineage: lineage(of: latin), examples: 0)
    }

    /// The taxa above a Latin name, nearest first: WordNet's member links until a taxon of the model's taxonomy,
    /// then that taxon's lineage; a binomial's genus when WordNet lacks it.
    public func lineage(of latin: String) -> [String] {
        var names: [String] = []
        let words = latin.split(separator: " ")
        var synset = wordNet?.synset(named: latin)
        if synset == nil, words.count == 2 { synset = wordNet?.synset(named: String(words[0])) }
        if words.count == 2 { names.append(String(words[0])) }
        // Member links upward; where they stop (`Giraffidae` is a member of nothing), the nearest hypernym of the
        // name itself that is a member of a taxon continues the chain (`giraffe` is a kind of ruminant, a member of
        // Ruminantia).
        var current = synset
        // A species WordNet links to no genus (the capybara) continues from its genus's own links.
        if words.count == 2, let species = synset, wordNet?.holonymTaxon(species) == nil,
            let genus = wordNet?.synset(named: String(words[0]))
        {
            current = genus
        }
        var origin = synset
        var steps = 0
        while let at = current, steps < 60 {
            steps += 1
            if let last = names.last, let index = taxonomy?.taxa.firstIndex(where: { $0.name == last }) {
                return names + modelLineage(above: index)
            }
            if let next = wordNet?.holonymTaxon(at), next.taxon.name != latin {
                if !names.contains(next.taxon.name) { names.append(next.taxon.name) }
                current = next.synset
                continue
            }
            origin = origin.flatMap { wordNet?.hypernym($0) }
            current = origin
        }
        if let last = names.last, let index = taxonomy?.taxa.firstIndex(where: { $0.name == last }) {
            return names + modelLineage(above: index)
        }
        return names
    }

    private func modelLineage(above index: Int) -> [String] {
        taxonomy.flatMap { $0.ancestors(of: $0.taxa[index].name) } ?? []
    }

    /// A capitalised word, or two, the second in lower case: how Latin names are written.
    static func isLatin(_ name: String) -> Bool {
        let words = name.split(separator: " ")
        guard (1...2).contains(words.count) else { return false }
        let letters = { (word: Substring) in word.allSatisfy { $0.isLetter && $0.isASCII } && word.count >= 2 }
        guard words.allSatisfy(letters), words[0].first!.isUppercase,
            words[0].dropFirst().allSatisfy(\.isLowercase)
        else { return false }
        return words.count == 1 || words[1].allSatisfy(\.isLowercase)
    }

    /// The rank that the zoological code's family-group endings give.
    static func rankFromEnding(_ name: String) -> String? {
        if name.hasSuffix("idae") { return "family" }
        if name.hasSuffix("inae") { return "subfamily" }
        return nil
    }
}

/// The parts of WordNet 3.0's noun database (Debian `wordnet-base`) that name animals: lemmas, hypernyms and
/// member holonyms, read by byte offset from `data.noun` and looked up in `index.noun`.
public final class WordNet: @unchecked Sendable {
    /// A synset's byte offset in `data.noun`.
    public typealias Synset = Int
    public struct Taxon: Sendable, Equatable {
        public var name: String
        public var rank: String
    }

    private let data: [UInt8]
    private var index: [String: [Int]] = [:]
    public static let defaultFolder = "/usr/share/wordnet"

    /// Opens the database.
    /// - Parameter folder: Where `index.noun` and `data.noun` are.
    /// - Returns: nil when they cannot be read.
    public init?(folder: String = WordNet.defaultFolder) {
        guard let data = FileManager.default.contents(atPath: folder + "/data.noun"),
            let index = FileManager.default.contents(atPath: folder + "/index.noun")
        else { return nil }
        self.data = Array(data)
        for line in index.split(separator: 0x0A) where line.first != 0x20 {
            let fields = line.split(separator: 0x20)
            guard fields.count > 4, let senses = Int(String(decoding: fields[2], as: UTF8.self)) else { continue }
            let offsets = fields.suffix(senses).compactMap { Int(String(decoding: $0, as: UTF8.self)) }
            self.index[String(decoding: fields[0], as: UTF8.self)] = offsets
        }
    }

    /// A name's noun sense (any case, spaces or underscores): the most common one that is a member of a taxon
    /// (`Equus asinus` is first the African wild ass, which WordNet places in no genus, then the domestic ass),
    /// else the most common.
    public func synset(named name: String) -> Synset? {
        guard let senses = index[name.lowercased().replacing(" ", with: "_")] else { return nil }
        return senses.first { holonymTaxon($0) != nil } ?? senses.first
    }

    struct Entry {
        var lemmas: [String]
        var pointers: [(symbol: String, offset: Int)]
    }

    func entry(_ offset: Synset) -> Entry? {
        guard offset >= 0, offset < data.count else { return nil }
        var end = offset
        while end < data.count, data[end] != 0x0A { end += 1 }
        let line = String(decoding: data[offset..<end], as: UTF8.self)
        let body = line.split(separator: "|", maxSplits: 1)[0]
        let fields = body.split(separator: " ").map(String.init)
        guard fields.count > 4, let words = Int(fields[3], radix: 16) else { return nil }
        var lemmas: [String] = []
        for w in 0..<words where 4 + 2 * w < fields.count {
            lemmas.append(fields[4 + 2 * w].replacing("_", with: " "))
        }
        var at = 4 + 2 * words
        guard at < fields.count, let count = Int(fields[at]) else { return Entry(lemmas: lemmas, pointers: []) }
        at += 1
        var pointers: [(String, Int)] = []
        for _ in 0..<count where at + 3 < fields.count {
            if fields[at + 2] == "n", let target = Int(fields[at + 1]) { pointers.append((fields[at], target)) }
            at += 4
        }
        return Entry(lemmas: lemmas, pointers: pointers)
    }

    /// The taxon a synset names: its capitalised Latin lemma, ranked by a lemma such as `family Cervidae`, a
    /// binomial as a species; nil when the synset is not a taxon.
    public func taxon(_ synset: Synset) -> Taxon? {
        guard let entry = entry(synset) else { return nil }
        for lemma in entry.lemmas {
            let words = lemma.split(separator: " ")
            if words.count == 2, SiteNames.rankWords.contains(String(words[0])), SiteNames.isLatin(String(words[1])) {
                return Taxon(name: String(words[1]), rank: String(words[0]))
            }
        }
        if let binomial = entry.lemmas.first(where: { $0.split(separator: " ").count == 2 && SiteNames.isLatin($0) }) {
            return Taxon(name: binomial, rank: "species")
        }
        return nil
    }

    /// The taxon a synset is, or the one it is a member of (`deer` → `Cervidae`), with that taxon's synset.
    public func taxonBelow(_ synset: Synset) -> (taxon: Taxon, synset: Synset)? {
        if let taxon = taxon(synset) { return (taxon, synset) }
        return holonymTaxon(synset)
    }

    /// The taxon a synset is a member of (WordNet's member holonym), with its synset.
    public func holonymTaxon(_ synset: Synset) -> (taxon: Taxon, synset: Synset)? {
        guard let entry = entry(synset) else { return nil }
        for pointer in entry.pointers where pointer.symbol == "#m" {
            if let taxon = taxon(pointer.offset) { return (taxon, pointer.offset) }
        }
        return nil
    }

    /// A synset's first hypernym.
    public func hypernym(_ synset: Synset) -> Synset? {
        entry(synset)?.pointers.first { $0.symbol == "@" || $0.symbol == "@i" }?.offset
    }

    /// A synset's first lemma that is not Latin, as an English name.
    public func vernacular(_ synset: Synset) -> String? {
        entry(synset)?.lemmas.first { lemma in
            !SiteNames.isLatin(lemma) && !lemma.first!.isUppercase
                && !SiteNames.rankWords.contains(String(lemma.split(separator: " ")[0]))
        }
    }
}

extension SiteNames {
    /// Words WordNet puts before a Latin name to give its rank (`family Cervidae`).
    static let rankWords: Set<String> = [
        "genus", "family", "subfamily", "superfamily", "order", "suborder", "superorder", "infraorder", "class",
        "subclass", "superclass", "phylum", "subphylum", "kingdom", "tribe",
    ]
}

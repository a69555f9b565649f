import Foundation
import Inference
import TestSupport
import Testing

@testable import Labels

/// The written label: observation types, the roll-up along the bundled model's taxonomy, a site's species list.
/// Logits are built from chosen probabilities (the logarithms), so the expected sums are known exactly.
@Suite struct LabelerTests {
    static let modelPath = Fixtures.repositoryRoot.appendingPathComponent("Models/efficientnet-lite0.safetensors").path
    static let metadata: ModelMetadata? = try? Model.load(path: modelPath).metadata

    /// Logits whose softmax gives `chosen` their probabilities, 1e-7 to every other class, and what is left to
    /// rapeseed (class 984, a plant: neither animal, person nor vehicle).
    static func logits(_ chosen: [Int: Float], classes: Int = 1000) -> [Float] {
        let sink = 984
        let others: Float = 1e-7
        let left = 1 - chosen.values.reduce(0, +) - others * Float(classes - chosen.count - 1)
        return (0..<classes).map { log(chosen[$0] ?? ($0 == sink ? left : others)) }
    }

    static func label(_ chosen: [Int: Float], taxa: [String] = [], threshold: Float = 0.5) throws -> ImageLabel {
        let labeler = try Labeler(metadata: try #require(metadata), rollupThreshold: threshold, taxa: taxa)
        return labeler.label(logits(chosen)[...])
    }

    // Probability sums below are of at most 1000 float32 terms: within 1000 * 2^-24 = 6e-5 of exact, plus the
    // softmax's own rounding of a few ulp per term and the 1e-7 given to each of up to 1000 other classes (1e-4);
    // 1e-3 covers all three and is far below every margin the tests use (0.02 or more).
    static let sumTolerance: Float = 1e-3

    @Test func dogBreedsRollUpToTheirSpecies() throws {
        // German shepherd 0.3, malamute 0.15, Siberian husky 0.1: no breed reaches 0.5, the species does.
        let label = try Self.label([235: 0.3, 249: 0.15, 250: 0.1])
        #expect(label.observationType == .animal)
        #expect(label.written.scientificName == "Canis familiaris" && label.written.taxonRank == "species")
        #expect(label.written.vernacularName == "dog")
        #expect(abs(label.written.probability - 0.55) < Self.sumTolerance)
        #expect(label.top.map(\.index).prefix(2) == [984, 235], "the raw top classes: rapeseed 0.45, then the breed")
    }

    @Test func splitMassClimbsToGenusFamilyClassThenAnimal() throws {
        // red fox 0.3 + kit fox 0.25: genus Vulpes.
        let vulpes = try Self.label([277: 0.3, 278: 0.25])
        #expect(vulpes.written.scientificName == "Vulpes" && vulpes.written.taxonRank == "genus")
        // red fox 0.3 + grey fox (Urocyon) 0.25: no genus has 0.5, family Canidae does.
        let canidae = try Self.label([277: 0.3, 280: 0.25])
        #expect(canidae.written.scientificName == "Canidae" && canidae.written.taxonRank == "family")
        // red fox 0.3 + tabby cat 0.25: order Carnivora.
        let carnivora = try Self.label([277: 0.3, 281: 0.25])
        #expect(carnivora.written.scientificName == "Carnivora" && carnivora.written.taxonRank == "order")
        // tench (a fish) 0.3 + goldfinch (a bird) 0.25: no class has 0.5; the label is `animal`, at 0.55.
        let animal = try Self.label([0: 0.3, 11: 0.25])
        #expect(animal.observationType == .animal)
        #expect(animal.written.scientificName == "Animalia" && animal.written.taxonRank == "kingdom")
        #expect(animal.written.vernacularName == "animal")
        #expect(abs(animal.written.probability - animal.animalProbability) < Self.sumTolerance)
        // A lower threshold stops deeper: red fox alone at 0.3 is written when 0.25 suffices.
        let lenient = try Self.label([277: 0.3, 280: 0.25], threshold: 0.25)
        #expect(lenient.written.scientificName == "Vulpes vulpes" && lenient.written.taxonRank == "species")
    }

    @Test func peopleVehiclesAndBlankFrames() throws {
        let diver = try Self.label([983: 0.7])
        #expect(diver.observationType == .human && diver.written.vernacularName == "scuba diver")
        #expect(diver.written.scientificName == nil && diver.written.taxonRank == nil)
        let pickup = try Self.label([717: 0.6])
        #expect(pickup.observationType == .vehicle && pickup.written.vernacularName == "pickup")
        // Buckeye (a plant) 0.9: not an animal, person or vehicle: blank, with the probability of no animal.
        let blank = try Self.label([990: 0.9])
        #expect(blank.isBlank && blank.written.scientificName == nil)
        #expect(abs(blank.written.probability - (1 - blank.animalProbability)) < Self.sumTolerance)
        // An animal at the blank threshold wins over a person below it.
        let both = try Self.label([277: 0.52, 983: 0.45])
        #expect(both.observationType == .animal)
    }

    @Test func aSiteListMovesUnlistedMassUpToACommonAncestor() throws {
        // Bighorn 0.45, sorrel (a horse) 0.2: without a list only the class Mammalia reaches 0.5 ...
        let open = try Self.label([349: 0.45, 339: 0.2])
        #expect(open.written.scientificName == "Mammalia" && open.written.taxonRank == "class")
        // ... and with Equidae listed too: the bighorn's 0.45 counts from Mammalia up, never toward Equus.
        let listed = try Self.label([349: 0.45, 339: 0.2], taxa: ["Equidae", "vulpes vulpes"])
        #expect(listed.written.scientificName == "Mammalia")
        #expect(listed.top.map(\.index).prefix(2) == [349, 984], "the raw top classes are kept as they are")
        // When the listed taxon holds the evidence, the label is as deep as it goes: sorrel 0.55 -> Equus caballus.
        let horse = try Self.label([339: 0.55, 349: 0.1], taxa: ["Equidae"])
        #expect(horse.written.scientificName == "Equus caballus" && horse.written.taxonRank == "species")
        #expect(abs(horse.written.probability - 0.55) < Self.sumTolerance, "no mass is invented")
        // A red fox at 0.9 on a list of Equidae is an animal, written as the common ancestor Mammalia at 0.9,
        // not as a confident horse; on a list of herons (Ardeidae, a bird family) it climbs to Chordata's
        // level, which the roll-up skips, so it is written `Animalia`.
        let fox = try Self.label([277: 0.9], taxa: ["Equidae"])
        #expect(fox.observationType == .animal)
        #expect(fox.written.scientificName == "Mammalia" && abs(fox.written.probability - 0.9) < Self.sumTolerance)
        let foxAmongHerons = try Self.label([277: 0.9], taxa: ["Ardeidae"])
        #expect(foxAmongHerons.written.scientificName == "Animalia")
    }

    @Test func unknownTaxaAreRefusedByName() throws {
        let metadata = try #require(Self.metadata)
        do {
            _ = try Labeler(metadata: metadata, taxa: ["Ardeidae", "Equidea"])
            Issue.record("an unknown taxon was accepted")
        } catch let error as InferenceError {
            #expect(error.code == .invalidArgument && error.message.contains("\"Equidea\" is not a taxon"))
        }
        var bare = metadata
        bare.taxonomy = nil
        #expect(throws: InferenceError.self) { try Labeler(metadata: bare, taxa: ["Ardeidae"]) }
    }

    @Test func withoutATaxonomyTheClassNameIsWritten() throws {
        var bare = try #require(Self.metadata)
        bare.taxonomy = nil
        let label = try Labeler(metadata: bare).label(Self.logits([335: 0.8])[...])
        #expect(label.observationType == .animal)
        #expect(label.written.scientificName == bare.classes.names[335] && label.written.taxonRank == nil)
    }

    @Test func labelerSoftmaxTopKAndBlank() throws {
        let metadata = try #require(Self.metadata)
        var logits = [Float](repeating: 0, count: 1000)
        logits[335] = 10  // fox squirrel: an animal
        let squirrel = try Labeler(metadata: metadata, topK: 3).label(logits[...])
        #expect(squirrel.top.map(\.index).first == 335)
        #expect(squirrel.top.count == 3)
        #expect(!squirrel.isBlank && squirrel.animalProbability > 0.9)
        logits[335] = 0
        logits[990] = 10  // buckeye: not an animal
        let plant = try Labeler(metadata: metadata).label(logits[...])
        #expect(plant.isBlank && plant.animalProbability < 0.1)
        let total = Labeler.softmax(logits[...]).reduce(0, +)
        // 1000 float32 terms summed in order err by at most 999 * 2^-24 = 6e-5 of their sum (Higham's gamma_n),
        // and each exp and division by a few ulp (1e-7) more.
        #expect(abs(total - 1) < 1e-4)
    }
}

import Foundation
import Inference
import TestSupport
import Testing

@testable import Labels

/// A site's own head: the regression it is fitted with, its file, its names, and how the labeller uses it.
@Suite struct SiteHeadTests {
    static var metadata: ModelMetadata? { LabelerTests.metadata }

    /// Two Gaussian clouds in `d` dimensions, from a fixed linear congruential sequence.
    static func clouds(n: Int, d: Int, separation: Float) -> (x: [Float], labels: [Int]) {
        var state: UInt64 = 12345
        func uniform() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24)
        }
        var x: [Float] = []
        var labels: [Int] = []
        for i in 0..<n {
            let label = i % 3
            labels.append(label)
            for j in 0..<d {
                // Sum of four uniforms: near-Gaussian noise of variance 1/3; class k shifts feature k.
                let noise = (0..<4).map { _ in uniform() - 0.5 }.reduce(0, +)
                x.append(noise + (j == label ? separation : 0))
            }
        }
        return (x, labels)
    }

    @Test func theFitReachesTheOptimumAndIsBitForBitRepeatable() {
        let (x, labels) = Self.clouds(n: 300, d: 8, separation: 1.5)
        var problem = LogisticRegression(features: 8, classes: 3, l2: 0.01)
        problem.tolerance = 1e-5
        let fit = problem.fit(x, labels: labels)
        // At the optimum the gradient vanishes: (P - Y)^T X / n + l2 W = 0 and the biases' column means are 0.
        // Evaluated here in Double; the fit's own float32 gradient stopped under 1e-5 per component, and the
        // difference between a float32 and a double evaluation of these sums of 300 terms of size ~1 is at most
        // about 300 * 2^-24 ~ 2e-5: 1e-4 bounds both.
        let p = problem.probabilities(x, rows: 300, fit: fit)
        var gradient = [Double](repeating: 0, count: 3 * 8 + 3)
        for r in 0..<300 {
            for c in 0..<3 {
                let residual = Double(p[r * 3 + c]) - (labels[r] == c ? 1 : 0)
                for j in 0..<8 { gradient[c * 8 + j] += residual * Double(x[r * 8 + j]) / 300 }
                gradient[24 + c] += residual / 300
            }
        }
        for c in 0..<3 { for j in 0..<8 { gradient[c * 8 + j] += 0.01 * Double(fit.weights[c * 8 + j]) } }
        #expect(gradient.map(abs).max()! < 1e-4, "largest gradient component \(gradient.map(abs).max()!)")
        #expect(fit.iterations > 1 && fit.iterations < problem.maxIterations)
        // Each class's own feature carries the largest weight of its row.
        for c in 0..<3 {
            let row = fit.weights[(c * 8)..<((c + 1) * 8)]
            #expect(row.indices.max { row[$0] < row[$1] }! - c * 8 == c)
        }
        let again = problem.fit(x, labels: labels)
        #expect(again.weights == fit.weights && again.bias == fit.bias)
        for r in 0..<300 {
            let sum = p[(r * 3)..<(r * 3 + 3)].reduce(0, +)
            #expect(abs(sum - 1) < 1e-5)  // three float32 terms and a division: a few ulp
        }
    }

    /// A head over `d` features whose class c fires on feature c (weights 10 on it, 0 elsewhere).
    static func head(classes: [SiteHead.SiteClass], d: Int = 1280, modelID: String = "abc") -> SiteHead {
        let k = classes.count
        var weights = [Float](repeating: 0, count: k * d)
        for c in 0..<k { weights[c * d + c] = 10 }
        return SiteHead(
            modelID: modelID, modelName: "test", classes: classes, mean: [Float](repeating: 0, count: d),
            inverseScale: [Float](repeating: 1, count: d),
            levels: [SiteHead.Level(kept: d, weights: weights, bias: [Float](repeating: 0, count: k))],
            centroids: (0..<k).flatMap { c in (0..<d).map { $0 == c ? Float(1) : 0 } },
            radius: [Float](repeating: 0.5, count: k), l2: 0.01, threshold: 0.6, validation: nil)
    }

    static let deer = SiteHead.SiteClass(
        name: "deer", scientificName: "Cervidae", taxonRank: "family", vernacularName: "deer",
        lineage: ["Artiodactyla", "Mammalia", "Chordata", "Animalia"], examples: 20)
    static let blank = SiteHead.SiteClass(
        name: "blank", scientificName: nil, taxonRank: nil, vernacularName: nil, lineage: [], examples: 20)

    static func features(_ hot: Int, _ value: Float = 1) -> ArraySlice<Float> {
        var row = [Float](repeating: 0, count: 1280)
        row[hot] = value
        return row[...]
    }

    @Test func theLabellerWritesTheSiteClassOnlyWhereTheHeadIsConfident() throws {
        var labeler = try Labeler(metadata: try #require(Self.metadata))
        labeler.siteHead = Self.head(classes: [Self.deer, Self.blank])
        /// The label the model gives chosen probabilities, and the label written with the site head's features.
        func labels(_ chosen: [Int: Float], _ features: ArraySlice<Float>) -> (model: ImageLabel, written: ImageLabel) {
            let probabilities = Labeler.softmax(LabelerTests.logits(chosen)[...])
            let model = labeler.label(probabilities: probabilities)
            return (model, labeler.withSiteHead(model, probabilities: probabilities, features: features, level: 0))
        }
        // An animal the model is unsure of: three dog breeds at 0.3, 0.15 and 0.1, written Canis familiaris at 0.55,
        // under the 0.6 ceiling. Feature 0 at 1: the deer's probability 0.99995, within its radius: written.
        let unsureDog: [Int: Float] = [235: 0.3, 249: 0.15, 250: 0.1]
        let (dog, deer) = labels(unsureDog, Self.features(0))
        #expect(dog.written.scientificName == "Canis familiaris" && dog.written.probability < SiteHead.defaultCeiling)
        #expect(deer.bySiteHead && deer.observationType == .animal)
        #expect(deer.written.scientificName == "Cervidae" && deer.written.taxonRank == "family")
        #expect(deer.top == dog.top, "the model's top classes are kept")
        #expect(deer.model?.label.scientificName == "Canis familiaris", "and what the model would have written")
        // Feature 1: the site head is sure it is blank.
        let empty = labels(unsureDog, Self.features(1)).written
        #expect(empty.bySiteHead && empty.observationType == .blank && empty.written.scientificName == nil)
        // The deer's feature fires, but the image is mostly something else: cosine distance 1 - 1/sqrt(5) = 0.55
        // from the deer's centroid, beyond its 0.5 radius: the model's label stands.
        var far = Self.features(0)
        far[5] = 2
        #expect(labels(unsureDog, far).written == dog)
        // Nothing fires: 0.5 each, under the 0.6 threshold: the model's label stands.
        #expect(labels(unsureDog, Self.features(2)).written == dog)
        // A dog the model is sure of (0.9, at or above the ceiling) stays a dog, and is not made blank either.
        let (sure, kept) = labels([235: 0.9], Self.features(0))
        #expect(kept == sure && labels([235: 0.9], Self.features(1)).written == sure)
        // A frame the model is sure is empty (a plant at 0.9, animal mass under the 0.2 floor) stays blank; one
        // with some animal mass (0.3 to a dog, still blank to the model) becomes the site's animal.
        let (plant, plantWritten) = labels([:], Self.features(0))
        #expect(plant.observationType == .blank && plantWritten == plant)
        let (faint, faintWritten) = labels([235: 0.3], Self.features(0))
        #expect(faint.observationType == .blank && faintWritten.written.scientificName == "Cervidae")
        // A bird the model is unsure of (goldfinch 0.55, Aves) is not turned into a deer (Mammalia): most of the
        // animal mass must lie in the site class's class of animal.
        let (bird, birdWritten) = labels([11: 0.55], Self.features(0))
        #expect(bird.observationType == .animal && labeler.classTaxon(of: bird.written.scientificName!) == "Aves")
        #expect(birdWritten == bird)
        // A person is the model's to call, whatever the site head says.
        let (person, personWritten) = labels([983: 0.9], Self.features(0))  // scuba diver
        #expect(person.observationType == .human && personWritten == person)
        // No features (a ring node of an older trapline): the model's label.
        #expect(labels(unsureDog, []).written == dog)
    }

    @Test func aPrunedHeadReadsItsOwnRegressionOverTheKeptFeatures() {
        var head = Self.head(classes: [Self.deer, Self.blank], d: 4)
        // Level 1 keeps 2 features and its regression reverses the classes.
        head.levels.append(SiteHead.Level(kept: 2, weights: [0, 10, 10, 0], bias: [0, 0]))
        let row: [Float] = [1, 0, 0, 0]
        #expect(head.probabilities(row[...], level: 0)[0] > 0.99)
        #expect(head.probabilities(row[...], level: 1)[1] > 0.99)
        #expect(head.probabilities(row[...], level: 7)[0] > 0.99, "an unknown level reads full width")
    }

    @Test func theFileRoundTripsAndBadFilesAreRefused() throws {
        try withTemporaryDirectory { dir in
            let head = Self.head(classes: [Self.deer, Self.blank], d: 16)
            let path = dir.file("head.json")
            try head.write(to: path)
            #expect(try SiteHead.load(path: path) == head)
            #expect(try head.encoded() == head.encoded())
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["head.json"])
            // Another model file, or another feature width: refused, naming why.
            #expect(throws: InferenceError.self) { try head.check(modelID: "other", featureCount: 16) }
            do {
                try head.check(modelID: "other", featureCount: 16)
            } catch let error as InferenceError {
                #expect(error.message.contains("learned with another model file"))
            }
            #expect(throws: InferenceError.self) { try head.check(modelID: "abc", featureCount: 1280) }
            try head.check(modelID: "abc", featureCount: 16)
            // Damaged files.
            var wrong = head
            wrong.levels[0].weights.removeLast()
            try Data(try wrong.encoded()).write(to: URL(fileURLWithPath: dir.file("wrong.json")))
            #expect(throws: InferenceError.self) { try SiteHead.load(path: dir.file("wrong.json")) }
            try Data("{\"format\": 1}".utf8).write(to: URL(fileURLWithPath: dir.file("short.json")))
            #expect(throws: InferenceError.self) { try SiteHead.load(path: dir.file("short.json")) }
            #expect(throws: InferenceError.self) { try SiteHead.load(path: dir.file("missing.json")) }
            // A folder that does not exist: an error, and nothing left behind.
            #expect(throws: InferenceError.self) { try head.write(to: dir.file("no/such/head.json")) }
        }
    }

    static var names: SiteNames {
        get throws {
            let wordNet = try #require(WordNet(), "WordNet (wordnet-base) is installed by scripts/setup.sh")
            return SiteNames(taxonomy: try #require(metadata).taxonomy, wordNet: wordNet)
        }
    }

    @Test func namesResolveToTaxaWithTheirLineage() throws {
        let names = try Self.names
        let roe = try names.resolve("roe deer")
        #expect(roe.scientificName == "Capreolus capreolus" && roe.taxonRank == "species")
        #expect(roe.vernacularName == "roe deer")
        #expect(roe.lineage.prefix(2) == ["Capreolus", "Cervidae"] && roe.lineage.contains("Mammalia"))
        let deer = try names.resolve("deer")
        #expect(deer.scientificName == "Cervidae" && deer.taxonRank == "family" && deer.vernacularName == "deer")
        let latin = try names.resolve("Capreolus_capreolus")
        #expect(latin.scientificName == "Capreolus capreolus" && latin.lineage == roe.lineage)
        let family = try names.resolve("Cervidae")
        #expect(family.taxonRank == "family" && family.lineage.contains("Artiodactyla"))
        // A taxon the model knows takes the model's lineage.
        let fox = try names.resolve("Vulpes vulpes")
        #expect(fox.lineage.first == "Vulpes" && fox.lineage.contains("Canidae"))
        let given = try names.resolve("Cervinae (subfamily)")
        #expect(given.scientificName == "Cervinae" && given.taxonRank == "subfamily")
        // Unknown to WordNet and the model, but the zoological code's ending gives the rank.
        #expect(try names.resolve("Zzyzxidae").taxonRank == "family")
        #expect(try names.resolve("BLANK").isBlank)
        for bad in ["qwertyuiop beast", "Zzyzx", "Cervinae (tribe-ish)", "chair"] {
            #expect(throws: InferenceError.self, "\(bad)") { try names.resolve(bad) }
        }
    }

    @Test func withoutWordNetEnglishNamesAreRefusedClearly() throws {
        let names = SiteNames(taxonomy: try #require(Self.metadata).taxonomy, wordNet: nil)
        #expect(try names.resolve("Capreolus capreolus").taxonRank == "species")
        do {
            _ = try names.resolve("roe deer")
            Issue.record("an English name resolved without WordNet")
        } catch let error as InferenceError {
            #expect(error.message.contains("apt install wordnet-base"))
        }
    }
}

/// An event's taxon is its frames' vote.
@Suite struct EventVoteTests {
    static func combiner(site: SiteHead? = nil) throws -> BurstCombiner {
        var labeler = try Labeler(metadata: try #require(LabelerTests.metadata))
        labeler.siteHead = site
        return BurstCombiner(labeler: labeler, settings: BurstSettings())
    }

    static func votes(_ counts: [(String?, Int)], type: ObservationType = .animal) -> [BurstCombiner.EventVote] {
        counts.flatMap { name, count in
            Array(
                repeating: BurstCombiner.EventVote(type: name == nil ? .blank : type, scientificName: name),
                count: count)
        }
    }

    @Test func theWadingBirdBurstIsWrittenAves() throws {
        // The burst of the brief: Aves 5, Egretta albus 2, Animalia 3, Chondrichthyes 1 (and blanks, which do not
        // vote). Aves is supported by 7 of 11 animal frames; Egretta albus by 2; Chordata by 8, Animalia by 11.
        let taxon = try Self.combiner().eventTaxon(
            Self.votes([("Aves", 5), ("Egretta albus", 2), ("Animalia", 3), ("Chondrichthyes", 1), (nil, 4)]))
        #expect(taxon?.scientificName == "Aves" && taxon?.taxonRank == "class")
        #expect(abs((taxon?.probability ?? 0) - 7.0 / 11) < 1e-6)
    }

    @Test func aLoneOddFrameIsOutvotedAndAClearMajorityIsNeverCoarsened() throws {
        let combiner = try Self.combiner()
        // Four frames agree on a species and one odd frame says a dog: the species stands.
        #expect(
            combiner.eventTaxon(Self.votes([("Vulpes vulpes", 4), ("Canis familiaris", 1)]))?.scientificName
                == "Vulpes vulpes")
        // Three of five still make a majority; two and two do not, and their family has all four.
        #expect(
            combiner.eventTaxon(Self.votes([("Vulpes vulpes", 3), ("Canis familiaris", 2)]))?.scientificName
                == "Vulpes vulpes")
        #expect(
            combiner.eventTaxon(Self.votes([("Vulpes vulpes", 2), ("Canis familiaris", 2)]))?.scientificName
                == "Canidae")
        // A coarse frame does not pull a clear majority up: 3 of 4 name the species.
        #expect(
            combiner.eventTaxon(Self.votes([("Egretta albus", 3), ("Animalia", 1)]))?.scientificName
                == "Egretta albus")
        // A bird and a mammal of three frames share Chordata (2 of 3); of four, no majority below the kingdom.
        #expect(
            combiner.eventTaxon(Self.votes([("Aves", 1), ("Mammalia", 1), ("Animalia", 1)]))?.scientificName
                == "Chordata")
        #expect(
            combiner.eventTaxon(Self.votes([("Aves", 1), ("Mammalia", 1), ("Animalia", 2)]))?.scientificName
                == "Animalia")
        #expect(combiner.eventTaxon(Self.votes([(nil, 3)])) == nil)
    }

    @Test func siteClassesVoteWithTheirLineage() throws {
        let combiner = try Self.combiner(site: SiteHeadTests.head(classes: [SiteHeadTests.deer, SiteHeadTests.blank]))
        // Three deer frames and two the model called an antelope-like bovid: Cervidae has 3 of 5.
        let taxon = combiner.eventTaxon(Self.votes([("Cervidae", 3), ("Bovidae", 2)]))
        #expect(taxon?.scientificName == "Cervidae" && taxon?.taxonRank == "family" && taxon?.vernacularName == "deer")
        // Two and two: they meet at the order the deer's lineage names.
        #expect(combiner.eventTaxon(Self.votes([("Cervidae", 2), ("Bovidae", 2)]))?.scientificName == "Artiodactyla")
    }

    @Test func theEventTypeFollowsMostOfItsFrames() throws {
        let combiner = try Self.combiner()
        let classes = 1000
        // The mean of the kept probabilities says animal (a dog), but four of five shown frames are people.
        var dog = [Float](repeating: 0, count: classes)
        dog[235] = 1
        var person = [Float](repeating: 0, count: classes)
        person[983] = 0.2
        let votes =
            Array(repeating: BurstCombiner.EventVote(type: .human, scientificName: nil), count: 4)
            + [BurstCombiner.EventVote(type: .animal, scientificName: "Canis familiaris")]
        let label = combiner.eventLabel(
            probabilities: [person, person, person, person, dog], frames: 5, votes: votes)
        #expect(label?.observationType == .human)
    }
}

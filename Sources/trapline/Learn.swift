import ArgumentParser
import Catalog
import FoundationEssentials
import Imaging
import Inference
import Labels

#if canImport(Glibc)
    import Glibc
#endif

struct Learn: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Learn a site's own classes (deer, say) from labelled images: writes a site head file.",
        discussion: """
            Examples come from FOLDER/<name>/*.jpg (a subfolder of <name> is one burst), from a Camtrap DP \
            package's observations (--from-camtrap-dp) or from a MegaDetector file with classifications \
            (--from-megadetector). <name> is a scientific name (Capreolus capreolus, Cervidae), a name with its \
            rank (Cervinae (subfamily)), an English name WordNet resolves (roe deer), or `blank`. Each image is \
            seen as labelling sees it: the animal's crop when its burst localises one, else the whole frame; \
            the model's pooled features of that image train an L2-regularised multinomial logistic regression \
            (one per width level of the network's head). Prints the cross-validated accuracy, each class's \
            recall and the confusion table, then writes the file whole (Ctrl-C leaves none). Use it with \
            `labels.siteHead: FILE` in the configuration, or `trapline classify --site-head FILE`. The same \
            images, --out name and --threads always give the same file.
            """
    )

    @Argument(help: "Folders holding one subfolder of JPEGs per class.", completion: .directory)
    var folders: [String] = []

    @Option(help: "Where to write the site head.")
    var out = "site-head.json"

    @Option(help: "A Camtrap DP package folder whose observations label its media.")
    var fromCamtrapDp: String?

    @Option(help: "A MegaDetector output file with classifications; image paths are relative to its folder.")
    var fromMegadetector: String?

    @Option(help: "The detection confidence a MegaDetector detection needs to count (else the image is blank).")
    var detectionThreshold = 0.2

    @Option(help: "Model file (default: $TRAPLINE_MODEL, the installed model, or the source tree's Models/).")
    var model: String?

    @Option(help: "The site head's probability a class needs for the label to be written from it.")
    var threshold: Float = SiteHeadTrainer.defaultThreshold

    @Option(help: "The model's animal mass a frame it calls blank needs before the site head may call it an animal.")
    var animalFloor: Float = SiteHead.defaultAnimalFloor

    @Option(
        help:
            "The model's probability at or above which its own order, family, genus or species stands against the site head (above 1: never)."
    )
    var ceiling: Float = SiteHead.defaultCeiling

    @Option(help: "L2 penalty of the regression (on standardised features).")
    var l2: Float = SiteHeadTrainer.defaultL2

    @Option(help: "Folds of the cross-validation.")
    var folds = 5

    @Option(help: "Threads for the network.")
    var threads = 1

    @Option(help: "WordNet's folder, for English names.")
    var wordnet = WordNet.defaultFolder

    func validate() throws {
        guard !folders.isEmpty || fromCamtrapDp != nil || fromMegadetector != nil else {
            throw ValidationError("Name at least one folder, --from-camtrap-dp or --from-megadetector.")
        }
        guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be in 0...1.") }
        guard (0...1).contains(animalFloor) else { throw ValidationError("--animal-floor must be in 0...1.") }
        guard ceiling >= 0 else { throw ValidationError("--ceiling must be 0 or more.") }
        guard l2 > 0, l2.isFinite else { throw ValidationError("--l2 must be positive.") }
        guard (2...20).contains(folds) else { throw ValidationError("--folds must be 2...20.") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1...64.") }
        guard (0...1).contains(detectionThreshold) else {
            throw ValidationError("--detection-threshold must be in 0...1.")
        }
    }

    func run() throws {
        StopSignal.install()
        let located = try CLISupport.locateModel(model)
        let loaded = located.model
        var examples = try LearnSources.folders(folders)
        if let fromCamtrapDp { examples.append(contentsOf: try LearnSources.camtrapDP(fromCamtrapDp)) }
        if let fromMegadetector {
            examples.append(contentsOf: try LearnSources.megaDetector(fromMegadetector, threshold: detectionThreshold))
        }
        var skipped: [(String, String)] = []
        examples = try LearnSources.checked(examples, skipped: &skipped)
        // Names, each once.
        let names = SiteNames(taxonomy: loaded.metadata.taxonomy, wordNet: WordNet(folder: wordnet))
        let classNames = Set(examples.map(\.className)).sorted()
        var classes: [SiteHead.SiteClass] = []
        var problems: [String] = []
        for name in classNames {
            do { classes.append(try names.resolve(name)) } catch let error as InferenceError {
                problems.append(error.message)
            }
        }
        guard problems.isEmpty else { throw CLIError(problems.joined(separator: "\n")) }
        // Two classes sharing a taxon would split its examples between them.
        var byTaxon: [String: String] = [:]
        for c in classes {
            let key = c.scientificName ?? "blank"
            if let other = byTaxon[key] {
                throw CLIError("\"\(other)\" and \"\(c.name)\" are both \(key): put their images in one folder")
            }
            byTaxon[key] = c.name
        }

        let engine = Engine(model: loaded, threads: threads)
        let labeler = try Labeler(metadata: loaded.metadata)
        let classifier = ImageClassifier(engine: engine, labeler: labeler)
        let extractor = FeatureExtractor(classifier: classifier, labeler: labeler)
        let progress = Progress(total: examples.count, what: "images")
        var rows: [[Float]] = []
        var labels: [Int] = []
        let classIndex = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
        for start in stride(from: 0, to: examples.count, by: 8) {
            if StopSignal.requested { throw CLIError("interrupted: nothing written") }
            let chunk = Array(examples[start..<min(examples.count, start + 8)])
            for (example, result) in zip(chunk, try extractor.features(chunk)) {
                switch result {
                case .success(let row):
                    rows.append(row)
                    labels.append(classIndex[example.className]!)
                case .failure(let error):
                    skipped.append((example.path, error.message))
                }
            }
            progress.update(min(examples.count, start + 8))
        }
        progress.finish()
        for (path, reason) in skipped { printError("skipped \(path): \(reason)") }
        var counts = [Int](repeating: 0, count: classNames.count)
        for label in labels { counts[label] += 1 }
        for (index, count) in counts.enumerated() { classes[index].examples = count }
        let tooFew = classes.filter { $0.examples < 2 }
        guard tooFew.isEmpty else {
            throw CLIError(
                "too few readable examples (at least 2 each, 5 or more advised): "
                    + tooFew.map { "\($0.name) has \($0.examples)" }.joined(separator: ", "))
        }
        guard classes.count >= 2 else { throw CLIError("a site head needs at least 2 classes (blank counts as one)") }
        for c in classes where c.examples < 5 {
            printError("warning: \(c.name) has only \(c.examples) examples; 5 or more make a steadier head")
        }

        var trainer = SiteHeadTrainer()
        trainer.l2 = l2
        trainer.threshold = threshold
        trainer.folds = folds
        let fits = Progress(total: 0, what: "fits")
        var head = trainer.fit(
            rows: rows, labels: labels, classes: classes,
            keptPerLevel: loaded.metadata.keptChannels[loaded.unitCount - 1], modelID: located.sha256,
            modelName: loaded.metadata.name
        ) { done, total in
            fits.total = total
            fits.update(done)
        }
        fits.finish()
        head.name = Self.headName(out)
        head.animalFloor = animalFloor
        head.ceiling = ceiling
        if StopSignal.requested { throw CLIError("interrupted: nothing written") }
        print(LearnReport.text(head))
        do { try head.write(to: out) } catch let error as InferenceError { throw CLIError(error.message) }
        print("wrote \(out): \(head.classes.count) classes, \(rows.count) examples")
    }

    static func headName(_ path: String) -> String {
        var name = String(path.split(separator: "/").last ?? "site-head")
        if name.hasSuffix(".json") { name.removeLast(5) }
        return name
    }
}

/// One labelled image.
struct LearnExample: Sendable {
    var path: String
    var className: String
    /// The burst it was shot in (this one included): a subfolder's JPEGs; only itself for a loose image.
    var burst: [String]
    /// Where its label came from, for messages (`deer/`, a package's observation).
    var source: String
}

/// Features of what labelling would see: the crop that named the frame, else the whole frame.
struct FeatureExtractor {
    let classifier: ImageClassifier
    let labeler: Labeler
    let planner: BurstPlanner
    let combiner: BurstCombiner

    init(classifier: ImageClassifier, labeler: Labeler) {
        self.classifier = classifier
        self.labeler = labeler
        let settings = BurstSettings()
        planner = BurstPlanner(preparer: classifier.preparer, settings: settings)
        combiner = BurstCombiner(labeler: labeler, settings: settings)
    }

    func features(_ examples: [LearnExample]) throws -> [Result<[Float], ImagingError>] {
        let planned = planner.plan(examples.map { BurstFrame(id: $0.path, path: $0.path, burst: $0.burst) })
        let levels = Array(repeating: 0, count: classifier.engine.model.unitCount)
        let (logits, features) = try classifier.outputs(for: planned.inputs, unitLevels: levels, features: true)
        // The features of the image that named each frame, as labelling would read them.
        return combiner.combine(planned, logits: logits.map { $0[...] }).map { result in
            result.map { features[$0.slot!] }
        }
    }
}

/// Progress on a terminal (standard error), redrawn in place; nothing when standard error is not a terminal.
final class Progress {
    var total: Int
    let what: String
    private let shown = isatty(2) == 1
    private var last = -1

    init(total: Int, what: String) {
        self.total = total
        self.what = what
    }

    func update(_ done: Int) {
        guard shown, done != last else { return }
        last = done
        writeError("\r\(done)/\(total) \(what)   ")
    }

    func finish() { if shown && last >= 0 { writeError("\n") } }
}

func printError(_ text: String) {
    writeError(text + "\n")
}

/// Writes to standard error (file descriptor 2: the C `stderr` global is not concurrency-safe to name).
func writeError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { return }
        offset += written
    }
}

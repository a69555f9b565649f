import ArgumentParser
import FoundationEssentials
import Imaging
import Inference
import Labels

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with the bundled model (or --model) at a prune level.",
        discussion: """
            Prints, per image, the label trapline writes to its catalog, then the model's top classes with their \
            probabilities. The label is an observation type (animal, human, vehicle, or blank when none of their \
            summed probabilities reaches --blank-threshold) and, for an animal, the deepest taxon of the model's \
            taxonomy whose summed probability reaches --rollup-threshold: a species, genus, family, order or \
            class, else `animal` (docs/taxonomy.md). A bad image is reported and the others are still \
            classified; the exit status is 1 when any image failed.
            """
    )

    @Argument(help: "JPEG files to classify.", completion: .file(extensions: ["jpg", "jpeg", "JPG", "JPEG"]))
    var images: [String]

    @Option(help: "Prune level: the fraction of expanded channels removed (one of the model's levels).")
    var level: Double = 0

    @Option(
        help: ArgumentHelp(
            "One option per slice of a plan, comma-separated (w1,skip,w0.5,w1): mixed levels by hand.",
            discussion: """
                The number of entries picks the model's plan for that many nodes. An entry is a width level by                 name (w1, w0.875, w0.75, w0.5, w0.25 in the bundled model: the share of channels kept) or prune                 fraction (0.5), or a slice option (skip: the slice's residual blocks skipped). `trapline model info`                 lists them with their cost and measured accuracy. Overrides --level.
                """))
    var levels: String?

    @Option(help: "How many classes to print per image.")
    var top = 5

    @Option(help: "Crop policy: center (shorter side to the input, centre cut) or full (whole frame squeezed).")
    var crop: CropPolicy?

    @Option(
        help:
            "Summed probability the animal (or else the human, or vehicle) classes must reach for a frame not to be blank."
    )
    var blankThreshold: Float = 0.5

    @Option(help: "Summed probability the written taxon must reach (the label rolls up the taxonomy until it does).")
    var rollupThreshold: Float = Labeler.defaultRollupThreshold

    @Option(
        help: ArgumentHelp(
            "A site's species list: scientific names at any rank, comma-separated (Vulpes vulpes,Ardeidae).",
            discussion:
                "An unlisted animal class's probability goes to the deepest taxon above it that holds a listed one."))
    var taxa: String?

    @Option(
        help: ArgumentHelp(
            "A site head (`trapline learn`): its class is written where it is confident.",
            discussion: "Elsewhere the model's own label stands; people and vehicles are always the model's."))
    var siteHead: String?

    @Option(help: "Model file (default: $TRAPLINE_MODEL, the installed model, or the source tree's Models/).")
    var model: String?

    @Option(help: "Threads for the network.")
    var threads = 1

    @Flag(help: "Print one JSON document with a result per image, in the order given.")
    var json = false

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("Name at least one image.") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1.") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1...64.") }
        guard (0...1).contains(blankThreshold) else { throw ValidationError("--blank-threshold must be in 0...1.") }
        guard (0...1).contains(rollupThreshold) else { throw ValidationError("--rollup-threshold must be in 0...1.") }
    }

    func run() throws {
        let located = try CLISupport.locateModel(model)
        let loaded = located.model
        let widths = loaded.metadata.pruneLevels
        guard let levelIndex = widths.firstIndex(where: { abs($0 - level) < 1e-9 }) else {
            throw ValidationError(
                "--level \(level) is not one of this model's levels: \(widths.map { "\($0)" }.joined(separator: ", "))")
        }
        let siteTaxa = (taxa ?? "").split(separator: ",").map { String($0) }.filter { !$0.allSatisfy(\.isWhitespace) }
        var labeler: Labeler
        do {
            labeler = try Labeler(
                metadata: loaded.metadata, topK: top, blankThreshold: blankThreshold, rollupThreshold: rollupThreshold,
                taxa: siteTaxa)
        } catch let error as InferenceError {
            throw ValidationError("--taxa: \(error.message)")
        }
        if let siteHead {
            do {
                let head = try SiteHead.load(path: siteHead)
                try head.check(modelID: located.sha256, featureCount: loaded.metadata.units.last?.features ?? 0)
                labeler.siteHead = head
            } catch let error as InferenceError {
                throw CLIError("--site-head: \(error.message)")
            }
        }
        let classifier = ImageClassifier(engine: Engine(model: loaded, threads: threads), labeler: labeler, crop: crop)
        let options = try levels.map { try Self.sliceOptions($0, loaded.metadata) }
        let outcomes =
            try options.map { try classifier.classify(images, unitLevels: $0.unitLevels) }
            ?? classifier.classify(images, level: levelIndex)
        if json {
            print(
                try ClassifyReport(images: images, outcomes: outcomes, level: level, levels: options?.names)
                    .jsonText())
        } else {
            for (path, outcome) in zip(images, outcomes) { print(ClassifyText.describe(path, outcome)) }
        }
        if outcomes.contains(where: { if case .failed = $0 { true } else { false } }) { throw ExitCode(1) }
    }
}

extension Classify {
    /// Parses `--levels`: one option per slice of the plan with that many slices.
    static func sliceOptions(_ text: String, _ metadata: ModelMetadata) throws -> (names: [String], unitLevels: [Int]) {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingSpaces
        }
        let available = (0..<metadata.optionCount).map(metadata.optionName).joined(separator: ", ")
        guard let plan = metadata.slicePlan(nodes: entries.count) else {
            let plans = metadata.slicePlans.keys.compactMap(Int.init).sorted().map(String.init)
            throw ValidationError(
                "--levels has \(entries.count) entries but the model has no \(entries.count)-node plan "
                    + "(plans: \(plans.joined(separator: ", ")) nodes)")
        }
        let options = try entries.enumerated().map { slice, entry in
            guard let option = metadata.option(named: entry) else {
                throw ValidationError(
                    "--levels: \"\(entry)\" (slice \(slice)) is not an option of this model; it has \(available)")
            }
            return option
        }
        return (options.map(metadata.optionName), metadata.unitLevels(plan: plan, options: options))
    }
}

extension CropPolicy: ExpressibleByArgument {}

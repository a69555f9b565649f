import ArgumentParser
import FoundationEssentials
import Imaging
import Inference
import Ingest
import Labels

struct Bursts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bursts",
        abstract: "Find and label the animals of camera-trap bursts, as the appliance does (docs/localisation.md).",
        discussion: """
            Each folder given is one burst: its JPEG files, in name order. The burst's static background is the \
            per-pixel median of small grayscale decodes of its frames; what differs from it, above a threshold \
            that adapts to the noise, becomes boxes; a square crop around each box is decoded from the \
            full-resolution file and classified, and so is the whole frame. The label written combines them. A \
            JPEG file given instead of a folder is a burst of one frame (labelled whole). Bursts longer than \
            --max-frames are localised in windows of that many frames. A frame that cannot be decoded is \
            reported and the others are still labelled; the exit status is 1 when any frame failed.
            """
    )

    @Argument(help: "Burst folders (or single JPEG files).", completion: .directory)
    var bursts: [String]

    @Option(help: "Model file (default: $TRAPLINE_MODEL, the installed model, or the source tree's Models/).")
    var model: String?

    @Option(help: "Threads for the network.")
    var threads = 1

    @Option(help: "Frames per engine call.")
    var batch = 8

    @Option(help: "At most this many frames make one background model.")
    var maxFrames = BurstSettings().maxFrames

    @Option(
        help:
            "Summed probability the animal (or else the human, or vehicle) classes must reach for a whole frame not to be blank."
    )
    var blankThreshold: Float = 0.5

    @Option(help: "Animal mass a moving region's crop needs for its frame to be an animal.")
    var cropThreshold: Float = BurstSettings().cropAnimalThreshold

    @Option(help: "Whole-frame animal mass a frame needs when nothing moves in it.")
    var stillThreshold: Float = BurstSettings().stillAnimalThreshold

    @Option(help: "Summed probability the written taxon must reach.")
    var rollupThreshold: Float = Labeler.defaultRollupThreshold

    @Option(help: "Context around a box in its crop, on each side, as a fraction of the box's longer side.")
    var cropMargin = BurstSettings().cropMargin

    @Flag(help: "Label whole frames only, without localisation (for comparison).")
    var noLocalise = false

    @Flag(help: "Print one JSON document: per burst its frames (boxes, whole, crop and combined labels) and event.")
    var json = false

    func validate() throws {
        guard !bursts.isEmpty else { throw ValidationError("Name at least one burst folder.") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1...64.") }
        guard (1...Engine.maxBatch).contains(batch) else { throw ValidationError("--batch must be 1...256.") }
        guard (3...1000).contains(maxFrames) else { throw ValidationError("--max-frames must be 3...1000.") }
        guard (0...2).contains(cropMargin) else { throw ValidationError("--crop-margin must be in 0...2.") }
        for (name, value) in [
            ("--blank-threshold", blankThreshold), ("--crop-threshold", cropThreshold),
            ("--still-threshold", stillThreshold), ("--rollup-threshold", rollupThreshold),
        ] where !(0...1).contains(value) {
            throw ValidationError("\(name) must be in 0...1.")
        }
    }

    func run() throws {
        let loaded = try CLISupport.loadModel(model)
        let labeler = try Labeler(
            metadata: loaded.metadata, topK: 5, blankThreshold: blankThreshold, rollupThreshold: rollupThreshold)
        var settings = BurstSettings()
        settings.enabled = !noLocalise
        settings.maxFrames = maxFrames
        settings.cropAnimalThreshold = cropThreshold
        settings.stillAnimalThreshold = stillThreshold
        settings.cropMargin = cropMargin
        let classifier = ImageClassifier(
            engine: Engine(model: loaded, threads: threads), labeler: labeler, batchSize: batch)
        let planner = BurstPlanner(preparer: classifier.preparer, settings: settings)
        let combiner = BurstCombiner(labeler: labeler, settings: settings)
        let levels = Array(repeating: 0, count: loaded.unitCount)
        var report = BurstsReport(model: loaded.metadata.name)
        var anyFailed = false
        let clock = ContinuousClock()
        for burst in bursts {
            let files = try Self.frames(of: burst)
            var frames: [BurstFrameReport] = []
            var labels: [FrameLabel] = []
            for start in stride(from: 0, to: files.count, by: batch) {
                let chunk = files[start..<min(files.count, start + batch)].map {
                    BurstFrame(id: $0, path: $0, burst: files)
                }
                let planned = planner.plan(chunk)
                report.timing.add(planned.timings, frames: chunk.count)
                let wholes = planned.slots.indices.filter { if case .whole = planned.slots[$0] { true } else { false } }
                let crops = planned.slots.indices.filter { !wholes.contains($0) }
                var logits = [[Float]](repeating: [], count: planned.slots.count)
                for (indices, isCrop) in [(wholes, false), (crops, true)] where !indices.isEmpty {
                    let begin = clock.now
                    let rows = try classifier.logits(for: indices.map { planned.inputs[$0] }, unitLevels: levels)
                    let ms = BurstPlanner.ms(clock.now - begin)
                    if isCrop { report.timing.cropInferenceMs += ms } else { report.timing.wholeInferenceMs += ms }
                    for (index, row) in zip(indices, rows) { logits[index] = row }
                }
                let results = combiner.combine(planned, logits: logits.map { $0[...] })
                for (plan, result) in zip(planned.frames, results) {
                    switch result {
                    case .success(let label):
                        labels.append(label)
                        frames.append(BurstFrameReport(plan: plan, label: label))
                    case .failure(let error):
                        anyFailed = true
                        frames.append(BurstFrameReport(failed: plan.frame.path, error: error))
                    }
                }
            }
            let event = combiner.eventLabel(labels).map(LabelReport.init)
            let byMean = combiner.eventLabel(labels, votes: false).map(LabelReport.init)
            report.bursts.append(BurstReport(path: burst, frames: frames, event: event, eventByMean: byMean))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
        if anyFailed { throw ExitCode(1) }
    }

    /// A burst's frames: the JPEG files of a folder in name order, or the one file given.
    static func frames(of path: String) throws -> [String] {
        if FolderScan.stat(path) != nil { return [path] }
        let listing = FolderScan.scan(path)
        guard listing.unreadable.isEmpty, !(listing.files.isEmpty && listing.folders.isEmpty) else {
            throw ValidationError("\(path): no such file, or a folder that cannot be read or is empty")
        }
        let jpegs = listing.files.map(\.path).filter {
            let lower = $0.lowercased()
            return lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")
        }.sorted()
        guard !jpegs.isEmpty else { throw ValidationError("\(path): no JPEG files in the folder") }
        return jpegs
    }
}

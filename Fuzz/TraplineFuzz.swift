// Fuzz targets for what trapline reads from outside: EXIF bodies, JPEG headers, model files, and the ring's
// messages as a node receives them from the network, as gRPC messages or as frames of the framed activation
// stream (decode, check, turn the payload into floats).
//
// Built normally, the program replays files through a target (`trapline-fuzz exif FILE...`): that is how the
// committed corpus is checked in every test run. Built by scripts/fuzz.sh with `-D FUZZING -sanitize=fuzzer`,
// this file is linked by hand against SwiftPM's instrumented objects, and libFuzzer's own `main` drives
// `LLVMFuzzerTestOneInput` (TRAPLINE_FUZZ_TARGET picks the target; see docs/faults.md).
import Imaging
import Inference
import RingWire

#if canImport(Glibc)
    import Glibc
#endif

enum FuzzTarget: String, CaseIterable {
    case exif, jpeg, model, ring

    /// Runs one input. Errors are the expected outcome for most inputs; only a crash, a hang or a sanitizer report
    /// is a finding.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .exif:
            _ = EXIFParser.parse(jpeg: bytes)
            _ = EXIFParser.parse(tiff: bytes[...])
        case .jpeg:
            let decoder = JPEGDecoder(limits: DecodeLimits(maxPixels: 4_000_000))
            if let layout = try? decoder.layout(of: bytes), layout.width * layout.height <= 1_000_000 {
                _ = try? decoder.decode(bytes, scale: .atLeast(width: 64, height: 64))
                // The burst localiser's two decodes: a small gray frame, and one rectangle (a crop) of the image.
                _ = try? GrayFrame.decode(jpeg: bytes, decoder: decoder, width: 32)
                if layout.width > 2 && layout.height > 2 {
                    let rect = PixelRect(
                        x: layout.width / 3, y: layout.height / 3, width: layout.width / 2, height: layout.height / 2)
                    _ = try? decoder.decode(bytes, region: rect, minSide: 16)
                }
            }
        case .model:
            // A model that loads (a small one: the corpus seeds are 8x8) also runs every slice option once, so
            // that the fuzzer reaches the engine's level and skip handling with what the loader accepted.
            if let model = try? Model(fileBytes: bytes),
                model.metadata.input.width * model.metadata.input.height <= 4096
            {
                let engine = Engine(model: model)
                let input = [Float](repeating: 0.5, count: engine.shape(atBoundary: 0).count)
                let units = model.unitCount
                for option in 0..<model.metadata.optionCount {
                    _ = try? engine.logits(
                        input, batch: 1, levels: model.metadata.unitLevels(0..<units, option: option))
                }
            }
        case .ring:
            RingInputs.run(bytes)
        }
    }
}

/// A node's view of incoming ring messages: node "b" of a 4-node ring on the bundled model's plan.
enum RingInputs {
    static let check: ActivationCheck = {
        // The shapes come from the bundled model (run from the repository root).
        guard let model = try? Model.load(path: "Models/efficientnet-lite0.safetensors") else {
            print("the ring target needs Models/efficientnet-lite0.safetensors: run from the repository root")
            exit(2)
        }
        let engine = Engine(model: model)
        let widths = (0...model.unitCount).map { engine.shape(atBoundary: $0).count }
        return ActivationCheck(
            node: "b", plan: [0, 3, 8, 13, 18], widths: widths, maxBatch: 8, members: ["a", "b", "c", "d"])
    }()

    static func run(_ bytes: [UInt8]) {
        if let message = try? Trapline_Ring_V1_Activations(serializedBytes: bytes) { receive(message) }
        if let logits = try? Trapline_Ring_V1_Logits(serializedBytes: bytes) { receive(logits) }
        // The same bytes as the body of a frame of the framed activation stream (what follows its length).
        switch bytes.withUnsafeBytes({ try? RingFrame(body: $0) }) {
        case .activations(let message): receive(message)
        case .logits(let logits): receive(logits)
        case .refusal, nil: break
        }
        _ = try? Trapline_Ring_V1_NodeStats(serializedBytes: bytes)
        _ = try? Trapline_Ring_V1_SetLevelsRequest(serializedBytes: bytes)
    }

    /// What a node does with activations: check them against the ring, then decode the payload.
    static func receive(_ message: Trapline_Ring_V1_Activations) {
        guard (try? check.validate(message)) != nil else { return }
        // As the node does: as many values as the batch has at the unit the message enters.
        var values = [Float](repeating: 0, count: Int(message.batch) * check.widths[Int(message.unit)])
        let encoding = WireEncoding(message.encoding)
        values.withUnsafeMutableBufferPointer { output in
            _ = try? ActivationCodec.decode(message.data, as: encoding, into: output)
        }
    }

    /// What the head does with logits: decode them when the batch and class count are plausible.
    static func receive(_ logits: Trapline_Ring_V1_Logits) {
        guard logits.batch <= 8, logits.classes <= 4096 else { return }
        var values = [Float](repeating: 0, count: Int(logits.batch * logits.classes))
        values.withUnsafeMutableBufferPointer {
            _ = try? ActivationCodec.decode(logits.data, as: .float32, into: $0)
        }
    }
}

#if FUZZING
    // Read once: libFuzzer calls the entry point millions of times.
    private let selectedTarget = getenv("TRAPLINE_FUZZ_TARGET").flatMap { FuzzTarget(rawValue: String(cString: $0)) }

    /// libFuzzer's entry point: runs one input through the target named by TRAPLINE_FUZZ_TARGET.
    /// - Parameters:
    ///   - data: the input's bytes (libFuzzer may pass a null pointer for an empty input).
    ///   - count: the input's length in bytes.
    /// - Returns: 0, as libFuzzer requires.
    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        guard let target = selectedTarget else {
            print("set TRAPLINE_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))")
            exit(2)
        }
        target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
        return 0
    }
#else
    @main
    enum Replay {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let first = arguments.first, let target = FuzzTarget(rawValue: first) else {
                print("usage: trapline-fuzz exif|jpeg|model|ring FILE...  (replays inputs through a fuzz target)")
                exit(64)
            }
            var count = 0
            for path in arguments.dropFirst() {
                guard let file = fopen(path, "rb") else {
                    print("cannot read \(path)")
                    exit(1)
                }
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let read = fread(&buffer, 1, buffer.count, file)
                    if read == 0 { break }
                    bytes += buffer[0..<read]
                }
                fclose(file)
                target.run(bytes)
                count += 1
            }
            print("\(target.rawValue): \(count) inputs replayed without a crash")
        }
    }
#endif

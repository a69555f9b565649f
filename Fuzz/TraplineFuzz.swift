// Fuzz targets for what trapline reads from outside: EXIF bodies, JPEG headers and model files.
//
// Built with libFuzzer (scripts/fuzz.sh: `-sanitize=fuzzer,address -D FUZZING`), LLVMFuzzerTestOneInput is the
// entry point and libFuzzer supplies `main`; the target is chosen by TRAPLINE_FUZZ_TARGET. Built normally, the
// program replays files through a target (`trapline-fuzz exif FILE...`), which is how the committed corpus is
// checked in every test run.
import Imaging
import Inference

#if canImport(Glibc)
    import Glibc
#endif

enum FuzzTarget: String, CaseIterable {
    case exif, jpeg, model

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
            }
        case .model:
            _ = try? Model(fileBytes: bytes)
        }
    }
}

#if FUZZING
    nonisolated(unsafe) let fuzzTarget: FuzzTarget = {
        let name = getenv("TRAPLINE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fputs("set TRAPLINE_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))\n", stderr)
            exit(2)
        }
        return target
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        fuzzTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
        return 0
    }
#else
    @main
    enum Replay {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let first = arguments.first, let target = FuzzTarget(rawValue: first) else {
                print("usage: trapline-fuzz exif|jpeg|model FILE...  (replays inputs through a fuzz target)")
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

// Times trapline's two ways to turn a large JPEG into a 224x224 model input, so that a driver script can set
// them side by side with Pillow in one run:
//   scaled  libjpeg-turbo DCT-domain decode to the smallest n/8 >= 224, then antialiased resize (trapline's path)
//   full    decode every pixel, then the same resize (the naive reference)
// Usage: imaging-bench ROUNDS FILE...   prints one JSON line per file and method: the median milliseconds.
import Imaging
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func prepareFull(_ bytes: [UInt8], spec: ModelInputSpec) throws {
    let decoded = try JPEGDecoder().decode(bytes, scale: .full)
    let exif = EXIFParser.parse(jpeg: bytes)
    let upright = decoded.image.applying(exif.orientation ?? .up)
    let side = Double(min(upright.width, upright.height))
    let x0 = (Double(upright.width) - side) / 2
    let y0 = (Double(upright.height) - side) / 2
    let box = SourceBox(x0: x0, y0: y0, x1: x0 + side, y1: y0 + side)
    _ = try Resampler.resize(upright, width: spec.width, height: spec.height, box: box)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let rounds = Int(arguments[1]), rounds > 0 else {
    print("usage: imaging-bench ROUNDS FILE...")
    exit(64)
}
let spec = ModelInputSpec.efficientNetLite0
let preparer = ImagePreparer(spec: spec)
for path in arguments.dropFirst(2) {
    let bytes = try ImageFile.read(FilePath(path))
    // Warm up both paths (page cache, allocator, libjpeg tables).
    _ = try preparer.prepare(jpeg: bytes)
    try prepareFull(bytes, spec: spec)
    var scaled: [Double] = []
    var full: [Double] = []
    for _ in 0..<rounds {
        // Reading the file is part of the job: both paths include it, as Pillow's does.
        scaled.append(try milliseconds { _ = try preparer.prepare(jpeg: try ImageFile.read(FilePath(path))) })
        full.append(try milliseconds { try prepareFull(try ImageFile.read(FilePath(path)), spec: spec) })
    }
    print("{\"file\": \"\(path)\", \"method\": \"trapline-scaled\", \"ms\": \(median(scaled))}")
    print("{\"file\": \"\(path)\", \"method\": \"trapline-full\", \"ms\": \(median(full))}")
}

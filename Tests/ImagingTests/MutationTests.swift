import Foundation
import TestSupport
import Testing

@testable import Imaging

/// Seeded random corruption of real JPEG and EXIF bytes: every mutant either decodes or fails with an
/// `ImagingError`; nothing crashes and nothing hangs (the suite's time limit catches a hang).
@Suite(.timeLimit(.minutes(3))) struct MutationTests {
    /// SplitMix64: a small, seedable generator so a failure reproduces from its seed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Small real JPEGs (baseline, progressive, restart markers) made from the flower photo with cjpeg.
    static func seeds(in dir: TemporaryDirectory) throws -> [[UInt8]] {
        let ppm = dir.file("small.ppm")
        try runCommand(
            "djpeg", ["-rgb", "-scale", "1/8", "-outfile", ppm, "\(Fixtures.flowerFolder)/flower.png.im_q85_420.jpg"])
        var seeds: [[UInt8]] = []
        for (name, options) in [("base", ["-quality", "80"]), ("prog", ["-progressive"]), ("rst", ["-restart", "2"])] {
            let out = dir.file("\(name).jpg")
            try runCommand("cjpeg", options + ["-outfile", out, ppm])
            seeds.append([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
        }
        return seeds
    }

    static func mutate(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        switch rng.next() % 5 {
        case 0:  // flip a few bytes
            for _ in 0..<(1 + rng.next() % 8) {
                out[Int(rng.next() % UInt64(out.count))] = UInt8.random(in: 0...255, using: &rng)
            }
        case 1:  // truncate
            out = Array(out.prefix(Int(rng.next() % UInt64(out.count))))
        case 2:  // insert random bytes
            let at = Int(rng.next() % UInt64(out.count))
            out.insert(
                contentsOf: (0..<(1 + rng.next() % 16)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
        case 3:  // damage a marker segment's length or a header byte (first 1 kB holds the tables)
            let at = Int(rng.next() % UInt64(min(out.count, 1024)))
            out[at] = [0x00, 0xFF, 0x7F, 0x80, 0x01][Int(rng.next() % 5)]
        default:  // delete a range
            let at = Int(rng.next() % UInt64(out.count))
            out.removeSubrange(at..<min(out.count, at + 1 + Int(rng.next() % 64)))
        }
        return out
    }

    @Test func corruptedJPEGsNeverCrash() throws {
        try withTemporaryDirectory { dir in
            let seeds = try Self.seeds(in: dir)
            var rng = SeededGenerator(state: 20_261_128)
            var decoded = 0
            var failed = 0
            for round in 0..<3000 {
                let mutant = Self.mutate(seeds[round % seeds.count], &rng)
                do {
                    _ = try ImagePreparer(spec: .efficientNetLite0).prepare(jpeg: mutant)
                    decoded += 1
                } catch is ImagingError {
                    failed += 1
                } catch {
                    Issue.record("round \(round): unexpected \(error)")
                }
            }
            // Both outcomes must occur, or the mutations are not exercising anything.
            #expect(decoded > 100 && failed > 100, "decoded \(decoded), failed \(failed)")
        }
    }

    @Test func corruptedEXIFNeverCrashes() throws {
        let photo = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.wallpaper("FallenLeaf"))))
        let body = Array(try #require(JPEGSegments.exifPayload(in: photo)))
        var rng = SeededGenerator(state: 42)
        var withMake = 0
        for _ in 0..<3000 {
            var mutant = body
            // Concentrate damage on the directories and pointers at the front, where the parser walks.
            for _ in 0..<(1 + rng.next() % 6) {
                mutant[Int(rng.next() % UInt64(min(mutant.count, 512)))] = UInt8.random(in: 0...255, using: &rng)
            }
            if rng.next() % 4 == 0 { mutant = Array(mutant.prefix(Int(rng.next() % UInt64(mutant.count)))) }
            if EXIFParser.parse(tiff: mutant[...]).make != nil { withMake += 1 }
        }
        #expect(withMake > 0)
    }
}

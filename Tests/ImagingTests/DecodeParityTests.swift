import Foundation
import Imaging
import TestSupport
import Testing

/// Pixels against libjpeg-turbo's own djpeg, which must agree exactly: same library, same IDCT, same upsampling.
@Suite struct DecodeParityTests {
    static let flowerFiles = (try? Fixtures.flowerJPEGs()) ?? []

    @Test func flowerSetIsInstalled() throws {
        #expect(Self.flowerFiles.count >= 12, "libjxl-testdata missing: run scripts/setup.sh")
    }

    @Test(arguments: flowerFiles)
    func fullDecodeEqualsDjpeg(path: String) throws {
        try withTemporaryDirectory { dir in
            let reference = dir.file("ref.ppm")
            let djpeg = try runCommand("djpeg", ["-rgb", "-outfile", reference, path], check: false)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            guard djpeg.status == 0 else {
                #expect(throws: ImagingError.self) { try JPEGDecoder().decode(bytes) }
                return
            }
            let expected = try PNMImage(path: reference)
            let decoded = try JPEGDecoder().decode(bytes)
            #expect(decoded.scaleEighths == 8)
            #expect(decoded.image.width == expected.width && decoded.image.height == expected.height)
            #expect(decoded.image.pixels == expected.rgb, "pixels differ from djpeg for \(path)")
        }
    }

    @Test(arguments: [1, 2, 3, 5, 7])
    func scaledDecodeEqualsDjpegScale(eighths: Int) throws {
        let path = try Fixtures.system("\(Fixtures.flowerFolder)/flower.png.im_q85_420_progr.jpg")
        try withTemporaryDirectory { dir in
            let reference = dir.file("ref.ppm")
            try runCommand("djpeg", ["-rgb", "-scale", "\(eighths)/8", "-outfile", reference, path])
            let expected = try PNMImage(path: reference)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            // The smallest n/8 at least as large as the reference's own size is exactly n.
            let decoded = try JPEGDecoder().decode(
                bytes, scale: .atLeast(width: expected.width, height: expected.height))
            #expect(decoded.scaleEighths == eighths)
            #expect(decoded.image.pixels == expected.rgb)
        }
    }

    @Test func layoutMatchesExiftoolAndDjpeg() throws {
        for path in Self.flowerFiles {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let layout = try JPEGDecoder().layout(of: bytes)
            // exiftool's EncodingProcess: 0 baseline, 1 extended sequential, 2 progressive.
            let process = try runCommand("exiftool", ["-s3", "-n", "-File:EncodingProcess", path]).output
            #expect(layout.progressive == (process.trimmingCharacters(in: .newlines) == "2"), "\(path)")
            // djpeg -verbose prints the frame header's factors as "Component 1: 2hx2v q=0".
            let verbose = try runCommand("djpeg", ["-verbose", "-outfile", "/dev/null", path]).errorOutput
            let frame = verbose.components(separatedBy: "Start Of Scan").first ?? ""
            let factors = frame.split(separator: "\n").filter { $0.contains("Component") && $0.contains("hx") }
                .map { line -> String in
                    let field = line.split(separator: " ").first { $0.contains("hx") } ?? ""
                    return field.replacingOccurrences(of: "hx", with: "x").replacingOccurrences(of: "v", with: "")
                }
            #expect(factors == layout.sampling.map { "\($0.horizontal)x\($0.vertical)" }, "\(path)")
        }
    }

    @Test func restartMarkersAndLayoutNames() throws {
        let base = Fixtures.flowerFolder + "/flower.png.im_q85_"
        let names = ["420": "4:2:0", "422": "4:2:2", "440": "4:4:0", "444": "4:4:4", "gray": "gray"]
        for (suffix, expected) in names {
            let layout = try JPEGDecoder().layout(
                of: [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + suffix + ".jpg"))))
            #expect(layout.subsampling == expected)
        }
        let restart = try JPEGDecoder().layout(
            of: [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + "420_R13B.jpg"))))
        #expect(restart.restartInterval > 0)
    }

    @Test func cmykMatchesPillow() throws {
        try withTemporaryDirectory { dir in
            let ppm = dir.file("small.ppm")
            try runCommand(
                "djpeg",
                ["-rgb", "-scale", "1/8", "-outfile", ppm, "\(Fixtures.flowerFolder)/flower.png.im_q85_444.jpg"])
            let cmyk = dir.file("cmyk.jpg")
            try runCommand("python3", [Fixtures.referenceScript("pillow_reference.py"), "cmyk", ppm, cmyk])
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cmyk)))
            let decoded = try JPEGDecoder().decode(bytes)
            #expect(decoded.layout.colorSpace == .cmyk)
            let expected = try RawRGB.fromPillow(["rgb", cmyk], in: dir)
            // Pillow's CMYK to RGB rounds its products differently: at most 1 apart.
            #expect(differences(decoded.image.pixels, expected.pixels).max <= 1)
        }
    }
}

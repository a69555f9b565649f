import Foundation
import Imaging
import TestSupport
import Testing

/// EXIF fields against exiftool on real camera photos from Debian's packages, and on copies that exiftool
/// rewrote (big-endian byte order, an added UTC offset, a rotation) so every case the parser handles is met.
@Suite struct EXIFTests {
    static let cameraFiles: [String] =
        [
            "FallenLeaf", "DarkestHour", "BytheWater", "ColorfulCups", "Kite", "EveningGlow",
        ].map { "\(Fixtures.wallpapers)/\($0)/contents/images/2560x1600.jpg" } + [
            "/usr/share/doc/opencv-doc/examples/data/text_defocus.jpg",
            "/usr/share/doc/opencv-doc/examples/alphamat/input_images/plant.jpg",
            "/usr/share/libjxl-testdata/jxl/jpeg_reconstruction/1x1_exif_xmp.jpg",
        ]

    /// exiftool edits applied to copies: byte order, offsets and orientation.
    static let rewrites: [(name: String, source: String, arguments: [[String]])] = [
        (
            "canon-big-endian", "FallenLeaf",
            [["-all=", "-tagsfromfile", "@", "-all:all", "-unsafe", "-ExifByteOrder=MM"]]
        ),
        ("canon-offset-rotated", "FallenLeaf", [["-OffsetTimeOriginal=-05:00", "-Orientation#=6"]]),
        (
            "nokia-big-endian-offset", "BytheWater",
            [
                ["-all=", "-tagsfromfile", "@", "-all:all", "-unsafe", "-ExifByteOrder=MM"],
                ["-OffsetTimeOriginal=+05:30", "-Orientation#=8"],
            ]
        ),
    ]

    static let tags = [
        "Make", "Model", "DateTimeOriginal", "SubSecTimeOriginal", "OffsetTimeOriginal", "SerialNumber", "Orientation",
    ]

    /// The compared fields, with the capture time as its ISO 8601 text.
    struct Fields: Equatable, CustomStringConvertible {
        var make, model, serial, time: String?
        var orientation: Int?
        var hasOffset: Bool?
        var description: String { "\(make ?? "-")|\(model ?? "-")|\(serial ?? "-")|\(time ?? "-")|\(orientation ?? 0)" }

        init(_ exif: EXIFData) {
            make = exif.make
            model = exif.model
            serial = exif.serialNumber
            time = exif.captureTime?.iso8601
            hasOffset = exif.captureTime?.hasOffset
            orientation = exif.orientation?.rawValue
        }

        /// What exiftool reads from the EXIF block, in the same terms.
        init(exiftool path: String) throws {
            let result = try runCommand("exiftool", ["-T", "-n"] + EXIFTests.tags.map { "-EXIF:\($0)" } + [path])
            let values = result.output.trimmingCharacters(in: .newlines).components(separatedBy: "\t")
                .map { $0 == "-" ? nil : $0 }
            guard values.count == EXIFTests.tags.count else { throw FixtureError("exiftool printed \(values)") }
            make = values[0]
            model = values[1]
            serial = values[5]
            orientation = values[6].flatMap { Int($0) }
            if let date = values[2] {
                let parts = date.split(separator: " ")
                var text = parts[0].replacingOccurrences(of: ":", with: "-") + "T" + parts[1]
                if var fraction = values[3] {
                    while fraction.hasSuffix("0") { fraction.removeLast() }
                    if !fraction.isEmpty { text += "." + fraction }
                }
                if let offset = values[4] { text += offset }
                time = text
                hasOffset = values[4] != nil
            }
        }
    }

    static func ours(_ path: String) throws -> Fields {
        Fields(EXIFParser.parse(jpeg: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))))
    }

    @Test(arguments: cameraFiles)
    func cameraPhotoMatchesExiftool(path: String) throws {
        _ = try Fixtures.system(path)
        #expect(try Self.ours(path) == Fields(exiftool: path))
    }

    @Test(arguments: 0..<rewrites.count)
    func rewrittenCopyMatchesExiftool(index: Int) throws {
        let rewrite = Self.rewrites[index]
        try withTemporaryDirectory { dir in
            var current = try Fixtures.wallpaper(rewrite.source)
            for (step, arguments) in rewrite.arguments.enumerated() {
                let next = dir.file("\(rewrite.name)-\(step).jpg")
                try runCommand("exiftool", ["-q"] + arguments + ["-o", next, current])
                current = next
            }
            let expected = try Fields(exiftool: current)
            #expect(try Self.ours(current) == expected)
            #expect(expected.orientation == nil || expected.orientation != 1 || rewrite.name == "canon-big-endian")
        }
    }

    @Test func byteOrdersAreBothCovered() throws {
        let orders = try Self.cameraFiles.map { path in
            try runCommand("exiftool", ["-s3", "-ExifByteOrder", "-n", path]).output.trimmingCharacters(in: .newlines)
        }
        #expect(orders.contains("II") && orders.contains("MM"))
    }

    @Test func captureTimeParsing() {
        let cases: [(String, String?, String?, String?)] = [
            ("2020:01:08 08:19:46", nil, nil, "2020-01-08T08:19:46"),
            ("2020:01:08 08:19:46", "007", "+01:00", "2020-01-08T08:19:46.007+01:00"),
            ("2020:01:08 23:59:59", "5", "-03:30", "2020-01-08T23:59:59.5-03:30"),
            ("0000:00:00 00:00:00", nil, nil, nil),
            ("    :  :     :  :  ", nil, nil, nil),
            ("2020:13:08 08:19:46", nil, nil, nil),
            ("2020-01-08 08:19:46", nil, nil, nil),
            ("2020:01:08 08:19:46", "x", "garbage", "2020-01-08T08:19:46"),
        ]
        for (text, subsec, offset, expected) in cases {
            var tiff = TIFFBuilder()
            tiff.exif[0x9003] = text
            if let subsec { tiff.exif[0x9291] = subsec }
            if let offset { tiff.exif[0x9011] = offset }
            #expect(EXIFParser.parse(tiff: tiff.build()[...]).captureTime?.iso8601 == expected, "\(text)")
        }
    }

    @Test func loopsAndBadPointersLeaveFieldsAbsent() {
        var tiff = TIFFBuilder()
        tiff.ifd0[0x010F] = "Reconyx"
        var bytes = tiff.build()
        // Point the EXIF IFD back at IFD0 (offset 8): a loop that must be detected, not followed forever.
        let pointer = TIFFBuilder.exifPointerField(bytes)
        bytes[pointer] = 8
        bytes[pointer + 1] = 0
        bytes[pointer + 2] = 0
        bytes[pointer + 3] = 0
        let parsed = EXIFParser.parse(tiff: bytes[...])
        #expect(parsed.make == "Reconyx")
        #expect(parsed.captureTime == nil)
        #expect(EXIFParser.parse(tiff: [0x49, 0x49, 0x2A, 0x00, 0xFF, 0xFF, 0xFF, 0x7F][...]).isEmpty)
        #expect(EXIFParser.parse(tiff: [][...]).isEmpty)
    }
}

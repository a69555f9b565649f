import Foundation
import SystemPackage
import TestSupport
import Testing

@testable import Imaging

/// Every kind of bad input becomes a typed `ImagingError`, never a crash.
@Suite struct BadInputTests {
    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func code(of body: () throws -> Void) -> ImagingError.Code? {
        do {
            try body()
            return nil
        } catch let error as ImagingError {
            #expect(!error.message.isEmpty)
            return error.code
        } catch {
            Issue.record("unexpected error type \(type(of: error)): \(error)")
            return nil
        }
    }

    static func prepare(_ path: String, limits: DecodeLimits = DecodeLimits()) -> ImagingError.Code? {
        code { _ = try ImagePreparer(spec: .efficientNetLite0, limits: limits).prepare(file: FilePath(path)) }
    }

    @Test func zeroByteFile() throws {
        try withTemporaryDirectory { dir in
            try Data().write(to: URL(fileURLWithPath: dir.file("empty.jpg")))
            #expect(Self.prepare(dir.file("empty.jpg")) == .empty)
        }
    }

    @Test func pngNamedJPG() throws {
        try withTemporaryDirectory { dir in
            let png = dir.file("photo.jpg")
            try runCommand("python3", ["-c", "from PIL import Image; Image.new('RGB', (8, 8)).save('\(png)', 'PNG')"])
            #expect(Self.prepare(png) == .notJPEG)
            let error = try #require(throws: ImagingError.self) { try JPEGDecoder().decode(Self.bytes(png)) }
            #expect(error.message.contains("PNG"))
        }
    }

    @Test(arguments: [0.5, 0.9, 0.999])
    func truncatedFile(fraction: Double) throws {
        let source = try Self.bytes(try Fixtures.wallpaper("FallenLeaf"))
        try withTemporaryDirectory { dir in
            let cut = dir.file("cut.jpg")
            try Data(source.prefix(Int(Double(source.count) * fraction))).write(to: URL(fileURLWithPath: cut))
            #expect(Self.prepare(cut) == .truncated)
        }
    }

    @Test func truncatedInsideHeaders() throws {
        let source = try Self.bytes(try Fixtures.wallpaper("FallenLeaf"))
        #expect(Self.code { _ = try JPEGDecoder().decode(Array(source.prefix(3000))) } == .truncated)
    }

    @Test func corruptHeader() throws {
        var source = try Self.bytes("\(Fixtures.flowerFolder)/flower.png.im_q85_420.jpg")
        // Overwrite everything after SOI with garbage that still starts with a marker.
        for index in 4..<600 { source[index] = UInt8(truncatingIfNeeded: index &* 37) }
        #expect(Self.code { _ = try JPEGDecoder().decode(source) } == .corrupt)
    }

    @Test func decompressionBombIsRefusedFromTheHeader() throws {
        var source = try Self.bytes("\(Fixtures.flowerFolder)/flower.png.im_q85_420.jpg")
        // Rewrite the SOF0 frame size to 65000 x 65000 (4.2 gigapixels) in a file of a few hundred kB.
        let sof = try #require((0..<(source.count - 9)).first { source[$0] == 0xFF && source[$0 + 1] == 0xC0 })
        source.replaceSubrange((sof + 5)..<(sof + 9), with: [0xFD, 0xE8, 0xFD, 0xE8])
        let layout = try JPEGDecoder().layout(of: source)
        #expect(layout.width == 65000 && layout.height == 65000)
        #expect(Self.code { _ = try JPEGDecoder().decode(source) } == .tooManyPixels)
        #expect(
            Self.code {
                _ = try JPEGDecoder(limits: DecodeLimits(maxPixels: 1000)).decode(
                    Self.bytes(
                        "\(Fixtures.flowerFolder)/flower.png.im_q85_420.jpg"))
            } == .tooManyPixels)
    }

    @Test func tooManyProgressiveScans() throws {
        let source = try Self.bytes("\(Fixtures.flowerFolder)/flower.png.im_q85_420_progr.jpg")
        #expect(Self.code { _ = try JPEGDecoder(limits: DecodeLimits(maxScans: 2)).decode(source) } == .tooManyScans)
        #expect(throws: Never.self) { try JPEGDecoder().decode(source, scale: .atLeast(width: 1, height: 1)) }
    }

    @Test func vanishedFolderAndOversizedFiles() throws {
        try withTemporaryDirectory { dir in
            #expect(Self.prepare(dir.file("gone.jpg")) == .notFound)
            #expect(Self.prepare(dir.path) == .notRegularFile)
            let small = Self.code { _ = try ImageFile.read(FilePath(Fixtures.wallpaper("FallenLeaf")), maxBytes: 1000) }
            #expect(small == .fileTooLarge)
        }
    }

    @Test func fileThatShrinksOrGrowsWhileRead() throws {
        try withTemporaryDirectory { dir in
            let path = dir.file("moving.jpg")
            try Data(repeating: 0xAB, count: 5000).write(to: URL(fileURLWithPath: path))
            let fd = try FileDescriptor.open(FilePath(path), .readOnly)
            defer { try? fd.close() }
            // As if fstat had seen a larger file than is left by the time it is read, then a smaller one.
            #expect(Self.code { _ = try ImageFile.readAll(fd, expectedSize: 8000) } == .fileChanged)
            try fd.seek(offset: 0, from: .start)
            #expect(Self.code { _ = try ImageFile.readAll(fd, expectedSize: 3000) } == .fileChanged)
            try fd.seek(offset: 0, from: .start)
            #expect(try ImageFile.readAll(fd, expectedSize: 5000).count == 5000)
        }
    }

    @Test func badEXIFNeverFailsAnImageThatDecodes() throws {
        var source = try Self.bytes(try Fixtures.wallpaper("FallenLeaf"))
        let payload = try #require(JPEGSegments.exifPayload(in: source))
        // Scramble the IFD0 entries (after the TIFF header), leaving the segment lengths intact.
        for index in (payload.startIndex + 10)..<(payload.startIndex + 200) { source[index] = 0xFF }
        let prepared = try ImagePreparer(spec: .efficientNetLite0).prepare(jpeg: source)
        #expect(prepared.image.width == 224)
        #expect(prepared.exif.make == nil)
    }
}

import Foundation
import SystemPackage
import TestSupport
import Testing

@testable import Imaging

/// The burst localiser on synthetic gray frames whose truth is known, the crop geometry, and the region decode
/// against a full decode of real JPEG data.
@Suite struct LocalisationTests {
    static let width = 160
    static let height = 120

    /// A deterministic generator (64-bit LCG), so every frame is the same on every machine.
    struct Noise {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float((state >> 40) & 0xFFFF) / 65535  // 0...1
        }
    }

    /// A textured background: gradients and stripes, like vegetation at this scale.
    static func background(_ x: Int, _ y: Int) -> Float {
        let fx = Float(x)
        let fy = Float(y)
        return 70 + 0.4 * fx + 0.3 * fy + 25 * sin(fx * 0.37) * cos(fy * 0.23)
    }

    struct Scene {
        var gains: [Float] = [1, 1, 1, 1, 1]
        var noise: Float = 4
        /// The animal's top-left corner per frame (nil: no animal), a 16 x 12 block 60 levels brighter.
        var animal: [(Int, Int)?] = [(10, 60), (40, 62), (70, 64), (100, 66), (130, 68)]
        /// A region whose pixels change at random every frame by up to this much (swaying leaves).
        var sway: Float = 0
        /// A black info strip of this many rows at the bottom, with white "text" that changes every frame.
        var strip = 0
    }

    static func frames(_ scene: Scene) -> [GrayFrame] {
        var random = Noise(state: 42)
        let geometry = FrameGeometry(width: 1600, height: 1200, orientation: .up)
        return scene.gains.indices.map { k in
            var pixels = [Float](repeating: 0, count: width * height)
            for y in 0..<height {
                for x in 0..<width {
                    var value = background(x, y)
                    if let (ax, ay) = scene.animal[k], (ax..<(ax + 16)).contains(x), (ay..<(ay + 12)).contains(y) {
                        value += 60
                    }
                    if scene.sway > 0, (100..<150).contains(x), (5..<45).contains(y) {
                        value += (random.next() - 0.5) * 2 * scene.sway
                    }
                    value = value * scene.gains[k] + (random.next() - 0.5) * 2 * scene.noise
                    if y >= height - scene.strip {
                        // Text: a few bright dashes whose places move with the frame (a ticking clock).
                        value = (x + 7 * k) % 11 < 2 && (x < 60) ? 230 : 5
                    }
                    pixels[y * width + x] = min(255, max(0, value))
                }
            }
            return GrayFrame(width: width, height: height, pixels: pixels, geometry: geometry)
        }
    }

    static func truth(_ corner: (Int, Int)) -> RelativeBox {
        RelativeBox(
            x: Double(corner.0) / Double(width), y: Double(corner.1) / Double(height), width: 16 / Double(width),
            height: 12 / Double(height))
    }

    @Test func aMovingAnimalIsBoxedInEveryFrame() throws {
        let scene = Scene()
        let motions = try #require(BurstLocaliser().localise(Self.frames(scene)))
        #expect(motions.count == 5)
        for (motion, corner) in zip(motions, scene.animal) {
            let best = try #require(motion.boxes.first)
            #expect(best.box.iou(Self.truth(corner!)) >= 0.5, "found \(best.box)")
            #expect(motion.boxes.count == 1)
            #expect(!motion.globalChange)
        }
    }

    @Test func exposureFlickerNoiseSwayAndAStripAreNotMotion() throws {
        var scene = Scene()
        scene.gains = [0.86, 1.0, 1.14, 0.9, 1.1]
        scene.animal = [nil, nil, nil, nil, nil]
        scene.sway = 40
        scene.strip = 6
        let motions = try #require(BurstLocaliser().localise(Self.frames(scene)))
        for motion in motions {
            #expect(motion.boxes.isEmpty, "boxes on a blank burst: \(motion.boxes)")
            #expect(!motion.globalChange)
        }
        // The same disturbances with an animal: it is still found, and only it.
        scene.animal = Scene().animal
        let withAnimal = try #require(BurstLocaliser().localise(Self.frames(scene)))
        for (motion, corner) in zip(withAnimal, scene.animal) {
            #expect(motion.boxes.count == 1)
            #expect((motion.boxes.first?.box.iou(Self.truth(corner!)) ?? 0) >= 0.5)
        }
    }

    @Test func theStripIsFoundOnTheBackground() {
        var scene = Scene()
        scene.strip = 6
        let strips = BurstLocaliser().stripRows(Self.frames(scene)[0])
        #expect(strips.bottom == 7)  // the six rows and one of margin
        #expect(strips.top == 0)
    }

    @Test func aGlobalChangeGivesNoBoxes() throws {
        var scene = Scene()
        scene.animal = [nil, nil, nil, nil, nil]
        var frames = Self.frames(scene)
        // The third frame is a different scene altogether (the camera was knocked): no boxes for it.
        frames[2].pixels = frames[2].pixels.enumerated().map { index, _ in Float((index * 37) % 251) }
        let motions = try #require(BurstLocaliser().localise(frames))
        #expect(motions[2].globalChange && motions[2].boxes.isEmpty)
        #expect(motions[0].boxes.isEmpty && !motions[0].globalChange)
    }

    @Test func tooFewOrMismatchedFramesAreNotLocalised() {
        let frames = Self.frames(Scene())
        #expect(BurstLocaliser().localise(Array(frames.prefix(2))) == nil)
        #expect(BurstLocaliser().localise([]) == nil)
        var odd = frames
        odd[1] = GrayFrame(
            width: 80, height: 60, pixels: [Float](repeating: 0, count: 4800), geometry: frames[1].geometry)
        #expect(BurstLocaliser().localise(odd) == nil)
    }

    @Test func allBlackAndAllWhiteBurstsGiveNoBoxes() throws {
        let geometry = FrameGeometry(width: 160, height: 120, orientation: .up)
        for value: Float in [0, 255] {
            let frame = GrayFrame(
                width: 160, height: 120, pixels: [Float](repeating: value, count: 19_200), geometry: geometry)
            let motions = try #require(BurstLocaliser().localise([frame, frame, frame]))
            #expect(motions.allSatisfy { $0.boxes.isEmpty })
        }
    }

    @Test func squareCropsKeepContextAndStayInside() {
        let box = RelativeBox(x: 0.45, y: 0.45, width: 0.1, height: 0.05)
        let crop = box.squareCrop(frameWidth: 2000, frameHeight: 1000, margin: 0.25, minSide: 100)
        #expect(crop == PixelRect(x: 850, y: 325, width: 300, height: 300))  // 200 px box + 25% each side, centred
        let corner = RelativeBox(x: 0.95, y: 0.9, width: 0.05, height: 0.1)
        let inside = corner.squareCrop(frameWidth: 2000, frameHeight: 1000, margin: 0.25, minSide: 224)
        #expect(inside.x + inside.width == 2000 && inside.y + inside.height == 1000 && inside.width == 224)
        let huge = RelativeBox(x: 0, y: 0, width: 1, height: 1)
        #expect(huge.squareCrop(frameWidth: 300, frameHeight: 200, margin: 0.25, minSide: 10).width == 200)
        #expect(box.iou(box) == 1 && box.iou(corner) == 0)
    }

    /// The stored rectangle of an upright one, taken from the stored image and turned upright, is the upright
    /// image's rectangle: for all eight EXIF orientations.
    @Test func storedRectanglesMatchTheUprightImage() throws {
        let stored = try RGBImage(
            width: 7, height: 5, pixels: (0..<105).map { UInt8($0) })
        for orientation in Orientation.allCases {
            let upright = stored.applying(orientation)
            let rect = PixelRect(x: 1, y: 2, width: 3, height: 2)
            let inStored = orientation.storedRect(rect, uprightWidth: upright.width, uprightHeight: upright.height)
            let piece = try Self.cut(stored, inStored).applying(orientation)
            #expect(piece.pixels == (try Self.cut(upright, rect)).pixels, "orientation \(orientation)")
        }
    }

    static func cut(_ image: RGBImage, _ rect: PixelRect) throws -> RGBImage {
        var pixels: [UInt8] = []
        for y in rect.y..<(rect.y + rect.height) {
            let start = (y * image.width + rect.x) * 3
            pixels += image.pixels[start..<(start + rect.width * 3)]
        }
        return try RGBImage(width: rect.width, height: rect.height, pixels: pixels)
    }

    /// A region decoded on its own equals the same pixels of a full decode. libjpeg-turbo crops at iMCU
    /// boundaries, where the fancy (triangle) chroma upsampling of a 4:2:0 image reads its neighbour column; the
    /// widened rows keep that neighbour for every asked-for column, so the pixels are identical.
    @Test func aRegionDecodeEqualsTheFullDecode() throws {
        let photo = try BadInputTests.bytes(try Fixtures.wallpaper("Path", "1280x1024.jpg"))
        let decoder = JPEGDecoder()
        let full = try decoder.decode(photo)
        for rect in [
            PixelRect(x: 0, y: 0, width: 300, height: 300), PixelRect(x: 333, y: 517, width: 411, height: 411),
            PixelRect(x: 1000, y: 700, width: 280, height: 324),
        ] {
            let region = try decoder.decode(photo, region: rect, minSide: 10_000)
            #expect(region.scaleEighths == 8)
            #expect(region.image.pixels == (try Self.cut(full.image, rect)).pixels, "\(rect)")
        }
        // At a reduced scale the region is the same part of the picture, at least the size asked for.
        let small = try decoder.decode(photo, region: PixelRect(x: 333, y: 517, width: 640, height: 480), minSide: 224)
        #expect(small.scaleEighths == 4)
        // 640 x 480 at 4/8, its edges rounded outwards to whole pixels at that scale.
        #expect((320...321).contains(small.image.width) && (240...241).contains(small.image.height))
        #expect(throws: ImagingError.self) {
            _ = try decoder.decode(
                photo, region: PixelRect(x: full.image.width - 50, y: 0, width: 100, height: 10), minSide: 10)
        }
    }
}

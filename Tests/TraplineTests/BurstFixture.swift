import Foundation
import Imaging
import TestSupport

/// Camera-trap-like bursts for the tests, made from real photos: a crop of a wallpaper as the scene and a
/// darknet photo's dog as the animal, walking across it from frame to frame, with sensor noise.
enum BurstFixture {
    /// One frame's truth: where the animal is, relative to the frame (nil: blank).
    typealias Truth = (x: Double, y: Double, width: Double, height: Double)?

    static func decode(_ path: String, width: Int, height: Int) throws -> RGBImage {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let decoded = try JPEGDecoder().decode(bytes, scale: .atLeast(width: width, height: height))
        return try Resampler.resize(decoded.image, width: width, height: height)
    }

    /// Writes a burst of JPEG frames into `folder` (`f00.jpg`, ...) and returns each frame's truth.
    /// - Parameters:
    ///   - folder: Where the frames go (created).
    ///   - frames: How many.
    ///   - width: Frame width; the height is three quarters of it.
    ///   - animal: Whether the dog walks through (else the burst is blank, noise only).
    ///   - fill: A constant gray level for every pixel instead of the scene (all-black, all-white frames).
    static func write(
        to folder: String, frames: Int, width: Int = 640, animal: Bool = true, fill: UInt8? = nil, seed: UInt64 = 1
    ) throws -> [Truth] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let height = width * 3 / 4
        let scene = try decode(try Fixtures.wallpaper("Path", "1280x1024.jpg"), width: width, height: height)
        let dogSize = (width: width / 5, height: width / 5)
        // darknet's dog.jpg: the dog sits in the lower left of the photo.
        let dogPhoto = try decode(try Fixtures.system("/usr/share/darknet/data/dog.jpg"), width: 768, height: 576)
        let dog = try Resampler.resize(
            dogPhoto, width: dogSize.width, height: dogSize.height,
            box: SourceBox(x0: 120, y0: 200, x1: 330, y1: 540))
        var state = seed
        var truths: [Truth] = []
        for k in 0..<frames {
            var pixels = fill.map { [UInt8](repeating: $0, count: width * height * 3) } ?? scene.pixels
            var truth: Truth = nil
            if animal && fill == nil {
                let x = width / 10 + k * (width * 7 / 10) / max(1, frames - 1)
                let y = height / 2
                for dy in 0..<dogSize.height {
                    for dx in 0..<dogSize.width where x + dx < width && y + dy < height {
                        for c in 0..<3 {
                            pixels[((y + dy) * width + x + dx) * 3 + c] = dog.pixels[(dy * dogSize.width + dx) * 3 + c]
                        }
                    }
                }
                truth = (
                    Double(x) / Double(width), Double(y) / Double(height), Double(dogSize.width) / Double(width),
                    Double(dogSize.height) / Double(height)
                )
            }
            if fill == nil {
                for i in pixels.indices {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let noise = Int((state >> 59) & 7) - 3  // -3...4
                    pixels[i] = UInt8(clamping: Int(pixels[i]) + noise)
                }
            }
            let image = try RGBImage(width: width, height: height, pixels: pixels)
            let path = folder + "/" + String(format: "f%03d.jpg", k)
            try Data(try JPEGEncoder.encode(image, quality: 90)).write(to: URL(fileURLWithPath: path))
            truths.append(truth)
        }
        return truths
    }

    static func iou(_ a: Truth, _ box: [String: Any]) -> Double {
        guard let a, let x = box["x"] as? Double, let y = box["y"] as? Double, let w = box["width"] as? Double,
            let h = box["height"] as? Double
        else { return 0 }
        let iw = min(a.x + a.width, x + w) - max(a.x, x)
        let ih = min(a.y + a.height, y + h) - max(a.y, y)
        guard iw > 0, ih > 0 else { return 0 }
        return iw * ih / (a.width * a.height + w * h - iw * ih)
    }
}

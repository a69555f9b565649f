/// A rectangle of whole pixels, its origin at the top-left corner.
public struct PixelRect: Sendable, Equatable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    /// Creates a rectangle.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}

/// A box relative to the upright frame, as Camtrap DP records one: `x` and `y` are its top-left corner and all
/// four are fractions of the frame's width and height, in 0...1.
public struct RelativeBox: Sendable, Equatable, Codable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    /// Creates a box.
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The area as a fraction of the frame's.
    public var area: Double { width * height }

    /// Intersection over union with another box (0 when either is empty).
    public func iou(_ other: RelativeBox) -> Double {
        let w = min(x + width, other.x + other.width) - max(x, other.x)
        let h = min(y + height, other.y + other.height) - max(y, other.y)
        guard w > 0, h > 0 else { return 0 }
        let inter = w * h
        let union = area + other.area - inter
        return union > 0 ? inter / union : 0
    }

    /// The square the classifier sees for this box in a frame of `frameWidth` x `frameHeight` upright pixels:
    /// centred on the box, the box's longer side plus `margin` of it on each side (context around the
    /// animal), at least `minSide` pixels, and shifted (never shrunk, unless the frame is smaller) to stay
    /// inside the frame.
    /// - Parameters:
    ///   - frameWidth: The frame's upright width in pixels.
    ///   - frameHeight: The frame's upright height in pixels.
    ///   - margin: Context on each side, as a fraction of the box's longer side.
    ///   - minSide: The smallest crop, in pixels.
    /// - Returns: The crop in upright pixels.
    public func squareCrop(frameWidth: Int, frameHeight: Int, margin: Double, minSide: Int) -> PixelRect {
        let boxWidth = width * Double(frameWidth)
        let boxHeight = height * Double(frameHeight)
        let wanted = max(boxWidth, boxHeight) * (1 + 2 * margin)
        let side = max(1, min(min(frameWidth, frameHeight), max(minSide, Int(wanted.rounded()))))
        let centreX = (x + width / 2) * Double(frameWidth)
        let centreY = (y + height / 2) * Double(frameHeight)
        let left = min(max(0, Int((centreX - Double(side) / 2).rounded())), frameWidth - side)
        let top = min(max(0, Int((centreY - Double(side) / 2).rounded())), frameHeight - side)
        return PixelRect(x: left, y: top, width: side, height: side)
    }
}

extension Orientation {
    /// Where an upright rectangle lies in the stored (not yet rotated) pixels.
    /// - Parameters:
    ///   - rect: A rectangle of the upright image.
    ///   - uprightWidth: The upright image's width.
    ///   - uprightHeight: The upright image's height.
    /// - Returns: The same pixels' rectangle in the stored image.
    public func storedRect(_ rect: PixelRect, uprightWidth: Int, uprightHeight: Int) -> PixelRect {
        let a = storedPoint(rect.x, rect.y, uprightWidth, uprightHeight)
        let b = storedPoint(rect.x + rect.width - 1, rect.y + rect.height - 1, uprightWidth, uprightHeight)
        return PixelRect(x: min(a.0, b.0), y: min(a.1, b.1), width: abs(a.0 - b.0) + 1, height: abs(a.1 - b.1) + 1)
    }

    /// EXIF 2.32, tag 0x0112: where the upright image's pixel (x, y) is stored, in an upright image `w` x `h`.
    func storedPoint(_ x: Int, _ y: Int, _ w: Int, _ h: Int) -> (Int, Int) {
        switch self {
        case .up: return (x, y)
        case .upMirrored: return (w - 1 - x, y)
        case .down: return (w - 1 - x, h - 1 - y)
        case .downMirrored: return (x, h - 1 - y)
        case .leftMirrored: return (y, x)
        case .right: return (y, w - 1 - x)
        case .rightMirrored: return (h - 1 - y, w - 1 - x)
        case .left: return (h - 1 - y, x)
        }
    }
}

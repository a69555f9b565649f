extension RGBImage {
    /// The image turned upright according to its EXIF orientation.
    /// - Parameter orientation: How the stored pixels relate to the upright scene.
    /// - Returns: The upright image (the same image for `.up`).
    public func applying(_ orientation: Orientation) -> RGBImage {
        if orientation == .up { return self }
        let outWidth = orientation.swapsDimensions ? height : width
        let outHeight = orientation.swapsDimensions ? width : height
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let (sx, sy) = sourceCoordinate(x, y, outWidth, outHeight, orientation)
                        let from = (sy * width + sx) * 3
                        let to = (y * outWidth + x) * 3
                        target[to] = source[from]
                        target[to + 1] = source[from + 1]
                        target[to + 2] = source[from + 2]
                    }
                }
            }
        }
        return RGBImage(uncheckedWidth: outWidth, height: outHeight, pixels: out)
    }

    // EXIF 2.32, tag 0x0112: where the upright image's pixel (x, y) is stored.
    private func sourceCoordinate(_ x: Int, _ y: Int, _ outWidth: Int, _ outHeight: Int, _ o: Orientation) -> (Int, Int)
    {
        switch o {
        case .up: return (x, y)
        case .upMirrored: return (outWidth - 1 - x, y)
        case .down: return (outWidth - 1 - x, outHeight - 1 - y)
        case .downMirrored: return (x, outHeight - 1 - y)
        case .leftMirrored: return (y, x)
        case .right: return (y, outWidth - 1 - x)
        case .rightMirrored: return (outHeight - 1 - y, outWidth - 1 - x)
        case .left: return (outHeight - 1 - y, x)
        }
    }
}

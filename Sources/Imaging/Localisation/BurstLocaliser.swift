/// How the burst localiser decides what moved. The defaults were chosen on the training split of
/// `trapline_training.bursts` (docs/localisation.md) and are not tuned per site.
public struct LocaliserSettings: Sendable, Equatable {
    /// The analysis frames' width in pixels.
    public var gridWidth = 160
    /// The fewest frames of one size that make a background model; fewer, and frames are labelled whole.
    public var minFrames = 3
    /// A difference must exceed this many times the frame's robust noise (1.4826 x its median absolute
    /// difference from the background) ...
    public var noiseMultiplier: Float = 4
    /// ... and this many times the pixel's own spread over the burst (what swaying vegetation raises) ...
    public var pixelMultiplier: Float = 3
    /// ... and this many gray levels.
    public var minDifference: Float = 12
    /// A region found grows into connected pixels that differ by at least this fraction of the threshold.
    public var growFraction: Float = 0.5
    /// Moving regions smaller than this fraction of the frame are dropped as noise.
    public var minAreaFraction = 0.0015
    /// When more than this fraction of a frame differs from the background, the change is global (the
    /// light, the camera moved): no boxes are trusted for that frame.
    public var maxMovingFraction = 0.4
    /// At most this many boxes per frame, the strongest first.
    public var maxBoxes = 3
    /// Uniform dark or bright bands at the top and bottom (a camera's info strip) up to this fraction of
    /// the height are ignored.
    public var maxStripFraction = 0.12

    /// The defaults.
    public init() {}
}

/// A moving region of one frame.
public struct MotionBox: Sendable, Equatable {
    public var box: RelativeBox
    /// The region's mean difference from the background over its threshold (1 is just moving).
    public var score: Double

    /// Creates a motion box.
    public init(box: RelativeBox, score: Double) {
        self.box = box
        self.score = score
    }
}

/// What the localiser found in one frame.
public struct FrameMotion: Sendable, Equatable {
    /// Moving regions, strongest first.
    public var boxes: [MotionBox]
    /// The fraction of the (strip-free) frame that differs from the background.
    public var movingFraction: Double
    /// Whether the frame changed as a whole (then `boxes` is empty: nothing can be localised in it).
    public var globalChange: Bool

    /// Creates a frame's result.
    public init(boxes: [MotionBox], movingFraction: Double, globalChange: Bool) {
        self.boxes = boxes
        self.movingFraction = movingFraction
        self.globalChange = globalChange
    }
}

/// Finds what moves in a burst: a per-pixel median of the burst's exposure-matched frames is the static
/// background; each frame's difference from it, above a threshold that adapts to the frame's noise and to
/// each pixel's own spread over the burst, is cleaned by a morphological opening and closing, and its
/// connected regions become boxes. Pure arithmetic over `GrayFrame`s, so it is tested on synthetic frames.
public struct BurstLocaliser: Sendable {
    public var settings: LocaliserSettings

    /// Creates a localiser.
    public init(settings: LocaliserSettings = LocaliserSettings()) {
        self.settings = settings
    }

    /// The rows at the top and bottom of a background that are a camera's info strip.
    /// - Parameter background: The background (or any frame).
    /// - Returns: How many rows to ignore at the top and at the bottom.
    public func stripRows(_ background: GrayFrame) -> (top: Int, bottom: Int) {
        let limit = Int(Double(background.height) * settings.maxStripFraction)
        func isStrip(_ row: Int) -> Bool {
            let values = Array(background.pixels[(row * background.width)..<((row + 1) * background.width)])
            let middle = Self.median(values)
            guard middle < 45 || middle > 210 else { return false }
            let near = values.reduce(0) { $0 + (abs($1 - middle) <= 12 ? 1 : 0) }
            return Double(near) >= 0.6 * Double(values.count)
        }
        var top = 0
        while top < limit, isStrip(top) { top += 1 }
        var bottom = 0
        while bottom < limit, isStrip(background.height - 1 - bottom) { bottom += 1 }
        // One more row each side: the band's edge blurs into the picture when the frame is scaled down.
        return (top > 0 ? top + 1 : 0, bottom > 0 ? bottom + 1 : 0)
    }

    /// Localises motion in every frame of a burst.
    /// - Parameter frames: The burst's analysis frames, all the same size, in time order.
    /// - Returns: One result per frame, or nil when there are fewer than `minFrames` frames or their sizes
    ///   differ (the frames are then labelled whole).
    public func localise(_ frames: [GrayFrame]) -> [FrameMotion]? {
        guard frames.count >= max(2, settings.minFrames), let first = frames.first,
            frames.allSatisfy({ $0.width == first.width && $0.height == first.height })
        else { return nil }
        let width = first.width
        let height = first.height
        let count = width * height
        let blurred = frames.map { Self.boxBlur($0.pixels, width: width, height: height) }
        let provisional = Self.pixelMedian(blurred, count: count)
        let strips = stripRows(GrayFrame(width: width, height: height, pixels: provisional, geometry: first.geometry))
        let rows = strips.top..<max(strips.top, height - strips.bottom)
        let usable = rows.count * width
        guard usable > 0 else {
            return frames.map { _ in FrameMotion(boxes: [], movingFraction: 0, globalChange: false) }
        }
        // Exposure: each frame's gain against the provisional background (the median ratio over pixels that
        // are not near black), so a flash or an auto-exposure step does not read as motion.
        let matched = blurred.map { frame -> [Float] in
            var ratios: [Float] = []
            ratios.reserveCapacity(usable / 3 + 1)
            for row in rows {
                for i in stride(from: row * width, to: (row + 1) * width, by: 3)
                where frame[i] > 8 && provisional[i] > 8 {
                    ratios.append(provisional[i] / frame[i])
                }
            }
            let gain = ratios.isEmpty ? 1 : min(2, max(0.5, Self.median(ratios)))
            return frame.map { $0 * gain }
        }
        let background = Self.pixelMedian(matched, count: count)
        let residuals = matched.map { frame in (0..<count).map { abs(frame[$0] - background[$0]) } }
        let spread = Self.pixelMedian(residuals, count: count)
        var results: [FrameMotion] = []
        for residual in residuals {
            let noise = 1.4826 * Self.median(Array(residual[(rows.lowerBound * width)..<(rows.upperBound * width)]))
            let frameFloor = max(settings.minDifference, settings.noiseMultiplier * noise)
            var mask = [Bool](repeating: false, count: count)
            var weak = [Bool](repeating: false, count: count)
            var excess = [Float](repeating: 0, count: count)
            // A frame that differs everywhere (another scene, the light switched) also has a large "noise": the
            // share that moves is judged before the threshold adapts to it.
            var changed = 0
            for row in rows {
                for i in (row * width)..<((row + 1) * width) {
                    let pixelFloor = max(settings.minDifference, settings.pixelMultiplier * 1.4826 * spread[i])
                    if residual[i] > pixelFloor { changed += 1 }
                    let threshold = max(frameFloor, pixelFloor)
                    excess[i] = residual[i] / threshold
                    if residual[i] > threshold {
                        mask[i] = true
                    } else if residual[i] > threshold * settings.growFraction {
                        weak[i] = true
                    }
                }
            }
            let movingFraction = Double(changed) / Double(usable)
            if movingFraction > settings.maxMovingFraction {
                results.append(FrameMotion(boxes: [], movingFraction: movingFraction, globalChange: true))
                continue
            }
            mask = Self.erode(mask, width: width, height: height)
            mask = Self.dilate(mask, width: width, height: height)
            mask = Self.dilate(Self.dilate(mask, width: width, height: height), width: width, height: height)
            mask = Self.erode(Self.erode(mask, width: width, height: height), width: width, height: height)
            mask = Self.grow(mask, into: weak, width: width, height: height)
            let boxes = regions(mask, excess: excess, width: width, height: height)
            results.append(FrameMotion(boxes: boxes, movingFraction: movingFraction, globalChange: false))
        }
        return results
    }

    /// Connected regions (8-connected) of a mask as boxes: small ones dropped, overlapping ones merged, the
    /// strongest (score x area) first.
    private func regions(_ mask: [Bool], excess: [Float], width: Int, height: Int) -> [MotionBox] {
        var seen = [Bool](repeating: false, count: mask.count)
        var found: [(x0: Int, y0: Int, x1: Int, y1: Int, area: Int, sum: Double)] = []
        var stack: [Int] = []
        for start in mask.indices where mask[start] && !seen[start] {
            seen[start] = true
            stack.append(start)
            var box = (x0: width, y0: height, x1: -1, y1: -1, area: 0, sum: 0.0)
            while let at = stack.popLast() {
                let x = at % width
                let y = at / width
                box = (
                    min(box.x0, x), min(box.y0, y), max(box.x1, x), max(box.y1, y), box.area + 1,
                    box.sum + Double(excess[at])
                )
                Self.forNeighbours(of: at, width: width, height: height) { next in
                    if mask[next] && !seen[next] {
                        seen[next] = true
                        stack.append(next)
                    }
                }
            }
            found.append(box)
        }
        let minArea = max(4, Int(settings.minAreaFraction * Double(width * height)))
        var kept = found.filter { $0.area >= minArea }
        // Merge boxes that overlap once grown by two analysis pixels: one animal often splits into parts.
        var merged = true
        while merged {
            merged = false
            outer: for i in kept.indices {
                for j in kept.indices where j > i {
                    let a = kept[i]
                    let b = kept[j]
                    if a.x0 - 2 <= b.x1 && b.x0 - 2 <= a.x1 && a.y0 - 2 <= b.y1 && b.y0 - 2 <= a.y1 {
                        kept[i] = (
                            min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1), a.area + b.area,
                            a.sum + b.sum
                        )
                        kept.remove(at: j)
                        merged = true
                        break outer
                    }
                }
            }
        }
        kept.sort { $0.sum > $1.sum }
        return kept.prefix(settings.maxBoxes).map { r in
            MotionBox(
                box: RelativeBox(
                    x: Double(r.x0) / Double(width), y: Double(r.y0) / Double(height),
                    width: Double(r.x1 - r.x0 + 1) / Double(width), height: Double(r.y1 - r.y0 + 1) / Double(height)),
                score: r.sum / Double(r.area))
        }
    }

    /// The seeds plus every weak pixel connected (8-connected, through weak pixels) to one: hysteresis, so an
    /// animal whose parts only just differ from the background is boxed whole, not by its strongest fragment.
    static func grow(_ seeds: [Bool], into weak: [Bool], width: Int, height: Int) -> [Bool] {
        var out = seeds
        var stack = seeds.indices.filter { seeds[$0] }
        while let at = stack.popLast() {
            forNeighbours(of: at, width: width, height: height) { next in
                if weak[next] && !out[next] {
                    out[next] = true
                    stack.append(next)
                }
            }
        }
        return out
    }

    /// Calls `body` with the index of each of a pixel's eight neighbours inside the frame.
    static func forNeighbours(of at: Int, width: Int, height: Int, _ body: (Int) -> Void) {
        let x = at % width
        let y = at / width
        for ny in max(0, y - 1)...min(height - 1, y + 1) {
            for nx in max(0, x - 1)...min(width - 1, x + 1) where nx != x || ny != y {
                body(ny * width + nx)
            }
        }
    }

    static func median(_ values: [Float]) -> Float {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    static func pixelMedian(_ frames: [[Float]], count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        var column = [Float](repeating: 0, count: frames.count)
        for i in 0..<count {
            for k in frames.indices { column[k] = frames[k][i] }
            column.sort()
            let mid = column.count / 2
            out[i] = column.count % 2 == 1 ? column[mid] : (column[mid - 1] + column[mid]) / 2
        }
        return out
    }

    static func boxBlur(_ pixels: [Float], width: Int, height: Int) -> [Float] {
        var out = [Float](repeating: 0, count: pixels.count)
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                var n: Float = 0
                for dy in max(0, y - 1)...min(height - 1, y + 1) {
                    for dx in max(0, x - 1)...min(width - 1, x + 1) {
                        sum += pixels[dy * width + dx]
                        n += 1
                    }
                }
                out[y * width + x] = sum / n
            }
        }
        return out
    }

    static func erode(_ mask: [Bool], width: Int, height: Int) -> [Bool] { morph(mask, width, height, all: true) }
    static func dilate(_ mask: [Bool], width: Int, height: Int) -> [Bool] { morph(mask, width, height, all: false) }

    // A 3x3 erosion (every neighbour set) or dilation (any neighbour set); outside the frame counts as unset
    // for a dilation and set for an erosion, so regions touching the edge survive an opening.
    private static func morph(_ mask: [Bool], _ width: Int, _ height: Int, all: Bool) -> [Bool] {
        var out = [Bool](repeating: false, count: mask.count)
        for y in 0..<height {
            for x in 0..<width {
                var value = all
                for dy in max(0, y - 1)...min(height - 1, y + 1) {
                    for dx in max(0, x - 1)...min(width - 1, x + 1) where mask[dy * width + dx] != all {
                        value = !all
                    }
                }
                out[y * width + x] = value
            }
        }
        return out
    }
}

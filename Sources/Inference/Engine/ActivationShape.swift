/// The shape of one image's activation at a unit boundary (NHWC without the batch dimension).
public struct ActivationShape: Sendable, Equatable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int

    /// Values per image.
    public var count: Int { height * width * channels }

    public var description: String { "\(height)x\(width)x\(channels)" }
}

extension ModelMetadata {
    /// The activation shape entering each unit, plus the logits after the last: `units.count + 1` shapes.
    var boundaryShapes: [ActivationShape] {
        var shapes = [ActivationShape(height: input.height, width: input.width, channels: input.channels)]
        for unit in units {
            let last = shapes[shapes.count - 1]
            switch unit.kind {
            case .stem, .mbconv:
                let stride = unit.stride ?? 1
                let rows = SamePadding(input: last.height, kernel: unit.kernel ?? 1, stride: stride)
                let cols = SamePadding(input: last.width, kernel: unit.kernel ?? 1, stride: stride)
                shapes.append(ActivationShape(height: rows.output, width: cols.output, channels: unit.outChannels ?? 0))
            case .head:
                shapes.append(ActivationShape(height: 1, width: 1, channels: unit.classes ?? 0))
            }
        }
        return shapes
    }
}

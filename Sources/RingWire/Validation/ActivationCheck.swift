/// What a node checks of every batch that reaches it, before the batch is queued: pure arithmetic over the
/// message and the ring's shape, so that it can be fuzzed on its own.
public struct ActivationCheck: Sendable {
    /// This node's name.
    public var node: String
    /// The ring's slice plan (unit boundaries).
    public var plan: [Int]
    /// Values per image entering each unit (index: unit; the last entry is the logits' width).
    public var widths: [Int]
    /// The largest batch.
    public var maxBatch: Int
    /// The ring's members.
    public var members: Set<String>

    /// Creates a check.
    public init(node: String, plan: [Int], widths: [Int], maxBatch: Int, members: Set<String>) {
        self.node = node
        self.plan = plan
        self.widths = widths
        self.maxBatch = maxBatch
        self.members = members
    }

    /// Checks a batch of activations addressed to this node.
    /// - Throws: `RingError` with `malformed`, saying what does not fit.
    public func validate(_ message: Trapline_Ring_V1_Activations) throws {
        let hopIndex = Int(message.hopIndex)
        guard hopIndex < message.route.count else {
            throw RingError(.malformed, "hop \(hopIndex) is outside a route of \(message.route.count) hops")
        }
        let hop = message.route[hopIndex]
        guard hop.node == node else {
            throw RingError(.malformed, "hop \(hopIndex) is for node \"\(hop.node)\", not \"\(node)\"")
        }
        guard message.sliceBounds.map(Int.init) == plan else {
            throw RingError(.malformed, "the sender's slice plan \(message.sliceBounds) is not this ring's \(plan)")
        }
        // Any contiguous range of the model's units: the head moves boundaries between slices' units as nodes
        // slow down (every node holds the whole model).
        let units = Int(hop.firstUnit)..<max(Int(hop.firstUnit), Int(hop.endUnit))
        guard !units.isEmpty, units.upperBound <= plan.last ?? 0, Int(message.unit) == units.lowerBound else {
            throw RingError(
                .malformed,
                "hop units \(hop.firstUnit)..<\(hop.endUnit) are not a range of the model's \(plan.last ?? 0)")
        }
        guard (1...maxBatch).contains(Int(message.batch)) else {
            throw RingError(.malformed, "batch of \(message.batch) images is outside 1...\(maxBatch)")
        }
        guard members.contains(message.head) else {
            throw RingError(.malformed, "head \"\(message.head)\" is not a member of the ring")
        }
        guard units.lowerBound < widths.count else {
            throw RingError(.malformed, "unit \(units.lowerBound) is outside the model")
        }
        let values = Int(message.batch) * widths[units.lowerBound]
        let expected = try ActivationCodec.byteCount(of: message.data, values: values, WireEncoding(message.encoding))
        guard message.data.count == expected else {
            throw RingError(.malformed, "payload of \(message.data.count) bytes, expected \(expected)")
        }
    }
}

/// What the page shows of the ring (or of the single node): one row per node.
public struct RingView: Sendable {
    public struct Node: Sendable {
        public var name: String
        /// `up`, `bypassed` (the route skips it), or `not answering` (to the page's stats request).
        public var state: String
        /// Whether the head's route skips the node (it may answer stats and still be bypassed, or the reverse).
        public var bypassed: Bool
        /// The units the node's slices cover (`0-5`), and the level of each of its slices.
        public var units: String
        public var levels: [Double]
        public var meanServiceMs: Double?
        /// Measured service time over the profiled time at the same level, where the node has a profile.
        public var slowdown: Double?
        public var temperatureCelsius: Double?
        /// Batches whose images the node prepared for the head (`ring.offload`); nil for the head itself.
        public var prepared: UInt64?
        /// Why the node did not answer, or other detail.
        public var detail: String?

        public init(
            name: String, state: String, bypassed: Bool = false, units: String, levels: [Double],
            meanServiceMs: Double? = nil, slowdown: Double? = nil, temperatureCelsius: Double? = nil,
            prepared: UInt64? = nil, detail: String? = nil
        ) {
            self.name = name
            self.state = state
            self.bypassed = bypassed
            self.units = units
            self.levels = levels
            self.meanServiceMs = meanServiceMs
            self.slowdown = slowdown
            self.temperatureCelsius = temperatureCelsius
            self.prepared = prepared
            self.detail = detail
        }
    }

    public var nodes: [Node]
    /// The level of every slice in ring order (the metrics' `trapline_slice_level`); nil where unknown.
    public var sliceLevels: [Double?]

    public init(nodes: [Node], sliceLevels: [Double?]) {
        self.nodes = nodes
        self.sliceLevels = sliceLevels
    }
}

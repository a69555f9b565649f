/// What the head node measured for one completed batch, and what it knows about the next one.
public struct BatchObservation: Sendable, Equatable {
    /// The number of images in the batch (the next batch is predicted at the same size).
    public var batchSize: Int
    /// The measured compute milliseconds of each slice for this batch, indexed by slice.
    public var sliceMs: [Double]
    /// The level each slice actually ran at, indexed by slice.
    public var sliceLevels: [Int]
    /// The stage (node) each slice ran on, indexed by slice; a node that took over a failed node's slice hosts
    /// two slices. Empty means slice `i` on stage `i`.
    public var placement: [Int]
    /// The measured transfer milliseconds of each hop between stages (may be empty).
    public var linkMs: [Double]
    /// Images per second arriving at the head, smoothed by the caller; 0 means no throughput constraint.
    public var arrivalRate: Double
    /// Batches waiting at the head, not counting the next one.
    public var backlogBatches: Double
    /// The time budget of the next batch (its SLO) in milliseconds; a value that is not a positive finite number
    /// means no deadline.
    public var deadlineMs: Double
    /// What each hop of the batch ran and took, in route order: what a controller with ``UnitProfiles`` measures
    /// nodes by (the others use ``sliceMs``).
    public var hops: [HopSample] = []
    /// Per member, the least slowdown to plan it at: above 1 for a node about to throttle (its temperature near
    /// the firmware's limit), before the slowdown shows in its measured times; 0 or empty: nothing anticipated.
    public var anticipatedSlowdowns: [Double] = []
    /// Per member, milliseconds per image it spends on each batch outside its units and competing with them for
    /// its CPU: the head's reading, decoding, localising, labelling and cataloguing. The joint search adds it
    /// (smoothed, times the batch size) to the member's stage, so a head busy with images gives its units away
    /// before anything is pruned. Empty or 0: none.
    public var overheadMs: [Double] = []

    /// Creates an observation.
    /// - Parameters:
    ///   - batchSize: The number of images in the batch.
    ///   - sliceMs: The measured compute milliseconds of each slice.
    ///   - sliceLevels: The level each slice ran at.
    ///   - placement: The stage each slice ran on; empty for one slice per stage.
    ///   - linkMs: The measured transfer milliseconds of each hop.
    ///   - arrivalRate: Images per second arriving at the head.
    ///   - backlogBatches: Batches waiting at the head, not counting the next one.
    ///   - deadlineMs: The time budget of the next batch.
    public init(
        batchSize: Int, sliceMs: [Double], sliceLevels: [Int], placement: [Int] = [], linkMs: [Double] = [],
        arrivalRate: Double, backlogBatches: Double, deadlineMs: Double
    ) {
        self.batchSize = batchSize
        self.sliceMs = sliceMs
        self.sliceLevels = sliceLevels
        self.placement = placement
        self.linkMs = linkMs
        self.arrivalRate = arrivalRate
        self.backlogBatches = backlogBatches
        self.deadlineMs = deadlineMs
    }
}

/// One hop of a batch: the node, the units it ran, its compute time and the transfer that brought the batch to it.
public struct HopSample: Sendable, Equatable {
    /// The node's index in the ring's member list.
    public var node: Int
    /// The units it ran.
    public var units: Range<Int>
    /// Its compute milliseconds (decoding and encoding activations excluded).
    public var computeMs: Double
    /// Milliseconds from the previous hop's end of compute to this node holding the batch (0 for the first hop).
    public var linkMs: Double

    /// Creates a sample.
    public init(node: Int, units: Range<Int>, computeMs: Double, linkMs: Double) {
        self.node = node
        self.units = units
        self.computeMs = computeMs
        self.linkMs = linkMs
    }
}

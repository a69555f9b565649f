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

/// Chooses each slice's prune level for the next batch from what the head measured on the last one.
///
/// The adaptive policy is the controller of "Environment-Aware Dynamic Pruning for Pipelined Edge Inference"
/// (arXiv 2503.03070): it turns each slice's measured time into a slowdown against its profile, predicts every
/// level vector's stage times, and picks the most accurate vector whose slowest stage keeps up with arrivals and
/// whose next batch meets its deadline. It prunes at once and relaxes only after the slack has lasted (see
/// ``ControllerSettings/relaxAfter`` and ``ControllerSettings/relaxMargin``).
public struct Controller: Sendable {
    /// How levels are chosen.
    public let policy: Policy
    /// The controller's knobs.
    public let settings: ControllerSettings
    /// Each slice's profile, indexed by slice.
    public let profiles: [SliceProfile]
    /// The model's accuracy curves.
    public let accuracy: AccuracyTable
    /// The number of prune levels (level 0 is full width).
    public let levelCount: Int
    /// The level of each slice for the next batch.
    public internal(set) var levels: [Int]

    /// Per-unit profiles: when present, boundaries move as well as levels.
    public let units: UnitProfiles?
    /// The members that run the next batch, in route order (empty without ``units``).
    public internal(set) var stageNodes: [Int] = []
    /// Their unit boundaries (empty without ``units``).
    public internal(set) var bounds: [Int] = []

    let space: LevelSpace
    /// Vector indices from the most accurate down (ties: the lower index), for the joint search.
    let order: [Int]
    /// Whether boundaries and levels are searched together (``units`` given).
    public let joint: Bool
    /// Whether the adaptive joint choice uses the frontier search (``FrontierSearch``) instead of walking every level
    /// vector: when vectors times the partition search's work exceed ``ControllerSettings/walkedSearchLimit`` (by
    /// default always).
    public let usesFrontier: Bool
    /// The frontier search's relaxation candidates: per level vector, the consecutive batches it has fit, and fit
    /// within the relax margin (the walked search keeps these for every vector; this one for those it proposed).
    var frontierStreaks: [[Int]: (fit: Int, slack: Int)] = [:]
    var nodeSmoothers: [Smoother] = []
    /// Per member: the least slowdown to plan with, from the latest observation (a node about to throttle).
    var anticipated: [Double] = []
    /// Per member: smoothed milliseconds per activation value it sends to the next stage.
    var rateSmoothers: [Smoother] = []
    /// Per member: smoothed milliseconds per image of its work outside its units (``BatchObservation/overheadMs``).
    var overheadSmoothers: [Smoother] = []
    var sliceSmoothers: [Smoother]
    var linkSmoothers: [Smoother] = []
    /// Per level-vector index: consecutive batches the vector has fit within the relax margin.
    var streaks: [Int]
    /// Per level-vector index: consecutive batches the vector has fit at all (the joint search's long relaxation).
    var fitStreaks: [Int] = []

    /// The smoothed slowdown of each slice (measured over profiled time); 1 before the slice's first sample.
    public var slowdowns: [Double] { sliceSmoothers.map { $0.value ?? 1 } }

    /// The smoothed transfer milliseconds of each hop.
    public var linkMs: [Double] { linkSmoothers.map { $0.value ?? 0 } }

    /// Creates a controller with every slice at full width (or at the fixed policy's levels).
    /// - Parameters:
    ///   - profiles: Each slice's profiled service times, indexed by slice.
    ///   - accuracy: The model's per-slice accuracy curves.
    ///   - levelCount: The number of prune levels, full width included.
    ///   - policy: How levels are chosen.
    ///   - settings: The controller's knobs.
    ///   - units: Per-unit profiles of every member, to move boundaries (needed by ``Policy/repartition``).
    /// - Throws: ``ControlError`` when the counts of profiles, curves and levels disagree, a profile or curve is
    ///   invalid, a fixed vector does not fit, a setting is out of range, or the level space is too large.
    public init(
        profiles: [SliceProfile], accuracy: AccuracyTable, levelCount: Int, policy: Policy,
        settings: ControllerSettings = ControllerSettings(), units: UnitProfiles? = nil
    ) throws(ControlError) {
        try Self.validate(profiles: profiles, accuracy: accuracy, levelCount: levelCount)
        try Self.validate(policy: policy, sliceCount: profiles.count, levelCount: levelCount)
        try settings.validate()
        if let units {
            try units.validate(levelCount: levelCount)
            guard units.plan.count - 1 == profiles.count else {
                throw ControlError(
                    .mismatch,
                    "the unit profiles' plan \(units.plan) has \(units.plan.count - 1) slices, not \(profiles.count)")
            }
        } else if policy == .repartition {
            throw ControlError(
                .invalidPolicy, "the repartition policy needs every unit's profile; run `trapline profile` again")
        }
        self.units = units
        // A space too large to walk is only numbered: with unit profiles the frontier search chooses in it; without
        // them the adaptive policy keeps its levels and says why (an 8-node ring of a six-option model has 1.7 M
        // vectors), rather than the controller refusing to start.
        self.space = try LevelSpace(
            sliceCount: profiles.count, levelCount: levelCount, table: accuracy, floor: settings.accuracyFloor,
            enumerate: false)
        self.policy = policy
        self.settings = settings
        self.profiles = profiles
        self.accuracy = accuracy
        self.levelCount = levelCount
        self.levels = Self.startLevels(policy, sliceCount: profiles.count)
        self.sliceSmoothers = Array(repeating: Smoother(), count: profiles.count)
        let walked = space.isEnumerated ? space.count : 0
        self.streaks = Array(repeating: 0, count: walked)
        self.fitStreaks = Array(repeating: 0, count: walked)
        let accuracies = space.accuracy
        self.order = accuracies.indices.sorted {
            accuracies[$0] > accuracies[$1] || (accuracies[$0] == accuracies[$1] && $0 < $1)
        }
        let levelSpace = space
        self.joint = units != nil
        self.usesFrontier =
            units.map { !Self.jointFits(space: levelSpace, units: $0, limit: settings.walkedSearchLimit) } ?? false
        if let units {
            stageNodes = Array(units.nodes.indices)
            bounds = units.planBounds(for: stageNodes)
            nodeSmoothers = Array(repeating: Smoother(), count: units.nodes.count)
            overheadSmoothers = Array(repeating: Smoother(), count: units.nodes.count)
            rateSmoothers = Array(repeating: Smoother(), count: units.nodes.count)
        }
    }

    /// Whether walking every level vector, with the partition search for each, stays within `limit`
    /// (``ControllerSettings/walkedSearchLimit``).
    static func jointFits(space: LevelSpace, units: UnitProfiles, limit: Int) -> Bool {
        let perVector = units.nodes.count * units.unitCount * units.unitCount
        return space.isEnumerated && space.count <= limit / max(perVector, 1)
    }

    private static func startLevels(_ policy: Policy, sliceCount: Int) -> [Int] {
        if case .fixed(let levels) = policy { return levels }
        return Array(repeating: 0, count: sliceCount)
    }
}

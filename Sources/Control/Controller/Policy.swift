/// How the controller chooses prune levels.
public enum Policy: Sendable, Equatable {
    /// Never prune: every slice runs at full width.
    case none
    /// Always run this level vector (`static` in the config): the offline-pruning baseline.
    case fixed([Int])
    /// Move slice boundaries every batch from measured slowdowns, never pruning (needs ``UnitProfiles``).
    case repartition
    /// Choose levels every batch from measured slowdowns (the paper's controller); with ``UnitProfiles`` it
    /// chooses boundaries and levels together, moving work before pruning it.
    case adaptive
}

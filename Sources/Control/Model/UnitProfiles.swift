/// What the controller needs to move slice boundaries as well as prune: every unit's profiled time on every
/// node, and the size of the activation at every unit boundary (what a link carries when the boundary is
/// placed there).
///
/// Levels stay per slice of ``plan`` (the slices the model's accuracy curves were measured for): unit `u` runs
/// at the level of the plan slice that contains it, whichever node runs it.
public struct UnitProfiles: Sendable, Equatable {
    /// The slices the level vector refers to: slice `i` is units `plan[i]..<plan[i + 1]`.
    public var plan: [Int]
    /// Per node in ring order, per unit: the unit's profile (`units == [u, u + 1]`).
    public var nodes: [[SliceProfile]]
    /// Values per image entering each unit boundary `0...unitCount` (index `unitCount` is the network's output).
    public var boundaryValues: [Int]

    /// Creates the profiles.
    /// - Parameters:
    ///   - plan: The slices the level vector refers to.
    ///   - nodes: Per node in ring order, per unit: the unit's profile.
    ///   - boundaryValues: Values per image entering each unit boundary.
    public init(plan: [Int], nodes: [[SliceProfile]], boundaryValues: [Int]) {
        self.plan = plan
        self.nodes = nodes
        self.boundaryValues = boundaryValues
    }

    /// The number of units.
    public var unitCount: Int { plan.last ?? 0 }

    /// The plan slice of every unit.
    var sliceOfUnit: [Int] {
        var slices: [Int] = []
        for slice in 0..<max(plan.count - 1, 0) {
            slices += Array(repeating: slice, count: max(plan[slice + 1] - plan[slice], 0))
        }
        return slices
    }

    /// The plan's boundaries for the stages in `nodes` (ascending node indices): each node runs its own plan
    /// slice and the slices of the nodes after it that are missing, as the ring routes around a node that failed.
    func planBounds(for stageNodes: [Int]) -> [Int] {
        guard let first = stageNodes.first else { return [0, unitCount] }
        var bounds = [0]
        for node in stageNodes.dropFirst() where node > first && node < plan.count - 1 {
            bounds.append(plan[node])
        }
        bounds.append(unitCount)
        return bounds
    }

    /// Checks the profiles against the level count and the plan.
    /// - Throws: ``ControlError`` naming what does not fit.
    func validate(levelCount: Int) throws(ControlError) {
        let units = unitCount
        guard plan.count >= 2, plan.first == 0, zip(plan, plan.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ControlError(.mismatch, "the slice plan \(plan) must start at 0 and ascend")
        }
        guard !nodes.isEmpty else { throw ControlError(.mismatch, "there are no nodes to place units on") }
        guard boundaryValues.count == units + 1, boundaryValues.allSatisfy({ $0 > 0 }) else {
            throw ControlError(
                .mismatch, "give a positive activation size for each of the \(units + 1) unit boundaries")
        }
        for node in nodes {
            guard node.count == units else {
                throw ControlError(
                    .mismatch,
                    "node '\(node.first?.node ?? "?")' has \(node.count) unit profiles for \(units) units; run "
                        + "`trapline profile` on it with this model")
            }
            for (unit, profile) in node.enumerated() {
                guard profile.units == [unit, unit + 1] else {
                    throw ControlError(
                        .mismatch, "profile \(unit) of node '\(profile.node)' is of units \(profile.units)")
                }
                try profile.validate(levelCount: levelCount)
            }
        }
    }
}

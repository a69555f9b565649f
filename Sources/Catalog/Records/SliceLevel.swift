/// What one slice ran for a batch, as the catalog records it: the prune fraction of its width level, or a named
/// slice option (for example `skip`: its skippable residual blocks skipped). A width level is written as its
/// number (`0.5`), an option as a JSON string (`"skip"`), so that `pruneLevels` stays a JSON array.
public struct SliceLevel: Sendable, Equatable, Hashable, ExpressibleByFloatLiteral, CustomStringConvertible {
    /// The prune fraction the slice's unskipped units ran at.
    public var fraction: Double
    /// The slice option's name, or nil for a plain width level.
    public var option: String?

    public init(fraction: Double, option: String? = nil) {
        self.fraction = fraction
        self.option = option
    }

    public init(floatLiteral value: Double) {
        self.init(fraction: value)
    }

    /// The JSON text the catalog writes.
    public var description: String { option.map { "\"\($0)\"" } ?? "\(fraction)" }
}

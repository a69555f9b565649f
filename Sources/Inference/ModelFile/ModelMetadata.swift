/// The `trapline` metadata of a model file (docs/model-file.md).
public struct ModelMetadata: Sendable, Codable, Equatable {
    public struct Input: Sendable, Codable, Equatable {
        public var width: Int
        public var height: Int
        public var channels: Int
        public var mean: [Float]
        public var scale: [Float]
        public var crop: String
    }

    /// One unit of the network: the stem, an inverted-residual block, or the head.
    public struct Unit: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable {
            case stem, mbconv, head
        }

        public var kind: Kind
        public var inChannels: Int
        public var outChannels: Int?
        public var expandedChannels: Int?
        public var expand: Bool?
        public var kernel: Int?
        public var stride: Int?
        public var features: Int?
        public var classes: Int?
    }

    public struct Classes: Sendable, Codable, Equatable {
        public var names: [String]
        public var animalRanges: [[Int]]
    }

    public var format: String
    public var formatVersion: Int
    public var name: String
    public var architecture: String
    public var activation: String
    public var padding: String
    public var batchNormEpsilon: Float
    public var input: Input
    public var units: [Unit]
    public var pruneLevels: [Double]
    public var keptChannels: [[Int]]
    public var slicePlans: [String: [Int]]
    public var unitCostsMs: [Double]?
    public var classes: Classes
    public var provenance: [String: String]?
    public var license: String?
    /// Measured accuracy of the pruned network (the controller's accuracy curves), if the file carries them.
    public var accuracy: AccuracyCurves?
    /// Format 2: the residual blocks a slice option may skip (run as the identity).
    public var skippableUnits: [Int]?
    /// Format 2: what a slice can run besides its width levels; option `pruneLevels.count + i` is `sliceOptions[i]`.
    public var sliceOptions: [SliceOption]?
    /// Scientific names, ranks and observation types of the classes, if the file carries them.
    public var taxonomy: Taxonomy?

    /// Top-1 agreement with the unpruned original, per prune level: for each slice of one plan with only that
    /// slice pruned, and for every unit pruned alike.
    /// A slice option beyond the width levels: the slice's skippable units skip, the others run at `level`.
    public struct SliceOption: Sendable, Codable, Equatable {
        public var name: String
        public var skip: Bool
        public var level: Int
    }

    public struct AccuracyCurves: Sendable, Codable, Equatable {
        public var metric: String
        /// The ring size whose slice plan the per-slice curves belong to.
        public var plan: Int
        public var slices: [[Double]]
        public var uniform: [Double]?
        public var evaluatedOn: String?
        public var images: Int?
    }

    /// Unit boundaries for a ring of `nodes` nodes, if the file has a plan for it.
    public func slicePlan(nodes: Int) -> [Int]? { slicePlans[String(nodes)] }

    /// Whether class `index` is an animal.
    public func isAnimal(_ index: Int) -> Bool {
        classes.animalRanges.contains { $0.count == 2 && $0[0] <= index && index <= $0[1] }
    }
}

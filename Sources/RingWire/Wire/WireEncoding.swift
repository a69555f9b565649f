/// How activations are written on the wire between nodes.
public enum WireEncoding: String, Sendable, CaseIterable {
    case float32, float16, int8

    /// The encoding a message names (an encoding this build does not know reads as float32, whose size check
    /// then refuses the payload).
    public init(_ wire: Trapline_Ring_V1_Encoding) {
        switch wire {
        case .float16: self = .float16
        case .int8: self = .int8
        default: self = .float32
        }
    }

    /// The message field for this encoding.
    public var wire: Trapline_Ring_V1_Encoding {
        switch self {
        case .float32: .float32
        case .float16: .float16
        case .int8: .int8
        }
    }
}

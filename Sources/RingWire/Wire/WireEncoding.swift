/// How activations are written on the wire between nodes.
public enum WireEncoding: String, Sendable, CaseIterable {
    case float32, float16
}

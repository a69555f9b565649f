import Inference
import Ring

#if canImport(Glibc)
    import Glibc
#endif

/// Turns the `ring.*` keys into the ring's configuration, checked against the model.
public enum RingSetup {
    /// The ring, or nil when `ring.nodes` is empty (one node runs every slice).
    /// - Parameters:
    ///   - config: The appliance configuration.
    ///   - model: The loaded model (for its slice plans and unit count).
    /// - Returns: The ring's configuration.
    /// - Throws: `ConfigError` naming the key.
    public static func config(_ config: ApplianceConfig, model: Model) throws -> RingConfig? {
        guard !config.ringNodes.isEmpty else { return nil }
        let members: [RingMember]
        do {
            members = try config.ringNodes.map { try RingMember(parsing: $0) }
        } catch let error as RingError {
            throw ConfigError(key: "ring.nodes", error.message)
        }
        let node = config.ringNode ?? hostName()
        guard let plan = config.ringPlan ?? model.metadata.slicePlan(nodes: members.count) else {
            throw ConfigError(
                key: "ring.plan", "the model has no slice plan for \(members.count) nodes: list the boundaries")
        }
        var ring = RingConfig(
            members: members, node: node, plan: plan,
            security: config.ringSecurity == "plaintext" ? .plaintext : .mutualTLS(credentials: config.ringCredentials)
        )
        ring.encoding = WireEncoding(rawValue: config.ringEncoding) ?? .float16
        ring.transport = RingDataTransport(rawValue: config.ringTransport) ?? .framed
        ring.dataPortOffset = config.ringDataPortOffset
        ring.maxInFlight = config.ringMaxInFlight
        ring.queueCapacity = config.ringQueueCapacity
        ring.probeSeconds = config.ringProbeSeconds
        ring.probeTimeoutSeconds = config.ringProbeTimeoutSeconds
        ring.failAfter = config.ringFailAfter
        ring.resendSeconds = config.ringResendSeconds
        ring.sysfsRoot = config.ringSysfsRoot
        do {
            try ring.validate(unitCount: model.unitCount)
        } catch let error as RingError {
            let key =
                error.message.firstRange(of: "ring.plan") != nil
                ? "ring.plan"
                : error.message.firstRange(of: "this node") != nil
                    ? "ring.node"
                    : error.message.firstRange(of: "ring.dataPortOffset") != nil ? "ring.dataPortOffset" : "ring.nodes"
            throw ConfigError(key: key, error.message)
        }
        return ring
    }

    /// The machine's host name: a node's default name in the ring.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

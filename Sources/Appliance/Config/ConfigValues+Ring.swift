import Configuration

extension ConfigValues {
    /// The `ring.*` keys.
    func ring(into c: inout ApplianceConfig) throws {
        c.ringNodes = try strings("ring.nodes") ?? c.ringNodes
        c.ringNode = try string("ring.node") ?? c.ringNode
        c.ringPlan = try ints("ring.plan") ?? c.ringPlan
        if c.ringPlan?.isEmpty == true { c.ringPlan = nil }
        c.ringEncoding = try string("ring.encoding") ?? c.ringEncoding
        guard ["float16", "float32"].contains(c.ringEncoding) else {
            throw ConfigError(key: "ring.encoding", "must be float16 or float32, not \"\(c.ringEncoding)\"")
        }
        c.ringSecurity = try string("ring.security") ?? c.ringSecurity
        guard ["mtls", "plaintext"].contains(c.ringSecurity) else {
            throw ConfigError(key: "ring.security", "must be mtls or plaintext, not \"\(c.ringSecurity)\"")
        }
        c.ringCredentials = try string("ring.credentials") ?? c.ringCredentials
        c.ringMaxInFlight = try int("ring.maxInFlight", in: 1...64) ?? c.ringMaxInFlight
        c.ringQueueCapacity = try int("ring.queueCapacity", in: 1...64) ?? c.ringQueueCapacity
        c.ringProbeSeconds = try double("ring.probeSeconds", in: 0.05...60) ?? c.ringProbeSeconds
        c.ringProbeTimeoutSeconds = try double("ring.probeTimeoutSeconds", in: 0.05...60) ?? c.ringProbeTimeoutSeconds
        c.ringFailAfter = try int("ring.failAfter", in: 1...100) ?? c.ringFailAfter
        c.ringResendSeconds = try double("ring.resendSeconds", in: 0.5...3600) ?? c.ringResendSeconds
    }

    private func strings(_ key: String) throws -> [String]? {
        do {
            return try reader.requiredStringArray(forKey: ConfigKey(key))
        } catch  where missing(error) {
            return nil
        } catch {
            throw ConfigError(key: key, "must be a list of text values")
        }
    }

    private func ints(_ key: String) throws -> [Int]? {
        do {
            return try reader.requiredIntArray(forKey: ConfigKey(key))
        } catch  where missing(error) {
            return nil
        } catch {
            throw ConfigError(key: key, "must be a list of whole numbers")
        }
    }
}

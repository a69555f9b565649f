import Configuration
import Ring

extension ConfigValues {
    /// The `ring.*` keys.
    func ring(into c: inout ApplianceConfig) throws {
        c.ringNodes = try strings("ring.nodes") ?? c.ringNodes
        c.ringNode = try string("ring.node") ?? c.ringNode
        c.ringPlan = try ints("ring.plan") ?? c.ringPlan
        if c.ringPlan?.isEmpty == true { c.ringPlan = nil }
        c.ringEncoding = try string("ring.encoding") ?? c.ringEncoding
        guard WireEncoding(rawValue: c.ringEncoding) != nil else {
            throw ConfigError(key: "ring.encoding", "must be float16, float32 or int8, not \"\(c.ringEncoding)\"")
        }
        c.ringTransport = try string("ring.transport") ?? c.ringTransport
        guard ["framed", "grpc"].contains(c.ringTransport) else {
            throw ConfigError(key: "ring.transport", "must be framed or grpc, not \"\(c.ringTransport)\"")
        }
        c.ringDataPortOffset = try int("ring.dataPortOffset", in: 1...60_000) ?? c.ringDataPortOffset
        c.ringSecurity = try string("ring.security") ?? c.ringSecurity
        guard ["mtls", "plaintext"].contains(c.ringSecurity) else {
            throw ConfigError(key: "ring.security", "must be mtls or plaintext, not \"\(c.ringSecurity)\"")
        }
        c.ringCredentials = try string("ring.credentials") ?? c.ringCredentials
        c.ringMaxInFlight = try int("ring.maxInFlight", in: 1...64) ?? c.ringMaxInFlight
        c.ringOffload = try string("ring.offload") ?? c.ringOffload
        guard ["auto", "always", "off"].contains(c.ringOffload) else {
            throw ConfigError(key: "ring.offload", "must be auto, always or off, not \"\(c.ringOffload)\"")
        }
        c.ringQueueCapacity = try int("ring.queueCapacity", in: 1...64) ?? c.ringQueueCapacity
        c.ringProbeSeconds = try double("ring.probeSeconds", in: 0.05...60) ?? c.ringProbeSeconds
        c.ringProbeTimeoutSeconds = try double("ring.probeTimeoutSeconds", in: 0.05...60) ?? c.ringProbeTimeoutSeconds
        c.ringFailAfter = try int("ring.failAfter", in: 1...100) ?? c.ringFailAfter
        c.ringResendSeconds = try double("ring.resendSeconds", in: 0.5...3600) ?? c.ringResendSeconds
        c.ringSysfsRoot = try string("ring.sysfsRoot") ?? c.ringSysfsRoot
        c.controlPolicy = try string("control.policy") ?? c.controlPolicy
        guard ["none", "static", "repartition", "adaptive"].contains(c.controlPolicy) else {
            throw ConfigError(
                key: "control.policy", "must be none, static, repartition or adaptive, not \"\(c.controlPolicy)\"")
        }
        c.controlStaticLevels = try doubles("control.staticLevels") ?? c.controlStaticLevels
        if c.controlPolicy == "static", c.controlStaticLevels.isEmpty {
            throw ConfigError(key: "control.staticLevels", "the static policy needs a level per slice")
        }
        c.controlAccuracyFloor = try double("control.accuracyFloor", in: 0...1) ?? c.controlAccuracyFloor
        c.controlRelaxAfter = try int("control.relaxAfter", in: 1...1000) ?? c.controlRelaxAfter
        c.controlUtilisation = try double("control.utilisation", in: 0.1...1) ?? c.controlUtilisation
        c.controlThrottleCelsius = try double("control.throttleCelsius", in: 20...150) ?? c.controlThrottleCelsius
        c.controlThrottleSlowdown = try double("control.throttleSlowdown", in: 1...10) ?? c.controlThrottleSlowdown
        c.controlDrainBatches = try double("control.drainBatches", in: 0...1000) ?? c.controlDrainBatches
        c.controlProfile = try string("control.profile") ?? c.controlProfile
    }

    private func doubles(_ key: String) throws -> [Double]? {
        do {
            return try reader.requiredDoubleArray(forKey: ConfigKey(key))
        } catch  where missing(error) {
            return nil
        } catch {
            if let whole = try? reader.requiredIntArray(forKey: ConfigKey(key)) { return whole.map(Double.init) }
            throw ConfigError(key: key, "must be a list of numbers")
        }
    }

    func strings(_ key: String) throws -> [String]? {
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

import Dispatch
import FoundationEssentials
import Inference
import RingWire

extension RingNode {
    /// Computes a queued batch's hop and passes the result on.
    func process(_ message: Trapline_Ring_V1_Activations, received: Double) async throws {
        let hop = message.route[Int(message.hopIndex)]
        let units = Int(hop.firstUnit)..<Int(hop.endUnit)
        let batch = Int(message.batch)
        let encoding = WireEncoding(message.encoding)
        var clock = DispatchTime.now().uptimeNanoseconds
        var input = [Float](repeating: 0, count: batch * runner.width(atBoundary: units.lowerBound))
        let channels = runner.channels(atBoundary: hop.firstUnit)
        try input.withUnsafeMutableBufferPointer {
            try ActivationCodec.decode(message.data, as: encoding, channels: channels, into: $0)
        }
        let decodeMs = Self.elapsedMs(since: &clock)
        let started = Self.unixMs()
        let last = Int(message.hopIndex) == message.route.count - 1
        let output = try await runner.run(
            input, batch: batch, units: units, levels: levels, features: last && message.wantFeatures)
        let finished = Self.unixMs()
        record(serviceMs: output.sliceMs.reduce(0, +))
        var trace = Trapline_Ring_V1_HopTrace()
        trace.node = config.node
        trace.firstUnit = hop.firstUnit
        trace.endUnit = hop.endUnit
        trace.slices = output.sliceIndices.map(UInt32.init)
        trace.levels = output.sliceLevels.map(UInt32.init)
        trace.sliceMs = output.sliceMs
        trace.receivedUnixMs = received
        trace.startedUnixMs = started
        trace.finishedUnixMs = finished
        trace.decodeMs = decodeMs
        trace.queueLength = UInt32(await queue.count)
        clock = DispatchTime.now().uptimeNanoseconds
        if Int(message.hopIndex) == message.route.count - 1 {
            var logits = Trapline_Ring_V1_Logits()
            logits.batchID = message.batchID
            logits.attempt = message.attempt
            logits.batch = message.batch
            logits.classes = UInt32(output.values.count / batch)
            logits.data = output.values.withUnsafeBufferPointer { ActivationCodec.encode($0, as: .float32) }
            if !output.features.isEmpty {
                logits.features = output.features.withUnsafeBufferPointer { ActivationCodec.encode($0, as: .float32) }
                logits.featureCount = UInt32(output.features.count / batch)
            }
            trace.encodeMs = Self.elapsedMs(since: &clock)
            logits.trace = message.trace + [trace]
            await deliver(logits, to: message.head)
        } else {
            var next = message
            next.hopIndex += 1
            next.unit = hop.endUnit
            next.encoding = config.encoding.wire
            let channels = runner.channels(atBoundary: hop.endUnit)
            next.data = output.values.withUnsafeBufferPointer {
                ActivationCodec.encode($0, as: config.encoding, channels: channels)
            }
            trace.encodeMs = Self.elapsedMs(since: &clock)
            next.trace = message.trace + [trace]
            let target = message.route[Int(next.hopIndex)].node
            if target == config.node {
                _ = await accept(next)
            } else if let link = links[target] {
                await link.send(next)
            } else {
                throw RingError(.malformed, "next hop \"\(target)\" is not a member of the ring")
            }
        }
    }

    private func deliver(_ logits: Trapline_Ring_V1_Logits, to head: String) async {
        if head == config.node {
            if let sink = sink.withLock({ $0 }) { _ = await sink(logits) }
        } else if let link = links[head] {
            await link.send(logits)
        }
    }

    private func record(serviceMs: Double) {
        state.withLock { state in
            state.batches += 1
            state.lastServiceMs = serviceMs
            state.meanServiceMs = state.batches == 1 ? serviceMs : 0.7 * state.meanServiceMs + 0.3 * serviceMs
        }
    }

    /// The node's stats, as the control service reports them.
    func stats() async -> Trapline_Ring_V1_NodeStats {
        var stats = Trapline_Ring_V1_NodeStats()
        let snapshot = state.withLock { $0 }
        stats.node = config.node
        stats.modelID = modelID
        stats.levels = snapshot.levels.map(UInt32.init)
        stats.queueLength = UInt32(await queue.count)
        stats.queueCapacity = UInt32(queue.capacity)
        stats.batches = snapshot.batches
        stats.lastServiceMs = snapshot.lastServiceMs
        stats.meanServiceMs = snapshot.meanServiceMs
        stats.prepared = snapshot.prepared
        stats.uptimeSeconds = Double(DispatchTime.now().uptimeNanoseconds - snapshot.started) / 1e9
        let thermal = Thermal.read(root: config.sysfsRoot)
        if let celsius = thermal.celsius {
            stats.hasTemperature_p = true
            stats.temperatureCelsius = celsius
        }
        if let flags = thermal.throttledFlags {
            stats.hasThrottled_p = true
            stats.throttledFlags = flags
        }
        stats.profile = snapshot.profile
        return stats
    }

    static func unixMs() -> Double { Date().timeIntervalSince1970 * 1000 }

    static func elapsedMs(since clock: inout UInt64) -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { clock = now }
        return Double(now - clock) / 1e6
    }
}

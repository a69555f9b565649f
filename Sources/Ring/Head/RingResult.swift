import RingWire

/// What one hop of a batch did, from the trace the nodes appended.
public struct HopRecord: Sendable, Equatable {
    public var node: String
    /// The units it ran (any contiguous range once the head moves boundaries).
    public var units: Range<Int>
    /// The plan slices its units belong to, one entry per part of the range inside a slice.
    public var slices: [Int]
    public var levels: [Int]
    public var sliceMs: [Double]
    /// Time in the node's queue before compute.
    public var queueMs: Double
    /// From the previous hop's end of compute to this node having the message (encode, transport, decode
    /// of the previous hop's output). Across machines it relies on synchronised clocks (NTP).
    public var linkMs: Double
    public var decodeMs: Double
    public var encodeMs: Double
    /// When its compute started and finished, on its own clock (milliseconds since 1970).
    public var startedUnixMs: Double
    public var finishedUnixMs: Double

    init(_ trace: Trapline_Ring_V1_HopTrace, previous: Trapline_Ring_V1_HopTrace?) {
        node = trace.node
        units = Int(trace.firstUnit)..<max(Int(trace.firstUnit), Int(trace.endUnit))
        slices = trace.slices.map(Int.init)
        levels = trace.levels.map(Int.init)
        sliceMs = trace.sliceMs
        queueMs = max(0, trace.startedUnixMs - trace.receivedUnixMs)
        linkMs = previous.map { max(0, trace.receivedUnixMs - $0.finishedUnixMs) } ?? 0
        decodeMs = trace.decodeMs
        encodeMs = trace.encodeMs
        startedUnixMs = trace.startedUnixMs
        finishedUnixMs = trace.finishedUnixMs
    }
}

/// The logits of a batch that went round the ring, with how it got there.
public struct RingResult: Sendable {
    public var logits: [Float]
    public var classes: Int
    public var hops: [HopRecord]
    /// Times the batch was sent (1 unless a node failed on its way).
    public var attempts: Int
    /// Each image's pooled features, when the head asked for them (`featureCount` per image); else empty.
    public var features: [Float] = []
    public var featureCount = 0

    /// The level each slice ran at, by slice index.
    public var sliceLevels: [Int] {
        var levels: [Int: Int] = [:]
        for hop in hops { for (slice, level) in zip(hop.slices, hop.levels) { levels[slice] = level } }
        return levels.keys.sorted().map { levels[$0]! }
    }

    /// Measured compute time of each slice, by slice index (the parts of a slice split between two hops add up).
    public var sliceMs: [Double] {
        var times: [Int: Double] = [:]
        for hop in hops { for (slice, ms) in zip(hop.slices, hop.sliceMs) { times[slice, default: 0] += ms } }
        return times.keys.sorted().map { times[$0]! }
    }
}

/// A change in the ring the head decided on or observed: written to `controller_events`.
public struct RingEvent: Sendable, Equatable {
    /// `join` (first seen), `bypass` (stopped answering: its predecessor runs its slice), `readmit`, `refuse`.
    public var kind: String
    public var node: String?
    public var reason: String

    public init(kind: String, node: String?, reason: String) {
        self.kind = kind
        self.node = node
        self.reason = reason
    }
}

/// Times consecutive steps on one thread: each lap is the time since the previous one (or since the clock was
/// made), in seconds.
public struct StepClock: Sendable {
    private var last = ContinuousClock.now

    public init() {}

    /// Seconds since the previous lap.
    public mutating func lap() -> Double {
        let now = ContinuousClock.now
        let (seconds, attoseconds) = (now - last).components
        last = now
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// Adds the time since the previous lap to `timings[step]` (a `BatchResult.nodeTimings` entry).
    public mutating func lap(_ step: String, into timings: inout [String: Double]) {
        timings[step, default: 0] += lap()
    }
}

import FoundationEssentials
import Synchronization

/// What the controller needs to know of the load at the head: how fast images arrive (smoothed over a few
/// seconds) and how many wait to be batched. The pipeline writes it; the controller reads it.
public final class LoadMeter: Sendable {
    private struct State {
        var rate = 0.0
        var windowStart = 0.0
        var windowCount = 0
        var waiting = 0
    }

    private let state = Mutex(State())
    /// Seconds per rate sample.
    let window: Double

    /// Creates a meter.
    public init(window: Double = 2) {
        self.window = window
    }

    /// Counts an arriving image.
    public func arrived(at now: Double = Date().timeIntervalSince1970) {
        state.withLock { state in
            roll(&state, now: now)
            state.windowCount += 1
        }
    }

    /// Sets the number of images waiting to be batched.
    public func setWaiting(_ count: Int) {
        state.withLock { $0.waiting = count }
    }

    /// Images per second, smoothed.
    public func arrivalRate(at now: Double = Date().timeIntervalSince1970) -> Double {
        state.withLock { state in
            roll(&state, now: now)
            return state.rate
        }
    }

    /// Images waiting to be batched.
    public var waiting: Int { state.withLock { $0.waiting } }

    private func roll(_ state: inout State, now: Double) {
        if state.windowStart == 0 { state.windowStart = now }
        while now - state.windowStart >= window {
            let sample = Double(state.windowCount) / window
            state.rate = state.rate == 0 ? sample : 0.5 * state.rate + 0.5 * sample
            state.windowCount = 0
            state.windowStart += window
            // After a long quiet spell, decay without looping over every empty window.
            if now - state.windowStart > 10 * window {
                state.rate = 0
                state.windowStart = now
            }
        }
    }
}

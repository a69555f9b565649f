import FoundationEssentials
import Synchronization

/// What the controller needs to know of the load at the head: how fast images arrive (smoothed over a few
/// seconds, and sustained over a minute) and how many wait to be batched. The pipeline writes it; the controller
/// reads it.
public final class LoadMeter: Sendable {
    private struct State {
        var rate = 0.0
        var windowStart = 0.0
        var windowCount = 0
        var waiting = 0
        /// Arrivals in each of the last completed windows, oldest overwritten first.
        var history: [Int]
        var historyNext = 0
        var historyFilled = 0
    }

    private let state: Mutex<State>
    /// Seconds per rate sample.
    let window: Double

    /// Creates a meter.
    /// - Parameters:
    ///   - window: Seconds per sample of the smoothed rate.
    ///   - sustainedSeconds: The span of the sustained rate.
    public init(window: Double = 2, sustainedSeconds: Double = 60) {
        self.window = window
        let windows = max(1, Int((sustainedSeconds / window).rounded()))
        state = Mutex(State(history: Array(repeating: 0, count: windows)))
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

    /// Images per second over the last `sustainedSeconds` (over the time since the first arrival, until that
    /// long has passed): what the ring must keep up with, whereas a burst shows in ``arrivalRate(at:)`` at once
    /// and only by its share here (the images it leaves waiting are the backlog).
    public func sustainedRate(at now: Double = Date().timeIntervalSince1970) -> Double {
        state.withLock { state in
            roll(&state, now: now)
            guard state.windowStart > 0 else { return 0 }
            let counted = state.history.reduce(0, +) + state.windowCount
            let seconds = Double(state.historyFilled) * window + (now - state.windowStart)
            return Double(counted) / max(seconds, window)
        }
    }

    /// Images waiting to be batched.
    public var waiting: Int { state.withLock { $0.waiting } }

    private func roll(_ state: inout State, now: Double) {
        if state.windowStart == 0 { state.windowStart = now }
        while now - state.windowStart >= window {
            let sample = Double(state.windowCount) / window
            state.rate = state.rate == 0 ? sample : 0.5 * state.rate + 0.5 * sample
            record(&state, state.windowCount)
            state.windowCount = 0
            state.windowStart += window
            // After a long quiet spell, decay without looping over every empty window.
            if now - state.windowStart > 10 * window {
                let quiet = Int((now - state.windowStart) / window)
                for _ in 0..<min(quiet, state.history.count) { record(&state, 0) }
                state.rate = 0
                state.windowStart = now
            }
        }
    }

    private func record(_ state: inout State, _ count: Int) {
        state.history[state.historyNext] = count
        state.historyNext = (state.historyNext + 1) % state.history.count
        state.historyFilled = min(state.historyFilled + 1, state.history.count)
    }
}

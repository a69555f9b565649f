import Foundation

/// Simulated time: an event queue of callbacks, in time order (ties in the order they were scheduled).
final class Clock {
    private(set) var now = 0.0
    private var heap: [(time: Double, order: Int, action: () -> Void)] = []
    private var scheduled = 0

    func at(_ time: Double, _ action: @escaping () -> Void) {
        scheduled += 1
        heap.append((max(time, now), scheduled, action))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    func after(_ seconds: Double, _ action: @escaping () -> Void) { at(now + seconds, action) }

    /// Runs events until the queue is empty or the next is after `end`.
    func run(until end: Double) {
        while let first = heap.first, first.time <= end {
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var parent = 0
                while true {
                    let (left, right) = (2 * parent + 1, 2 * parent + 2)
                    var smallest = parent
                    if left < heap.count, before(left, smallest) { smallest = left }
                    if right < heap.count, before(right, smallest) { smallest = right }
                    if smallest == parent { break }
                    heap.swapAt(parent, smallest)
                    parent = smallest
                }
            }
            now = first.time
            first.action()
        }
    }

    private func before(_ a: Int, _ b: Int) -> Bool {
        heap[a].time < heap[b].time || (heap[a].time == heap[b].time && heap[a].order < heap[b].order)
    }
}

/// A node's CPU under a CFS quota: the running jobs share `cores` equally, none faster than one core (processor
/// sharing). Work is in core-seconds.
final class CPU {
    let clock: Clock
    /// The node's normal share, and the factor it runs at now.
    let normalCores: Double
    var factor = 1.0 {
        willSet { advance() }
        didSet { reschedule() }
    }
    private var jobs: [(id: Int, remaining: Double, done: () -> Void)] = []
    private var last = 0.0
    private var version = 0
    private var nextID = 0

    init(clock: Clock, cores: Double) {
        self.clock = clock
        self.normalCores = cores
    }

    private var rate: Double { jobs.isEmpty ? 0 : min(1, normalCores * factor / Double(jobs.count)) }

    /// Runs `work` core-seconds, then `done`.
    func run(_ work: Double, _ done: @escaping () -> Void) {
        advance()
        nextID += 1
        jobs.append((nextID, max(work, 0), done))
        reschedule()
    }

    /// Drops every job without completing it (the node was killed).
    func drop() {
        advance()
        jobs.removeAll()
        reschedule()
    }

    private func advance() {
        let elapsed = clock.now - last
        if elapsed > 0 {
            let step = elapsed * rate
            for index in jobs.indices { jobs[index].remaining -= step }
        }
        last = clock.now
    }

    private func reschedule() {
        advance()
        version += 1
        guard let shortest = jobs.map(\.remaining).min(), rate > 0 else { return }
        let expected = version
        clock.after(max(shortest, 0) / rate) { [self] in
            guard version == expected else { return }
            advance()
            // Tolerance: the remaining work of a job due now, after the subtraction's rounding (1e-12 core-seconds).
            let finished = jobs.filter { $0.remaining <= 1e-12 }
            jobs.removeAll { $0.remaining <= 1e-12 }
            reschedule()
            for job in finished { job.done() }
        }
    }
}

/// A serial queue (a thread) on a CPU: one job at a time, in order. A job's work is decided when it starts.
final class SerialQueue {
    let cpu: CPU
    private var pending: [(start: () -> Double, done: (Double, Double) -> Void)] = []
    private(set) var running = false

    init(cpu: CPU) { self.cpu = cpu }

    /// Whether a job runs or waits.
    var busy: Bool { running || !pending.isEmpty }
    var length: Int { pending.count + (running ? 1 : 0) }

    /// Queues a job: `start` returns its work in core-seconds when it starts; `done` gets its start and end times.
    func submit(_ start: @escaping () -> Double, _ done: @escaping (Double, Double) -> Void) {
        pending.append((start, done))
        pump()
    }

    func drop() {
        pending.removeAll()
        running = false
    }

    private func pump() {
        guard !running, !pending.isEmpty else { return }
        let job = pending.removeFirst()
        running = true
        let started = cpu.clock.now
        cpu.run(job.start()) { [self] in
            running = false
            job.done(started, cpu.clock.now)
            pump()
        }
    }
}

/// The seeded generator of the noise (SplitMix64), so that a scenario is the same run on every machine.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }

    /// A standard normal (Box-Muller).
    mutating func normal() -> Double {
        let (u, v) = (uniform(), uniform())
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

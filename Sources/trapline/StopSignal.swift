import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT or SIGTERM during a one-shot command (`ingest`, `relabel`, `learn`): noted, and checked by the command
/// between steps, so that it stops where nothing is half-done.
enum StopSignal {
    private static let flag = Atomic<Bool>(false)

    /// Whether a stop was asked for.
    static var requested: Bool { flag.load(ordering: .relaxed) }

    /// Installs the handlers; call once, before the work starts.
    static func install() {
        signal(SIGINT) { _ in StopSignal.flag.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in StopSignal.flag.store(true, ordering: .relaxed) }
    }
}

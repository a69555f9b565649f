import Dispatch
import Logging
import Synchronization

/// Polls a folder tree for network mounts (NFS, SMB), where inotify sees nothing written by other machines. A
/// file is reported once its size and modification time are unchanged between two scans.
public final class FolderPoller: FileSource {
    public let root: String
    public let interval: Double
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)

    /// Creates a poller.
    /// - Parameters:
    ///   - root: The folder to scan, recursively.
    ///   - interval: Seconds between scans.
    ///   - logger: Where to log.
    public init(root: String, interval: Double, logger: Logger) {
        self.root = root
        self.interval = max(0.1, interval)
        self.logger = logger
    }

    public func events() throws -> AsyncStream<WatchEvent> {
        guard FolderScan.list(root) != nil else { throw IngestError(.notAFolder, "cannot read the folder \(root)") }
        let (stream, continuation) = AsyncStream.makeStream(of: WatchEvent.self, bufferingPolicy: .unbounded)
        DispatchQueue(label: "trapline.poller").async { [self] in
            var previous: [String: FoundFile] = [:]
            var reported: [String: FoundFile] = [:]
            while !stopping.load(ordering: .relaxed) {
                let files = FolderScan.scan(root).files
                var current: [String: FoundFile] = [:]
                for file in files {
                    current[file.path] = file
                    if previous[file.path] == file, reported[file.path] != file {
                        reported[file.path] = file
                        continuation.yield(.file(file.path))
                    }
                }
                previous = current
                sleepChecking()
            }
            continuation.finish()
        }
        return stream
    }

    public func stop() { stopping.store(true, ordering: .relaxed) }

    private func sleepChecking() {
        var slept = 0.0
        while slept < interval && !stopping.load(ordering: .relaxed) {
            let step = min(0.1, interval - slept)
            usleepSeconds(step)
            slept += step
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif

func usleepSeconds(_ seconds: Double) {
    usleep(UInt32(max(0, seconds) * 1_000_000))
}

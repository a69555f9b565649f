import Dispatch
import Logging
import Synchronization

/// What a file source reports.
public enum WatchEvent: Sendable, Equatable {
    /// A file that was written and closed, or moved in, or found in a new folder.
    case file(String)
    /// Events may have been lost (the kernel queue overflowed, or a watch could not be placed): the caller
    /// should rescan the whole tree.
    case rescan(String)
}

/// Something that reports files arriving under a folder: inotify, or polling for network mounts.
public protocol FileSource: Sendable {
    /// Starts watching; the stream ends after `stop()`.
    func events() throws -> AsyncStream<WatchEvent>
    /// Stops watching.
    func stop()
}

/// Watches a folder tree with inotify: IN_CLOSE_WRITE and IN_MOVED_TO for files; a new folder gets its own
/// watch and is then scanned, because files can land in it before the watch exists; IN_Q_OVERFLOW asks for a
/// full rescan. The kernel is read on a dedicated queue, never on the cooperative thread pool.
public final class FolderWatcher: FileSource {
    public let root: String
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)

    /// Creates a watcher.
    /// - Parameters:
    ///   - root: The folder to watch, recursively.
    ///   - logger: Where to log.
    public init(root: String, logger: Logger) {
        self.root = root
        self.logger = logger
    }

    public func events() throws -> AsyncStream<WatchEvent> {
        let inotify = try Inotify()
        var folders: [Int32: String] = [:]
        try addTree(root, inotify, &folders, announce: nil)
        let (stream, continuation) = AsyncStream.makeStream(of: WatchEvent.self, bufferingPolicy: .unbounded)
        let state = WatchState(inotify: inotify, folders: folders)
        DispatchQueue(label: "trapline.watcher").async { [self] in
            while !stopping.load(ordering: .relaxed) {
                do {
                    for event in try state.inotify.read(timeoutMilliseconds: 200) { handle(event, state, continuation) }
                } catch {
                    logger.error("watching \(root) failed: \(error)")
                    continuation.yield(.rescan("watch error"))
                    break
                }
            }
            continuation.finish()
        }
        return stream
    }

    public func stop() { stopping.store(true, ordering: .relaxed) }

    private func handle(_ event: InotifyEvent, _ state: WatchState, _ output: AsyncStream<WatchEvent>.Continuation) {
        if event.overflowed {
            logger.warning("inotify queue overflowed: rescanning \(root)")
            try? addTree(root, state.inotify, &state.folders, announce: nil)
            output.yield(.rescan("inotify queue overflow"))
            return
        }
        if event.watchGone {
            state.folders[event.watch] = nil
            return
        }
        guard let folder = state.folders[event.watch], !event.name.isEmpty else { return }
        let path = folder + "/" + event.name
        if event.isDirectory {
            guard FileFilter.isWatchedFolder(event.name) else { return }
            do {
                try addTree(path, state.inotify, &state.folders, announce: output)
            } catch {
                logger.warning("cannot watch new folder \(path): \(error)")
                output.yield(.rescan("cannot watch \(path)"))
            }
        } else if event.isFileArrival, FileFilter.isCandidate(event.name) {
            output.yield(.file(path))
        }
    }

    /// Watches `top` and every folder below it, then reports the files already there.
    ///
    /// A file that arrives in a folder before its watch exists makes no event, so the files are listed only once
    /// every folder is watched: the tree is scanned again after the watches are added, until a scan finds no
    /// folder without one (a folder made during the scan). A file listed and also reported by its event is
    /// offered twice, which the intake takes as already known.
    private func addTree(
        _ top: String, _ inotify: Inotify, _ folders: inout [Int32: String],
        announce: AsyncStream<WatchEvent>.Continuation?
    ) throws {
        var watched: Set<String> = []
        var tree = FolderScan.scan(top)
        while true {
            let unwatched = tree.folders.filter { !watched.contains($0) }
            guard !unwatched.isEmpty else { break }
            for folder in unwatched {
                watched.insert(folder)
                do {
                    folders[try inotify.addWatch(folder)] = folder
                } catch let error as IngestError where folder != root {
                    logger.warning("\(error.message)")
                }
            }
            tree = FolderScan.scan(top)
        }
        for file in tree.files { announce?.yield(.file(file.path)) }
    }
}

/// The watcher thread's mutable state; only that thread touches it after `events()` returns.
private final class WatchState: @unchecked Sendable {
    let inotify: Inotify
    var folders: [Int32: String]

    init(inotify: Inotify, folders: [Int32: String]) {
        self.inotify = inotify
        self.folders = folders
    }
}

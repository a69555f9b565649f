import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// One inotify event: the watch it came from, what happened, and the name inside the watched folder.
struct InotifyEvent: Sendable {
    let watch: Int32
    let mask: UInt32
    let name: String

    var isDirectory: Bool { mask & UInt32(IN_ISDIR) != 0 }
    var overflowed: Bool { mask & UInt32(IN_Q_OVERFLOW) != 0 }
    var watchGone: Bool { mask & UInt32(IN_IGNORED) != 0 }
    /// A file written and closed, or moved into the folder.
    var isFileArrival: Bool { mask & (UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO)) != 0 }
}

/// The kernel's inotify(7) API, thinly: a descriptor, watches, and a read that waits at most a timeout so the
/// reading thread can notice a stop request.
final class Inotify {
    private let fd: Int32

    init() throws {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { throw IngestError(.watchFailed, "inotify_init1 failed: \(Errno(rawValue: errno))") }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Watches a folder for completed writes, moves in, new subfolders, and its own removal.
    func addWatch(_ path: String) throws -> Int32 {
        let mask =
            UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_CREATE) | UInt32(IN_DELETE_SELF)
            | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR)
        let watch = inotify_add_watch(fd, path, mask)
        guard watch >= 0 else {
            let error = Errno(rawValue: errno)
            let code: IngestError.Code = error == .permissionDenied ? .permissionDenied : .watchFailed
            throw IngestError(code, "cannot watch \(path): \(error)")
        }
        return watch
    }

    /// Events available within `timeoutMilliseconds`; empty when none arrived.
    func read(timeoutMilliseconds: Int32) throws -> [InotifyEvent] {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, timeoutMilliseconds)
        if ready < 0 && errno == EINTR { return [] }
        guard ready > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else {
            if count < 0 && (errno == EINTR || errno == EAGAIN) { return [] }
            throw IngestError(.watchFailed, "reading inotify events failed: \(Errno(rawValue: errno))")
        }
        return Self.parse(buffer, count: count)
    }

    // inotify(7): each event is a 16-byte header (wd, mask, cookie, len) followed by `len` bytes of name,
    // NUL-padded.
    static func parse(_ buffer: [UInt8], count: Int) -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        var offset = 0
        let header = MemoryLayout<inotify_event>.size
        buffer.withUnsafeBytes { raw in
            while offset + header <= count {
                let watch = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                guard offset + header + length <= count else { break }
                let nameBytes = raw[(offset + header)..<(offset + header + length)].prefix { $0 != 0 }
                events.append(InotifyEvent(watch: watch, mask: mask, name: String(decoding: nameBytes, as: UTF8.self)))
                offset += header + length
            }
        }
        return events
    }
}

import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A `trapline run` process under test: started with a config file, ready when it says READY=1 on its notify
/// socket, stopped with SIGTERM or killed with SIGKILL. Run as `nobody` when the tests run as root, so file
/// permissions mean what they mean for the real service user.
public final class Daemon: @unchecked Sendable {
    public let process = Process()
    public let log: String
    let listener: NotifyListener

    public init(
        binary: String, config: String, directory: TemporaryDirectory, name: String = "daemon",
        arguments: [String] = [],
        environment extra: [String: String] = [:]
    ) throws {
        log = directory.file("\(name).log")
        listener = try NotifyListener(path: directory.file("\(name).notify"))
        try Data().write(to: URL(fileURLWithPath: log))
        chmod(log, 0o666)
        let asNobody = getuid() == 0
        process.executableURL = URL(fileURLWithPath: asNobody ? "/usr/bin/setpriv" : binary)
        process.arguments =
            (asNobody ? ["--reuid=65534", "--regid=65534", "--clear-groups", "--", binary] : []) + [
                "run", "--config", config,
            ] + arguments
        // Only what the test sets: a TRAPLINE_* override in the caller's environment would change the config.
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TRAPLINE_") }
        environment["NOTIFY_SOCKET"] = listener.path
        environment["OPENBLAS_NUM_THREADS"] = "1"
        environment.merge(extra) { $1 }
        process.environment = environment
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
    }

    /// Starts the daemon and waits for READY=1.
    public func start(timeout: Double = 60) throws {
        try process.run()
        guard listener.wait(for: "READY=1", timeout: timeout) else {
            process.terminate()
            throw FixtureError("trapline did not report READY=1 within \(timeout) s; log:\n\(logText)")
        }
    }

    /// SIGTERM, then the exit status.
    public func stop() -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL: no chance to finish anything.
    public func killHard() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
}

/// Ports already handed out in this test process: tests run in parallel, and the kernel may offer a released
/// port again, so two tests could otherwise be given the same one.
private let handedOut = Mutex<Set<Int>>([])

/// Loopback TCP ports that were free a moment ago (bound, then released) and that no other test of this process
/// has been given, for servers under test. Each port's partner, `port + dataPortOffset` (the framed transport's
/// data port), is free and reserved too.
public func freePorts(_ count: Int, dataPortOffset: Int = 100) throws -> [Int] {
    var sockets: [Int32] = []
    defer { for socket in sockets { close(socket) } }
    /// Binds a socket to `port` on loopback (0: any) and returns the port bound, or nil.
    func bindLoopback(_ port: Int) throws -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket() failed") }
        sockets.append(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
    var ports: [Int] = []
    while ports.count < count {
        guard let port = try bindLoopback(0) else { throw FixtureError("bind() failed") }
        let partner = port + dataPortOffset
        guard partner <= 65_535, try bindLoopback(partner) != nil else { continue }
        let fresh = handedOut.withLock { taken in
            guard !taken.contains(port), !taken.contains(partner) else { return false }
            taken.formUnion([port, partner])
            return true
        }
        if fresh { ports.append(port) }
    }
    return ports
}

/// Runs a query with the sqlite3 shell (an independent reader of the catalog) and returns its rows.
public func sqlite(_ database: String, _ query: String) throws -> [[String]] {
    let result = try runCommand("sqlite3", ["-separator", "\t", database, query])
    return result.output.split(separator: "\n", omittingEmptySubsequences: true).map {
        $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    }
}

/// Polls `condition` every 0.2 s until it holds or `timeout` seconds pass.
public func waitUntil(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(200_000)
    }
    return try condition()
}

/// Small distinct JPEGs: the same photo with a numbered comment segment after SOI, so each has its own bytes
/// (and content hash) while decoding to the same pixels.
public func distinctJPEG(_ base: [UInt8], number: Int) -> [UInt8] {
    let comment = Array("trapline test image \(number)".utf8)
    let length = comment.count + 2
    return [0xFF, 0xD8, 0xFF, 0xFE, UInt8(length >> 8), UInt8(length & 0xFF)] + comment + base.dropFirst(2)
}

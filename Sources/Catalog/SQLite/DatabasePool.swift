import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The catalog's connections in WAL mode: one writer, whose transactions run one at a time, and read-only
/// connections for reads, which run beside the writer and each other, each on a consistent snapshot
/// (sqlite.org/wal.html). Every connection is set up by `prepare` before its first use.
final class DatabasePool: @unchecked Sendable {
    // @unchecked: the writer is used only under `writerLock`, and a reader only by the caller that took it from
    // `idleReaders` (under `readersLock`) until it puts it back.
    private let path: String
    private let prepare: (Database) throws -> Void
    private let writer: Database
    private let writerLock = Lock()
    private let readersLock = Lock()
    private var idleReaders: [Database] = []
    /// Connections kept open for the next reads; more may be open while reads overlap.
    private static let keptReaders = 4

    /// Opens the writer (creating the file) and switches the database to WAL mode.
    /// - Parameters:
    ///   - path: The database file.
    ///   - busyTimeoutMilliseconds: How long a statement waits for a lock another process holds.
    ///   - prepare: Runs on each new connection.
    /// - Throws: `SQLiteError`.
    init(path: String, busyTimeoutMilliseconds: Int32, prepare: @escaping (Database) throws -> Void) throws {
        self.path = path
        self.prepare = { db in
            sqlite3_busy_timeout(db.handle, busyTimeoutMilliseconds)
            // SQLite leaves foreign keys unchecked unless a connection asks (sqlite.org/foreignkeys.html).
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try prepare(db)
        }
        writer = try Database(path: path, readOnly: false)
        try self.prepare(writer)
        let mode = try String.fetchOne(writer, sql: "PRAGMA journal_mode = WAL")
        guard mode?.lowercased() == "wal" else {
            throw SQLiteError(code: SQLITE_ERROR, message: "the database cannot use WAL mode (it stays \(mode ?? "?"))")
        }
    }

    /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`), committed when it returns and rolled back when it
    /// throws.
    /// - Throws: `SQLiteError`, or what `body` throws.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try writerLock.withLock { try writer.inTransaction("BEGIN IMMEDIATE", body) }
    }

    /// Runs `body` on the writer outside any transaction (for checkpoints and migrations).
    /// - Throws: What `body` throws.
    func writeWithoutTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try writerLock.withLock { try body(writer) }
    }

    /// Runs `body` in a read transaction on a read-only connection: every query in it sees the same snapshot.
    /// - Throws: `SQLiteError`, or what `body` throws.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        let reader = try takeReader()
        defer { putBack(reader) }
        return try reader.inTransaction("BEGIN DEFERRED", body)
    }

    private func takeReader() throws -> Database {
        if let reader = readersLock.withLock({ idleReaders.popLast() }) { return reader }
        let reader = try Database(path: path, readOnly: true)
        try prepare(reader)
        return reader
    }

    private func putBack(_ reader: Database) {
        readersLock.withLock {
            if idleReaders.count < Self.keptReaders { idleReaders.append(reader) }
        }
    }
}

/// A pthread mutex: the pool's callers are threads of every kind, and its bodies return any type. (Swift's `Mutex`
/// would hand the connection to each body as `inout sending`, which a body the caller passes in cannot accept.)
private final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

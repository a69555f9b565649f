import CSQLite
import FoundationEssentials
import Logging

/// The SQLite catalog: media, observations, batches, models and controller events, in WAL mode with
/// `synchronous=FULL` (a Pi can lose power at any moment) and a busy timeout, so `sqlite3` readers never block
/// the appliance for long. Every write that belongs together is one transaction.
public final class Catalog: Sendable {
    public let path: String
    let pool: DatabasePool
    let logger: Logger

    /// Opens (creating if needed) and migrates the catalog at `path`.
    /// - Parameters:
    ///   - path: The database file.
    ///   - logger: Where to log.
    /// - Throws: `CatalogError` with `cannotOpen`.
    public init(path: String, logger: Logger = Logger(label: "trapline.catalog")) throws {
        self.path = path
        self.logger = logger
        do {
            pool = try DatabasePool(path: path, busyTimeoutMilliseconds: 10_000) { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // Persistent WAL: the -wal and -shm files stay after the last connection closes, so members of the
                // trapline group, who may read but not create files in the state folder, can open the catalog
                // read-only with sqlite3 even while trapline is stopped (sqlite.org/walformat.html).
                try db.setFileControl(SQLITE_FCNTL_PERSIST_WAL, to: 1)
            }
            try Migrations.migrator.migrate(pool)
        } catch {
            throw CatalogError(
                .cannotOpen, "cannot open the catalog \(path) (check the folder exists and is writable)", cause: error)
        }
    }

    /// Runs a write transaction, turning SQLite failures into `CatalogError.storage`.
    func write<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch let error as CatalogError {
            throw error
        } catch {
            if let sqlite = error as? SQLiteError, sqlite.primaryCode == SQLITE_FULL { reclaimLog() }
            throw CatalogError(.storage, "catalog write failed (\(what))", cause: error)
        }
    }

    /// After a write failed for lack of space: copy the write-ahead log into the database and truncate it, so that
    /// the log does not keep the space it grew into (its automatic checkpoint waits for 1000 pages). Best effort:
    /// with no room for the database to grow it fails, and the next failed write tries again.
    private func reclaimLog() {
        do {
            try pool.writeWithoutTransaction { db in try db.checkpointTruncate() }
        } catch {
            logger.debug("checkpoint after a full disk failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs a read, turning SQLite failures into `CatalogError.storage`.
    func read<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch {
            throw CatalogError(.storage, "catalog read failed (\(what))", cause: error)
        }
    }

    /// `PRAGMA integrity_check`'s verdict: `ok` for a sound database.
    public func integrityCheck() throws -> String {
        try read("integrity check") { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    /// Seconds since 1970 as the catalog writes times (ISO 8601, UTC, milliseconds).
    public static func iso(_ seconds: Double) -> String { CatalogTime.format(Date(timeIntervalSince1970: seconds)) }
}

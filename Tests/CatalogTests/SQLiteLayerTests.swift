import Dispatch
import Foundation
import TestSupport
import Testing

@testable import Catalog

/// The catalog's own SQLite layer: values, statements, transactions, WAL readers beside the writer, migrations.
@Suite struct SQLiteLayerTests {
    static func pool(_ dir: TemporaryDirectory) throws -> DatabasePool {
        try DatabasePool(path: dir.file("t.db"), busyTimeoutMilliseconds: 1000) { _ in }
    }

    @Test func valuesRoundTripByKind() throws {
        try withTemporaryDirectory { dir in
            let pool = try Self.pool(dir)
            let row = try pool.write { db in
                try db.execute(sql: "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT, flag INTEGER)")
                try db.execute(
                    sql: "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [Int64.min, 0.1, "Vulpes vulpes · 狐 \u{0}end", nil, nil, true])
                try db.execute(sql: "UPDATE t SET b = x'00ff10'")
                return try Row.fetchOne(db, sql: "SELECT * FROM t")
            }
            let stored = try #require(row)
            #expect(try stored["i"] as Int64 == Int64.min)
            // Bound and read back as IEEE doubles: exact.
            #expect(try stored["r"] as Double == 0.1)
            #expect(try stored["s"] as String == "Vulpes vulpes · 狐 \u{0}end")
            #expect(stored.values[3] == .blob([0, 255, 16]))
            #expect(try stored["n"] as String? == nil)
            #expect(try stored["flag"] as Bool)
            // Column names match without regard to case, as in SQL.
            #expect(try stored["FLAG"] as Int == 1)
        }
    }

    @Test func storedValuesOfTheWrongKindThrowInsteadOfCrashing() throws {
        try withTemporaryDirectory { dir in
            let pool = try Self.pool(dir)
            let row = try #require(
                try pool.write { db in
                    try Row.fetchOne(db, sql: "SELECT NULL AS missing, 'many' AS words, 2.5 AS half, 3.0 AS whole")
                })
            #expect(throws: SQLiteError.self) { try row["missing"] as String }
            #expect(throws: SQLiteError.self) { try row["words"] as Double? }
            #expect(throws: SQLiteError.self) { try row["half"] as Int }
            #expect(throws: SQLiteError.self) { try row["absent"] as Int? }
            #expect(try row["whole"] as Int == 3)
            #expect(try row["half"] as String == "2.5")
            // Where either subscript would do, the optional one is read: NULL is nil, not an error.
            #expect(try (row["missing"] ?? "none") == "none")
            func optionalNumber(_ value: Double?) -> Double? { value }
            let maybe: Row? = row
            #expect(try optionalNumber(maybe?["missing"]) == nil)
        }
    }

    @Test func statementsCheckTheirArguments() throws {
        try withTemporaryDirectory { dir in
            let pool = try Self.pool(dir)
            try pool.write { db in
                // Several statements in one call take their arguments in order.
                try db.execute(
                    sql: "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (?); INSERT INTO t VALUES (?), (?);",
                    arguments: [1, 2, 3])
                #expect(try Int.fetchAll(db, sql: "SELECT a FROM t ORDER BY a") == [1, 2, 3])
                #expect(throws: SQLiteError.self) { try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: []) }
                #expect(throws: SQLiteError.self) {
                    try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [1, 2])
                }
                #expect(throws: SQLiteError.self) { try db.execute(sql: "INSERT INTO nowhere VALUES (1)") }
                // A kept statement is reused with new arguments.
                for value in 4...6 { try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [value]) }
                #expect(try Int.fetchOne(db, sql: "SELECT SUM(a) FROM t") == 21)
                #expect(try Int.fetchOne(db, sql: "SELECT a FROM t WHERE a > 100") == nil)
                #expect(try String.fetchSet(db, sql: "SELECT 'x' FROM t") == ["x"])
            }
        }
    }

    @Test func aWriteThatThrowsLeavesNothing() throws {
        struct Abandon: Error {}
        try withTemporaryDirectory { dir in
            let pool = try Self.pool(dir)
            try pool.write { db in try db.execute(sql: "CREATE TABLE t (a INTEGER NOT NULL)") }
            #expect(throws: Abandon.self) {
                try pool.write { db in
                    try db.execute(sql: "INSERT INTO t VALUES (1)")
                    throw Abandon()
                }
            }
            #expect(throws: SQLiteError.self) {
                try pool.write { db in
                    try db.execute(sql: "INSERT INTO t VALUES (2)")
                    try db.execute(sql: "INSERT INTO t VALUES (NULL)")
                }
            }
            #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } == 0)
            // The writer is usable again after both.
            try pool.write { db in try db.execute(sql: "INSERT INTO t VALUES (3)") }
            #expect(try pool.read { db in try Int.fetchAll(db, sql: "SELECT a FROM t") } == [3])
        }
    }

    /// WAL: a read runs while a write transaction is open, and sees the last committed state throughout.
    @Test func readsRunBesideAnOpenWriteOnTheCommittedSnapshot() throws {
        try withTemporaryDirectory { dir in
            let pool = try Self.pool(dir)
            try pool.write { db in
                try db.execute(sql: "CREATE TABLE t (a INTEGER)")
                try db.execute(sql: "INSERT INTO t VALUES (1)")
            }
            let writing = DispatchSemaphore(value: 0)
            let readDone = DispatchSemaphore(value: 0)
            let committed = DispatchSemaphore(value: 0)
            let writer = Thread {
                defer { committed.signal() }
                try? pool.write { db in
                    try db.execute(sql: "INSERT INTO t VALUES (2)")
                    writing.signal()
                    // Hold the transaction open until the read finished (or 10 s pass, so a broken pool fails).
                    _ = readDone.wait(timeout: .now() + 10)
                }
            }
            writer.start()
            writing.wait()
            let seen = try pool.read { db in try Int.fetchAll(db, sql: "SELECT a FROM t ORDER BY a") }
            readDone.signal()
            #expect(seen == [1])
            committed.wait()
            #expect(try pool.read { db in try Int.fetchAll(db, sql: "SELECT a FROM t ORDER BY a") } == [1, 2])
        }
    }

    @Test func readersCannotWrite() throws {
        try withTemporaryDirectory { dir in
            let pool = try Self.pool(dir)
            try pool.write { db in try db.execute(sql: "CREATE TABLE t (a INTEGER)") }
            #expect(throws: SQLiteError.self) {
                try pool.read { db in try db.execute(sql: "INSERT INTO t VALUES (1)") }
            }
        }
    }

    @Test func migrationsRunOnceEachAndAFailedOneLeavesNoTrace() throws {
        struct Broken: Error {}
        try withTemporaryDirectory { dir in
            let pool = try Self.pool(dir)
            var runs = 0
            var migrator = Migrator()
            migrator.registerMigration("one") { db in
                runs += 1
                try db.execute(sql: "CREATE TABLE a (id INTEGER PRIMARY KEY)")
            }
            try migrator.migrate(pool)
            try migrator.migrate(pool)
            #expect(runs == 1)
            migrator.registerMigration("two") { db in
                try db.execute(sql: "CREATE TABLE b (x INTEGER)")
                throw Broken()
            }
            #expect(throws: Broken.self) { try migrator.migrate(pool) }
            let names = try pool.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            }
            #expect(names == ["a", "grdb_migrations"])
            // A migration that leaves a broken reference is refused, even though it ran with foreign keys off.
            var dangling = Migrator()
            dangling.registerMigration("one") { _ in }
            dangling.registerMigration("dangling") { db in
                try db.execute(
                    sql: "CREATE TABLE c (aID INTEGER REFERENCES a(id)); INSERT INTO c VALUES (42);")
            }
            #expect(throws: SQLiteError.self) { try dangling.migrate(pool) }
            #expect(
                try pool.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
                    == ["one"])
            // Foreign keys are checked again after migrating.
            #expect(throws: SQLiteError.self) {
                try pool.write { db in
                    try db.execute(sql: "CREATE TABLE d (aID INTEGER REFERENCES a(id))")
                    try db.execute(sql: "INSERT INTO d VALUES (7)")
                }
            }
        }
    }
}

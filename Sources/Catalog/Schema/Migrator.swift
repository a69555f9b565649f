import CSQLite

/// Applies the schema's migrations that a catalog lacks, in order, each in its own transaction.
///
/// Applied migrations are recorded by name in `grdb_migrations`: catalogs were migrated by GRDB's migrator
/// before trapline had its own SQLite layer, and this keeps its record, so older catalogs open and migrate as
/// before.
struct Migrator {
    private var migrations: [(name: String, body: (Database) throws -> Void)] = []

    /// Adds a migration after the ones registered before it.
    mutating func registerMigration(_ name: String, migrate body: @escaping (Database) throws -> Void) {
        migrations.append((name, body))
    }

    /// Brings the database up to date.
    /// - Throws: `SQLiteError`, or what a migration throws; a failed migration leaves no trace.
    func migrate(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            let applied = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
            for migration in migrations where !applied.contains(migration.name) {
                try apply(migration.name, migration.body, db)
            }
        }
    }

    /// Runs one migration with foreign keys off, so that a table can be rebuilt under its references, and checks
    /// them all before committing (the procedure of sqlite.org/lang_altertable.html, section 7).
    private func apply(_ name: String, _ body: (Database) throws -> Void, _ db: Database) throws {
        try db.execute(sql: "PRAGMA foreign_keys = OFF")
        defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
        try db.inTransaction("BEGIN IMMEDIATE") { db in
            try body(db)
            if let broken = try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") {
                let table: String = try broken["table"] ?? "?"
                throw SQLiteError(
                    code: SQLITE_CONSTRAINT,
                    message: "migration \(name) leaves a row of \(table) with a broken reference")
            }
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [name])
        }
    }
}

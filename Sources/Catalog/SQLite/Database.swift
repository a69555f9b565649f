import CSQLite

/// One SQLite connection. Not thread-safe: `DatabasePool` hands it to one caller at a time.
final class Database {
    let handle: OpaquePointer
    /// Prepared statements by their SQL, reset and reused (a batch commit runs the same few statements per image).
    private var statements: [String: OpaquePointer] = [:]
    private static let statementCacheLimit = 128

    /// Opens a connection.
    /// - Parameters:
    ///   - path: The database file.
    ///   - readOnly: Open for reading only; otherwise the file is created if missing.
    /// - Throws: `SQLiteError`.
    init(path: String, readOnly: Bool) throws {
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        var connection: OpaquePointer?
        let code = sqlite3_open_v2(path, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else {
            let error = SQLiteError(connection: connection, code: code)
            // sqlite3_open_v2 allocates a connection even when it fails (sqlite.org/c3ref/open.html).
            sqlite3_close_v2(connection)
            throw error
        }
        handle = connection
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changesCount: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the last inserted row.
    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Whether a transaction is open.
    var isInsideTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs one statement or several separated by semicolons; the arguments fill their placeholders in order.
    /// - Throws: `SQLiteError`.
    func execute(sql: String, arguments: StatementArguments = []) throws {
        if let statement = try cachedStatement(sql) {
            defer { finish(statement) }
            try bind(statement, arguments.values[...], sql: sql)
            while try step(statement, sql: sql) {}
            return
        }
        var remaining = arguments.values[...]
        try sql.withCString { start in
            var cursor: UnsafePointer<CChar>? = start
            while let current = cursor, current.pointee != 0 {
                var statement: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let code = sqlite3_prepare_v2(handle, current, -1, &statement, &tail)
                guard code == SQLITE_OK else { throw SQLiteError(connection: handle, code: code, sql: sql) }
                cursor = tail
                // Whitespace or a comment after the last semicolon prepares to no statement.
                guard let statement else { continue }
                defer { sqlite3_finalize(statement) }
                let count = Int(sqlite3_bind_parameter_count(statement))
                try bind(statement, remaining.prefix(count), sql: sql)
                remaining = remaining.dropFirst(count)
                while try step(statement, sql: sql) {}
            }
        }
        guard remaining.isEmpty else {
            throw SQLiteError(code: SQLITE_RANGE, message: "\(remaining.count) arguments too many", sql: sql)
        }
    }

    /// Runs `body` in a transaction opened with `begin` (`BEGIN IMMEDIATE`, `BEGIN DEFERRED`): committed when it
    /// returns, rolled back when it throws.
    /// - Throws: `SQLiteError`, or what `body` throws.
    func inTransaction<T>(_ begin: String, _ body: (Database) throws -> T) throws -> T {
        try execute(sql: begin)
        do {
            let result = try body(self)
            try execute(sql: "COMMIT")
            return result
        } catch {
            // A failed COMMIT or statement may already have ended the transaction (sqlite.org/lang_transaction.html).
            if isInsideTransaction { try? execute(sql: "ROLLBACK") }
            throw error
        }
    }

    /// Runs a query and hands each row to `body`.
    /// - Throws: `SQLiteError`, or what `body` throws.
    func forEachRow(sql: String, arguments: StatementArguments, _ body: (Row) throws -> Void) throws {
        guard let statement = try cachedStatement(sql) else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "a query must be one statement", sql: sql)
        }
        defer { finish(statement) }
        try bind(statement, arguments.values[...], sql: sql)
        let columns = (0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) }
        while try step(statement, sql: sql) {
            try body(Row(columns: columns, values: columns.indices.map { column(statement, Int32($0)) }))
        }
    }

    /// Copies the write-ahead log into the database and truncates the log to zero bytes.
    /// - Throws: `SQLiteError`.
    func checkpointTruncate() throws {
        let code = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
        guard code == SQLITE_OK else { throw SQLiteError(connection: handle, code: code) }
    }

    /// Sets a file-control option that takes an integer (`SQLITE_FCNTL_PERSIST_WAL`).
    /// - Throws: `SQLiteError`.
    func setFileControl(_ option: Int32, to value: Int32) throws {
        var value = value
        let code = withUnsafeMutablePointer(to: &value) { sqlite3_file_control(handle, nil, option, $0) }
        guard code == SQLITE_OK else { throw SQLiteError(connection: handle, code: code) }
    }

    /// A single statement, prepared once and kept; nil for SQL that holds several statements.
    private func cachedStatement(_ sql: String) throws -> OpaquePointer? {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        var rest = ""
        let code = sql.withCString { start in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v3(handle, start, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            if let tail { rest = String(cString: tail) }
            return code
        }
        guard code == SQLITE_OK else { throw SQLiteError(connection: handle, code: code, sql: sql) }
        guard let statement, rest.allSatisfy({ $0 == ";" || $0.isWhitespace }) else {
            sqlite3_finalize(statement)
            return nil
        }
        // Lists of placeholders make a statement per list length: keep the cache bounded.
        if statements.count >= Self.statementCacheLimit {
            for kept in statements.values { sqlite3_finalize(kept) }
            statements.removeAll()
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ statement: OpaquePointer, _ values: ArraySlice<SQLValue>, sql: String) throws {
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard values.count == expected else {
            throw SQLiteError(
                code: SQLITE_RANGE, message: "\(values.count) arguments for \(expected) placeholders", sql: sql)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(statement, index)
            case .integer(let int): code = sqlite3_bind_int64(statement, index, int)
            case .real(let real): code = sqlite3_bind_double(statement, index, real)
            case .text(let text):
                var text = text
                code = text.withUTF8 { bytes in
                    bytes.withMemoryRebound(to: CChar.self) {
                        CSQLite_bind_text(statement, index, $0.baseAddress, Int32(bytes.count))
                    }
                }
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { CSQLite_bind_blob(statement, index, $0.baseAddress, Int32($0.count)) }
            }
            guard code == SQLITE_OK else { throw SQLiteError(connection: handle, code: code, sql: sql) }
        }
    }

    /// Steps a statement: true while it yields rows, false once it is done.
    private func step(_ statement: OpaquePointer, sql: String) throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw SQLiteError(connection: handle, code: code, sql: sql)
        }
    }

    /// Makes a kept statement ready for its next use.
    private func finish(_ statement: OpaquePointer) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(statement, index) else { return .null }
            let count = Int(sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let bytes = sqlite3_column_blob(statement, index), count > 0 else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }
}

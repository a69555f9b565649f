import CSQLite

/// A failure SQLite reported, or a stored value the catalog could not read.
struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// SQLite's extended result code (sqlite.org/rescode.html); `SQLITE_MISMATCH` for a value of the wrong kind.
    var code: Int32
    var message: String
    /// The statement that failed, when one did.
    var sql: String?

    /// The primary result code (`SQLITE_FULL` for `SQLITE_FULL` and its extended codes).
    var primaryCode: Int32 { code & 0xff }

    var description: String {
        let statement = sql.map { " - while executing `\($0)`" } ?? ""
        return "SQLite error \(primaryCode): \(message)\(statement)"
    }

    /// The error a connection last reported.
    init(connection: OpaquePointer?, code: Int32, sql: String? = nil) {
        self.code = code
        let text = connection.flatMap { sqlite3_errmsg($0) } ?? sqlite3_errstr(code)
        self.message = text.map { String(cString: $0) } ?? "unknown error"
        self.sql = sql
    }

    init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }
}

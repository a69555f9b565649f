import CSQLite

/// One row of a query's result, read by column name.
struct Row {
    let columns: [String]
    let values: [SQLValue]

    /// The column's value, or nil for NULL.
    /// - Throws: `SQLiteError` when the row has no such column or holds a value of another kind.
    subscript<T: SQLValueConvertible>(_ column: String) -> T? {
        get throws {
            let value = try self.value(column)
            if value == .null { return nil }
            guard let converted = T(sqlValue: value) else { throw mismatch(column, value, T.self) }
            return converted
        }
    }

    /// The column's value.
    /// - Throws: `SQLiteError` when the row has no such column, or holds NULL or a value of another kind.
    subscript<T: SQLValueConvertible>(_ column: String) -> T {
        get throws {
            let value = try self.value(column)
            guard let converted = T(sqlValue: value) else { throw mismatch(column, value, T.self) }
            return converted
        }
    }

    private func value(_ column: String) throws -> SQLValue {
        // SQLite matches column names without regard to ASCII case; so does this.
        guard
            let index = columns.firstIndex(of: column)
                ?? columns.firstIndex(where: { $0.lowercased() == column.lowercased() })
        else {
            throw SQLiteError(
                code: SQLITE_ERROR, message: "no column \(column) in the result (\(columns.joined(separator: ", ")))")
        }
        return values[index]
    }

    private func mismatch<T>(_ column: String, _ value: SQLValue, _ type: T.Type) -> SQLiteError {
        SQLiteError(code: SQLITE_MISMATCH, message: "column \(column) holds \(value.storageClass), not \(T.self)")
    }
}

extension Row {
    /// Every row a query returns.
    /// - Throws: `SQLiteError`.
    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [Row] {
        var rows: [Row] = []
        try db.forEachRow(sql: sql, arguments: arguments) { rows.append($0) }
        return rows
    }

    /// The first row a query returns, or nil for none.
    /// - Throws: `SQLiteError`.
    static func fetchOne(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> Row? {
        try fetchAll(db, sql: sql, arguments: arguments).first
    }
}

extension SQLValueConvertible {
    /// The first column of every row.
    /// - Throws: `SQLiteError`, also for a NULL or a value of another kind.
    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [Self] {
        var values: [Self] = []
        try db.forEachRow(sql: sql, arguments: arguments) { row in
            guard let first = row.values.first, let value = Self(sqlValue: first) else {
                throw SQLiteError(
                    code: SQLITE_MISMATCH,
                    message: "the first column holds \(row.values.first?.storageClass ?? "nothing"), not \(Self.self)",
                    sql: sql)
            }
            values.append(value)
        }
        return values
    }

    /// The first column of the first row, or nil when there is no row or it is NULL.
    /// - Throws: `SQLiteError`, also for a value of another kind.
    static func fetchOne(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> Self? {
        guard let row = try Row.fetchOne(db, sql: sql, arguments: arguments), let first = row.columns.first else {
            return nil
        }
        return try row[first] as Self?
    }
}

extension SQLValueConvertible where Self: Hashable {
    /// The distinct values of the first column.
    /// - Throws: `SQLiteError`.
    static func fetchSet(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> Set<Self> {
        Set(try fetchAll(db, sql: sql, arguments: arguments))
    }
}

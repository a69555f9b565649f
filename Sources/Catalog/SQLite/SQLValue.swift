/// A value as SQLite stores it: what a statement binds and a row holds (sqlite.org/datatype3.html).
enum SQLValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The storage class in words, for errors.
    var storageClass: String {
        switch self {
        case .null: "NULL"
        case .integer: "an integer"
        case .real: "a real"
        case .text: "text"
        case .blob: "a blob"
        }
    }
}

/// A Swift type the catalog binds to statements and reads back from rows.
protocol SQLValueConvertible {
    /// The value to bind.
    var sqlValue: SQLValue { get }

    /// The Swift value of a stored one; nil when it has no such value (NULL, or text where a number is wanted).
    init?(sqlValue: SQLValue)
}

extension String: SQLValueConvertible {
    var sqlValue: SQLValue { .text(self) }

    /// Numbers read as text too, as `sqlite3` shows them (an export writes a batch number into a text field).
    init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .text(let text): self = text
        case .integer(let value): self = String(value)
        case .real(let value): self = String(value)
        case .null, .blob: return nil
        }
    }
}

extension Int64: SQLValueConvertible {
    var sqlValue: SQLValue { .integer(self) }

    init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .integer(let value): self = value
        // SUM and AVG over integers, and columns declared REAL, can hold a whole number as a real.
        case .real(let value): guard let whole = Int64(exactly: value) else { return nil }; self = whole
        default: return nil
        }
    }
}

extension Int: SQLValueConvertible {
    var sqlValue: SQLValue { .integer(Int64(self)) }

    init?(sqlValue: SQLValue) {
        guard let value = Int64(sqlValue: sqlValue), let int = Int(exactly: value) else { return nil }
        self = int
    }
}

extension Double: SQLValueConvertible {
    var sqlValue: SQLValue { .real(self) }

    init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        default: return nil
        }
    }
}

extension Bool: SQLValueConvertible {
    /// SQLite has no boolean: 1 and 0 (sqlite.org/datatype3.html, section 2.1).
    var sqlValue: SQLValue { .integer(self ? 1 : 0) }

    init?(sqlValue: SQLValue) {
        guard let value = Int64(sqlValue: sqlValue) else { return nil }
        self = value != 0
    }
}

/// The values bound to a statement's `?` placeholders, in order.
struct StatementArguments: ExpressibleByArrayLiteral {
    var values: [SQLValue]

    init(arrayLiteral elements: (any SQLValueConvertible)?...) {
        values = elements.map { $0?.sqlValue ?? .null }
    }

    init<S: Sequence>(_ sequence: S) where S.Element: SQLValueConvertible {
        values = sequence.map(\.sqlValue)
    }
}

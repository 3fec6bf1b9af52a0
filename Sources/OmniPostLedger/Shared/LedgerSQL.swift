import Foundation

/// A value bound to, or read from, a ledger statement: the four kinds both backends store. SQLite's
/// INTEGER and REAL are PostgreSQL's BIGINT and DOUBLE PRECISION (docs/ledger.md, "One interface, two
/// backends"), so a value reads back as the kind it was written.
package enum SQLValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    package var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let v): "\(v)"
        case .real(let v): "\(v)"
        case .text(let v): "'\(v)'"
        }
    }
}

/// What a value becomes as an argument.
package protocol SQLBindable { var sqlValue: SQLValue { get } }
extension Int: SQLBindable { package var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { package var sqlValue: SQLValue { .integer(self) } }
extension Int32: SQLBindable { package var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Double: SQLBindable { package var sqlValue: SQLValue { .real(self) } }
extension String: SQLBindable { package var sqlValue: SQLValue { .text(self) } }
extension Optional: SQLBindable where Wrapped: SQLBindable { package var sqlValue: SQLValue { self?.sqlValue ?? .null } }

/// One result row, by column name.
package struct SQLRow: Sendable {
    package var values: [String: SQLValue]

    package init(_ values: [String: SQLValue]) { self.values = values }

    package subscript(_ column: String) -> SQLValue { values[column] ?? .null }

    package func int(_ column: String) -> Int64? {
        switch self[column] {
        case .integer(let v): v
        case .real(let v): Int64(v)
        case .text(let v): Int64(v)
        case .null: nil
        }
    }

    package func double(_ column: String) -> Double? {
        switch self[column] {
        case .integer(let v): Double(v)
        case .real(let v): v
        case .text(let v): Double(v)
        case .null: nil
        }
    }

    package func text(_ column: String) -> String? {
        switch self[column] {
        case .text(let v): v
        case .integer(let v): "\(v)"
        case .real(let v): "\(v)"
        case .null: nil
        }
    }
}

/// Where the two dialects differ, said once. Statements are written with `?` placeholders (SQLite's);
/// the PostgreSQL connection numbers them (`$1`, `$2`, …) before sending.
package enum SQLDialect: Sendable {
    case sqlite, postgres

    /// Appended to a claim's `SELECT`: PostgreSQL locks the row it returns and skips rows another host
    /// is claiming at this moment (FOR UPDATE SKIP LOCKED, PostgreSQL's documentation, "The Locking
    /// Clause"); SQLite needs nothing, its write transaction already excludes every other writer.
    package var skipLocked: String {
        switch self {
        case .sqlite: ""
        case .postgres: " FOR UPDATE SKIP LOCKED"
        }
    }

    /// A drop's writer for fair claims (`Ledger.fairKeySQL`), as its index holds it. PostgreSQL indexes
    /// only IMMUTABLE expressions and `text || bigint` is STABLE, so there the list id is cast first.
    package var fairKey: String {
        switch self {
        case .sqlite: Ledger.fairKeySQL
        case .postgres: Ledger.fairKeySQL.replacingOccurrences(of: "'list:' || source_file_id", with: "'list:' || CAST(source_file_id AS TEXT)")
        }
    }

    /// The larger of two values (SQLite's two-argument `max`, PostgreSQL's `GREATEST`).
    package func greatest(_ a: String, _ b: String) -> String {
        switch self {
        case .sqlite: "MAX(\(a), \(b))"
        case .postgres: "GREATEST(\(a), \(b))"
        }
    }
}

/// What a ledger operation runs its statements on, inside one transaction the backend opened: an
/// operation written against this runs unchanged on SQLite (GRDB's connection) and on PostgreSQL.
package protocol LedgerSQL {
    var dialect: SQLDialect { get }
    /// The rows a statement returns.
    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs a statement; returns how many rows it changed.
    @discardableResult
    func run(_ sql: String, _ arguments: [SQLValue]) throws -> Int
}

extension LedgerSQL {
    package func row(_ sql: String, _ arguments: [SQLValue] = []) throws -> SQLRow? { try rows(sql, arguments).first }
    package func rows(_ sql: String, _ arguments: any SQLBindable...) throws -> [SQLRow] { try rows(sql, arguments.map(\.sqlValue)) }
    @discardableResult
    package func run(_ sql: String, _ arguments: any SQLBindable...) throws -> Int { try run(sql, arguments.map(\.sqlValue)) }
}

/// `?` placeholders numbered `$1…` for PostgreSQL, leaving quoted text alone.
package func numberedPlaceholders(_ sql: String) -> String {
    var out = ""
    out.reserveCapacity(sql.count + 16)
    var n = 0
    var quote: Character?
    for c in sql {
        if let q = quote {
            if c == q { quote = nil }
            out.append(c)
        } else if c == "'" || c == "\"" {
            quote = c
            out.append(c)
        } else if c == "?" {
            n += 1
            out += "$\(n)"
        } else {
            out.append(c)
        }
    }
    return out
}

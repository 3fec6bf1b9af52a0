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

    package func int(_ column: String) -> Int64? { self[column].int }
    package func double(_ column: String) -> Double? { self[column].double }
    package func text(_ column: String) -> String? { self[column].text }
}

extension SQLValue {
    /// The value as an integer: a real one only when it is whole and in range, a text one when it spells one.
    package var int: Int64? {
        switch self {
        case .integer(let v): v
        // Int64(_:) traps on NaN, an infinity or a value past Int64's range: none of those is an integer.
        case .real(let v): Int64(exactly: v.rounded(.towardZero))
        case .text(let v): Int64(v)
        case .null: nil
        }
    }

    package var double: Double? {
        switch self {
        case .integer(let v): Double(v)
        case .real(let v): v
        case .text(let v): Double(v)
        case .null: nil
        }
    }

    package var text: String? {
        switch self {
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

    /// Appended to a `SELECT` whose rows the transaction goes on to change on the strength of what it
    /// read (files counted still waiting, then taken): PostgreSQL locks them, so a second host doing the
    /// same waits and then reads them changed; SQLite's single writer already serialises the two.
    package var forUpdate: String {
        switch self {
        case .sqlite: ""
        case .postgres: " FOR UPDATE"
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

    /// A text value inside a JSON column (`events.data`): SQLite's `json_extract`, PostgreSQL's `#>>`.
    package func jsonText(_ column: String, _ path: String...) -> String {
        switch self {
        case .sqlite: "json_extract(\(column), '$.\(path.joined(separator: "."))')"
        case .postgres: "(\(column)::jsonb #>> '{\(path.joined(separator: ","))}')"
        }
    }

    /// Equal, NULL equal to NULL: SQLite's `IS`, PostgreSQL's `IS NOT DISTINCT FROM`.
    package var isSame: String {
        switch self {
        case .sqlite: "IS"
        case .postgres: "IS NOT DISTINCT FROM"
        }
    }

    /// Holds one account's lock until the transaction ends, so its quota and breaker are read and
    /// changed by one host at a time: PostgreSQL's transaction-scoped advisory lock on the account's
    /// name (`pg_advisory_xact_lock`, PostgreSQL's documentation, "Advisory Locks"); SQLite runs nothing,
    /// its write transaction already excludes every other writer.
    package func lockAccount(_ account: String, _ sql: any LedgerSQL) throws {
        guard self == .postgres else { return }
        // The second key keeps these apart from the migration lock (one bigint key) and other users' locks.
        try sql.run("SELECT pg_advisory_xact_lock(\(Self.accountLockSpace), hashtext(?))", [.text(account)])
    }

    /// The advisory-lock space of account locks (any fixed number; this one spells "OMNI").
    static let accountLockSpace: Int32 = 0x4F4D_4E49

    /// The larger of two values (SQLite's two-argument `max`, PostgreSQL's `GREATEST`).
    package func greatest(_ a: String, _ b: String) -> String {
        switch self {
        case .sqlite: "MAX(\(a), \(b))"
        case .postgres: "GREATEST(\(a), \(b))"
        }
    }

    /// The smaller of two values (SQLite's two-argument `min`, PostgreSQL's `LEAST`).
    package func least(_ a: String, _ b: String) -> String {
        switch self {
        case .sqlite: "MIN(\(a), \(b))"
        case .postgres: "LEAST(\(a), \(b))"
        }
    }

    /// A column a condition must not reach through its index: SQLite's unary `+` (its documented way to
    /// keep the planner off an index); PostgreSQL's planner weighs the choice itself, and `+text` is no
    /// operator there.
    package func unindexed(_ column: String) -> String {
        switch self {
        case .sqlite: "+\(column)"
        case .postgres: column
        }
    }

    /// `LIKE` without regard to case: SQLite's `LIKE` already is (for ASCII, what it always matched);
    /// PostgreSQL's `LIKE` is not, its `ILIKE` is.
    package var likeAnyCase: String {
        switch self {
        case .sqlite: "LIKE"
        case .postgres: "ILIKE"
        }
    }

    /// A number's whole part as an integer (hours since 1970 from seconds): SQLite's `CAST(… AS INTEGER)`
    /// truncates; PostgreSQL's rounds, so there it is truncated first.
    package func wholePart(_ expression: String) -> String {
        switch self {
        case .sqlite: "CAST(\(expression) AS INTEGER)"
        case .postgres: "CAST(trunc(\(expression)) AS BIGINT)"
        }
    }

    /// A table's order of insertion, for paging through one that has no id column: SQLite's `rowid`;
    /// PostgreSQL has none, so such a table is paged by its own key there (`Ledger.exportPage`).
    package var hasRowid: Bool { self == .sqlite }
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

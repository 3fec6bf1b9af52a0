import GRDB

/// `LedgerSQL` on SQLite: GRDB's connection inside the ledger's write transaction (`Ledger.write`).
struct SQLiteSQL: LedgerSQL {
    let db: Database
    var dialect: SQLDialect { .sqlite }

    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments.map(Self.bind))).map { row in
            var values: [String: SQLValue] = [:]
            for (column, value) in row {
                switch value.storage {
                case .null: values[column] = .null
                case .int64(let v): values[column] = .integer(v)
                case .double(let v): values[column] = .real(v)
                case .string(let v): values[column] = .text(v)
                case .blob(let v): values[column] = .text(String(decoding: v, as: UTF8.self))
                }
            }
            return SQLRow(values)
        }
    }

    @discardableResult
    func run(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try db.execute(sql: sql, arguments: StatementArguments(arguments.map(Self.bind)))
        return db.changesCount
    }

    private static func bind(_ v: SQLValue) -> DatabaseValue {
        switch v {
        case .null: .null
        case .integer(let i): i.databaseValue
        case .real(let d): d.databaseValue
        case .text(let s): s.databaseValue
        }
    }
}

extension Ledger {
    /// A write transaction for an operation written over `LedgerSQL`.
    func writeSQL<T: Sendable>(_ body: @Sendable (SQLiteSQL) throws -> T) throws -> T {
        try write { db, _ in try body(SQLiteSQL(db: db)) }
    }
}

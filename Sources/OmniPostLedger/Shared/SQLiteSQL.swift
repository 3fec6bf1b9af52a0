import GRDB

/// `LedgerSQL` on SQLite: GRDB's connection inside the ledger's write transaction (`Ledger.write`).
struct SQLiteSQL: LedgerSQL {
    let db: Database
    var dialect: SQLDialect { .sqlite }

    /// Read through a cursor, by column index, with the statement's column names taken once: a row copied
    /// out (`Row.fetchAll`) and its names made again for every row were most of what reading a drop's
    /// 35 columns cost (issue 30). A name given twice keeps its last column's value, as before.
    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try statement(sql)
        let names = statement.columnNames
        let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(arguments.map(Self.bind)))
        var out: [SQLRow] = []
        while let row = try cursor.next() {
            var values = [String: SQLValue](minimumCapacity: names.count)
            for (i, column) in names.enumerated() {
                let value: DatabaseValue = row[i]
                switch value.storage {
                case .null: values[column] = .null
                case .int64(let v): values[column] = .integer(v)
                case .double(let v): values[column] = .real(v)
                case .string(let v): values[column] = .text(v)
                case .blob(let v): values[column] = .text(String(decoding: v, as: UTF8.self))
                }
            }
            out.append(SQLRow(values))
        }
        return out
    }

    @discardableResult
    func run(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        if Self.isSeveral(sql) {
            try db.execute(sql: sql, arguments: StatementArguments(arguments.map(Self.bind)))
        } else {
            try statement(sql).execute(arguments: StatementArguments(arguments.map(Self.bind)))
        }
        return db.changesCount
    }

    /// The connection's prepared statement for `sql`, compiled once per connection: compiling (SQLite's
    /// parser, and GRDB's authorizer callback for every column read) cost more than running most of the
    /// ledger's statements, asked many times for every drop. A text holding `;` may be several
    /// statements, which only `execute(sql:)` runs.
    private func statement(_ sql: String) throws -> Statement {
        Self.isSeveral(sql) ? try db.makeStatement(sql: sql) : try db.cachedStatement(sql: sql)
    }

    /// Whether a text may hold several statements (a `;`), looked for by byte: `String.contains(_:)` with a
    /// string goes through Foundation's `CFStringFind`, ~1 % of a rejected drop's CPU asked of every statement.
    static func isSeveral(_ sql: String) -> Bool { sql.utf8.contains(UInt8(ascii: ";")) }

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
    /// One write transaction for an operation written over `LedgerSQL`, on whichever backend this ledger
    /// has; the events `body` recorded are told to the observer once it committed.
    ///
    /// `durable`: the commit must survive a power cut, not only a killed process, before this returns —
    /// a record some outside effect comes after and a restart must find (an upload session before its
    /// bytes, a phase before the post it allows, a post). SQLite's log is written with
    /// `synchronous = NORMAL`, which survives a killed process but is synced to disk only at
    /// checkpoints; this transaction is committed with `FULL`, which syncs the log (and everything
    /// committed before it) at its commit — one fsync, ~0.7 ms here, for a handful of commits a
    /// delivery rather than every one. PostgreSQL commits durably anyway (`synchronous_commit`).
    @discardableResult
    func writeSQL<T: Sendable>(durable: Bool = false, _ body: @Sendable (any LedgerSQL, inout [EventRecord]) throws -> T) throws -> T {
        let value: T
        var events: [EventRecord] = []
        switch backend {
        case .sqlite(let pool):
            @Sendable func transaction(_ db: Database) throws -> (T, [EventRecord]) {
                var recorded: [EventRecord] = []
                let v = try body(SQLiteSQL(db: db), &recorded)
                return (v, recorded)
            }
            if durable {
                (value, events) = try pool.writeWithoutTransaction { db in
                    // Set outside the transaction (SQLite reads it at the commit); put back after, even
                    // when the body throws, so the connection's other commits stay cheap.
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                    defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                    var out: (T, [EventRecord])?
                    try db.inTransaction {
                        out = try transaction(db)
                        return .commit
                    }
                    return out!
                }
            } else {
                (value, events) = try pool.write { db in try transaction(db) }
            }
        case .postgres(let pg):
            value = try pg.write { tx in try body(tx, &events) }
        }
        if let observer { events.forEach(observer) }
        return value
    }

    /// A read over `LedgerSQL`: one of SQLite's readers (a consistent snapshot beside the writer), or one
    /// PostgreSQL transaction.
    func readSQL<T: Sendable>(_ body: @Sendable (any LedgerSQL) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let pool): try pool.read { db in try body(SQLiteSQL(db: db)) }
        case .postgres(let pg): try pg.write { tx in try body(tx) }
        }
    }
}

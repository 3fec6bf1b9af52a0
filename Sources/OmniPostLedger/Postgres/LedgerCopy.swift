import Foundation
import GRDB
import OmniPostCore

/// One table's rows on each side after a copy.
package struct CopiedTable: Sendable, Equatable {
    package var table: String
    package var rows: Int
}

extension PostgresLedger {
    /// Copies a SQLite ledger into this one (`omnipost ledger migrate`): every table, row for row and
    /// column for column — the schemas are equal (`LedgerSchemaTests`) — values as they are, so sealed
    /// tokens and cookie jars stay sealed (the same key opens them). The source is read in one read
    /// transaction (one consistent moment of the file) and the copy is one PostgreSQL transaction: all of
    /// it or nothing. Each table's rows are counted on both sides before it commits, and a difference
    /// rolls the copy back. A shared ledger that already holds drops, deliveries or events is refused:
    /// two ledgers are not merged.
    package func copy(from source: Ledger) throws -> [CopiedTable] {
        try source.read { db in
            try write { tx in
                for table in ["drops", "deliveries", "events"] {
                    if let n = try tx.row("SELECT COUNT(*) AS n FROM \(table)")?.int("n"), n > 0 {
                        throw OmniError(.configInvalid, "the ledger \(config.display) already holds \(n) \(table) rows; a copy goes into an empty ledger only")
                    }
                }
                let lite = SQLiteSQL(db: db)
                var copied: [CopiedTable] = []
                for table in PostgresSchema.tables {
                    let columns = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table]).map { $0["name"] as String }
                    let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                    // Pages by rowid, so a ledger of millions of events is never held in memory at once.
                    var after: Int64 = Int64.min
                    var count = 0
                    while true {
                        let page = try lite.rows(
                            "SELECT rowid AS \"__rowid\", \(list) FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT \(Self.copyPage)", [.integer(after)])
                        guard let last = page.last?.int("__rowid") else { break }
                        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
                        try tx.run(
                            "INSERT INTO \(table) (\(list)) VALUES " + Array(repeating: row, count: page.count).joined(separator: ", "),
                            page.flatMap { r in columns.map { r[$0] } })
                        count += page.count
                        after = last
                    }
                    let there = Int(try tx.row("SELECT COUNT(*) AS n FROM \(table)")?.int("n") ?? -1)
                    guard there == count, Int(try lite.row("SELECT COUNT(*) AS n FROM \(table)")?.int("n") ?? -1) == count else {
                        throw OmniError(.internalError, "copying \(table): \(count) rows read, \(there) in \(config.display); nothing was copied")
                    }
                    copied.append(CopiedTable(table: table, rows: count))
                }
                // New rows continue after the copied ids (the identity columns start where SQLite's AUTOINCREMENT left off).
                for table in PostgresSchema.identityTables {
                    try tx.run(
                        "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), GREATEST(COALESCE((SELECT MAX(id) FROM \(table)), 0), COALESCE(?, 0)) + 1, false)",
                        [try lite.row("SELECT seq FROM sqlite_sequence WHERE name = ?", [.text(table)])?["seq"] ?? .null])
                }
                return copied
            }
        }
    }

    /// Rows per INSERT: the widest table (deliveries, 37 columns) stays far under PostgreSQL's 65,535 parameters.
    static let copyPage = 500
}

import Foundation
import GRDB
import OmniPostCore

extension PostgresLedger {
    /// A copy of this shared ledger in a new SQLite file at `path` — what `omnipost plan` tries a drop on
    /// when the pipeline's ledger is PostgreSQL, as it does on a copy of the SQLite file: the plan weighs
    /// what every host recorded (earlier posts of the same clip, taken slots, quotas spent, the queue),
    /// and nothing it tries reaches the shared database. The reverse of `copy(from:)`: every table the two
    /// backends share, column for column, read in one REPEATABLE READ transaction (one moment of the
    /// database) and written in one SQLite transaction, each table read a page at a time through a cursor.
    package func snapshot(to path: String) throws {
        let copy = try Ledger(path: path)
        try write { tx in
            try tx.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", [])
            try copy.write { db, _ in
                let lite = SQLiteSQL(db: db)
                for table in PostgresSchema.tables {
                    let columns = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table]).map { $0["name"] as String }
                    let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                    let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
                    // In pages of `copyPage` rows: one statement stays under SQLite's 32,766 parameters.
                    func insert(_ rows: [SQLRow]) throws {
                        for start in stride(from: 0, to: rows.count, by: Self.copyPage) {
                            let page = rows[start..<min(rows.count, start + Self.copyPage)]
                            try lite.run(
                                "INSERT INTO \(table) (\(list)) VALUES " + Array(repeating: row, count: page.count).joined(separator: ", "),
                                page.flatMap { r in columns.map { r[$0] } })
                        }
                    }
                    // A cursor in the transaction, read a page at a time: a table of a million metric
                    // readings is never held in memory at once, and no key is needed to page by.
                    try tx.run("DECLARE snapshot_rows NO SCROLL CURSOR FOR SELECT \(list) FROM \(table)", [])
                    while true {
                        let page = try tx.rows("FETCH \(Self.copyPage) FROM snapshot_rows", [])
                        if page.isEmpty { break }
                        try insert(page)
                    }
                    try tx.run("CLOSE snapshot_rows", [])
                }
            }
        }
    }
}

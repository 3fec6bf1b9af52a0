import Foundation

/// `omnipost export` (issue 25): posts, their numbers or the upload attempts between two times, read in
/// pages by rowid (a page at a time, never the whole table), for the caller to write as they come.
extension Ledger {
    package enum ExportTable: String, Sendable, CaseIterable {
        case posts, metrics, attempts

        /// The columns, in order, as the export names them.
        package var columns: [String] {
            switch self {
            case .posts:
                return [
                    "delivery", "drop", "target", "platform", "account", "remote_id", "url", "published_at", "upload_seconds", "bytes_sent",
                    "attempts", "verified", "reason"
                ]
            case .metrics:
                return ["delivery", "at", "age_seconds", "views", "likes", "comments", "shares", "saves", "watch_seconds", "average_view_seconds", "reach"]
            case .attempts:
                return ["id", "delivery", "number", "account", "started_at", "finished_at", "outcome", "error_code", "http_status", "bytes_sent"]
            }
        }

        /// What each exported column is, in the order of `columns`.
        var expressions: [String] {
            switch self {
            case .posts:
                return [
                    "d.id", "d.drop_id", "d.target", "d.platform", "d.account", "d.remote_id", "d.remote_url", "COALESCE(d.upload_finished_at, d.updated_at)",
                    "d.upload_finished_at - d.upload_started_at", "d.bytes_sent", "d.attempts", "c.state", "c.reason_code"
                ]
            case .metrics:
                return ["delivery_id", "at", "age_seconds", "views", "likes", "comments", "shares", "saves", "watch_seconds", "average_view_seconds", "reach"]
            case .attempts:
                return ["id", "delivery_id", "number", "account", "started_at", "finished_at", "outcome", "error_code", "http_status", "bytes_sent"]
            }
        }

        /// One page's statement, its arguments `[cursor, from, to, limit]`. Each column is read by position
        /// (`c0`, `c1`, …). Deliveries and attempts are paged by id (SQLite's rowid: `INTEGER PRIMARY KEY`);
        /// metrics, which have no id, by rowid on SQLite and, on PostgreSQL, which has none, by position in
        /// the order of their key — the cursor is then how many rows were read (a reading is only ever added
        /// at the end of that order, as its time is now).
        func select(_ dialect: SQLDialect) -> String {
            let list = expressions.enumerated().map { "\($0.element) AS c\($0.offset)" }.joined(separator: ", ")
            switch self {
            case .posts:
                return """
                    SELECT d.id AS k, \(list)
                    FROM deliveries d LEFT JOIN post_checks c ON c.delivery_id = d.id
                    WHERE d.state = 'published' AND d.id > ? AND COALESCE(d.upload_finished_at, d.updated_at) BETWEEN ? AND ?
                    ORDER BY d.id LIMIT ?
                    """
            case .metrics where dialect.hasRowid:
                return "SELECT rowid AS k, \(list) FROM post_metrics WHERE rowid > ? AND at BETWEEN ? AND ? ORDER BY rowid LIMIT ?"
            case .metrics:
                return "SELECT CAST(? AS BIGINT) AS k, \(list) FROM post_metrics WHERE at BETWEEN ? AND ? ORDER BY at, delivery_id LIMIT ? OFFSET ?"
            case .attempts:
                return "SELECT id AS k, \(list) FROM attempts WHERE id > ? AND started_at BETWEEN ? AND ? ORDER BY id LIMIT ?"
            }
        }
    }

    /// One exported value: as SQLite holds it.
    package enum ExportValue: Sendable, Equatable {
        case null, integer(Int64), real(Double), text(String)
    }

    /// Up to `limit` rows after `cursor` (0 for the first page), and the cursor for the next page (nil
    /// when this was the last).
    package func exportPage(_ table: ExportTable, from: Double, to: Double, after cursor: Int64, limit: Int) throws -> (
        rows: [[ExportValue]], next: Int64?
    ) {
        try readSQL { sql in
            let byPosition = table == .metrics && !sql.dialect.hasRowid
            let arguments: [SQLValue] = [.integer(cursor), .real(from), .real(to), .integer(Int64(limit))] + (byPosition ? [.integer(cursor)] : [])
            let rows = try sql.rows(table.select(sql.dialect), arguments)
            let values: [[ExportValue]] = rows.map { row in
                table.columns.indices.map { i in
                    switch row["c\(i)"] {
                    case .null: return .null
                    case .integer(let v): return .integer(v)
                    case .real(let v): return .real(v)
                    case .text(let s): return .text(s)
                    }
                }
            }
            let next = byPosition ? cursor + Int64(rows.count) : rows.last?.int("k")
            return (values, rows.count < limit ? nil : next)
        }
    }
}

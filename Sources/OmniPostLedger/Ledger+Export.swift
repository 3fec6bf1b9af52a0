import Foundation
import GRDB

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

        var select: String {
            switch self {
            case .posts:
                return """
                    SELECT d.rowid AS k, d.id, d.drop_id, d.target, d.platform, d.account, d.remote_id, d.remote_url,
                        COALESCE(d.upload_finished_at, d.updated_at) AS t, d.upload_finished_at - d.upload_started_at, d.bytes_sent, d.attempts,
                        c.state, c.reason_code
                    FROM deliveries d LEFT JOIN post_checks c ON c.delivery_id = d.id
                    WHERE d.state = 'published' AND d.rowid > ? AND COALESCE(d.upload_finished_at, d.updated_at) BETWEEN ? AND ?
                    ORDER BY d.rowid LIMIT ?
                    """
            case .metrics:
                return """
                    SELECT rowid AS k, delivery_id, at, age_seconds, views, likes, comments, shares, saves, watch_seconds, average_view_seconds, reach
                    FROM post_metrics WHERE rowid > ? AND at BETWEEN ? AND ? ORDER BY rowid LIMIT ?
                    """
            case .attempts:
                return """
                    SELECT rowid AS k, id, delivery_id, number, account, started_at, finished_at, outcome, error_code, http_status, bytes_sent
                    FROM attempts WHERE rowid > ? AND started_at BETWEEN ? AND ? ORDER BY rowid LIMIT ?
                    """
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
        try read { db in
            let rows = try Row.fetchAll(db, sql: table.select, arguments: [cursor, from, to, limit])
            let values: [[ExportValue]] = rows.map { row in
                (1..<row.count).map { i in
                    switch (row[i] as DatabaseValue).storage {
                    case .null: return .null
                    case .int64(let v): return .integer(v)
                    case .double(let v): return .real(v)
                    case .string(let s): return .text(s)
                    case .blob(let d): return .text(d.base64EncodedString())
                    }
                }
            }
            return (values, rows.count < limit ? nil : rows.last.map { $0["k"] })
        }
    }
}

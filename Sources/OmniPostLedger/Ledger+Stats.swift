import Foundation
import OmniPostCore

/// The rows `omnipost stats` answers from (issue 25), read in SQL so a year of posts is aggregated in
/// the database: deliveries that ended in the window, rate-limit hits, and each post's latest numbers.
extension Ledger {
    /// A delivery that ended (published or failed) in the window.
    package struct EndedDelivery: Sendable, Equatable, Decodable {
        package var id: Int64
        package var platform: String
        package var account: String
        package var state: String
        package var errorCode: String?
        package var uploadStartedAt: Double?
        package var uploadFinishedAt: Double?
        package var bytesSent: Int64
        package var endedAt: Double
    }

    /// A published post with its latest reading (nil numbers where none was read yet).
    package struct PostReading: Sendable, Equatable {
        package var id: Int64
        package var target: String
        package var platform: String
        package var account: String
        package var remoteId: String?
        package var publishedAt: Double
        package var verification: String?
        package var reasonCode: String?
        package var readAt: Double?
        package var metrics: PostMetrics

        init(row: SQLRow) {
            id = row.int("id") ?? 0
            target = row.text("target") ?? ""
            platform = row.text("platform") ?? ""
            account = row.text("account") ?? ""
            remoteId = row.text("remote_id")
            publishedAt = row.double("published_at") ?? 0
            verification = row.text("verification")
            reasonCode = row.text("reason_code")
            readAt = row.double("read_at")
            metrics = PostMetrics(row: row)
        }
    }

    static func scope(platform: String?, account: String?, alias d: String = "d") -> (sql: String, args: [String]) {
        var sql = ""
        var args: [String] = []
        if let platform {
            sql += " AND \(d).platform = ?"
            args.append(platform)
        }
        if let account {
            sql += " AND (\(d).account = ? OR \(d).platform || ':' || \(d).account = ?)"
            args += [account, account]
        }
        return (sql, args)
    }

    package func endedDeliveries(since: Double, platform: String? = nil, account: String? = nil) throws -> [EndedDelivery] {
        let s = Self.scope(platform: platform, account: account)
        return try readSQL { sql in
            try sql.fetchAll(
                EndedDelivery.self,
                """
                SELECT d.id, d.platform, d.account, d.state, d.error_code, d.upload_started_at, d.upload_finished_at, d.bytes_sent,
                    COALESCE(d.upload_finished_at, d.updated_at) AS ended_at
                FROM deliveries d
                WHERE d.state IN ('published', 'failed') AND COALESCE(d.upload_finished_at, d.updated_at) >= ?\(s.sql)
                """, [.real(since)] + s.args.map(SQLValue.text))
        }
    }

    /// Attempts answered "rate limited" in the window, by platform and account.
    package func rateLimitHits(since: Double, platform: String? = nil, account: String? = nil) throws -> [String: Int] {
        let s = Self.scope(platform: platform, account: account)
        return try readSQL { sql in
            var out: [String: Int] = [:]
            for row in try sql.rows(
                """
                SELECT d.platform || ':' || d.account AS who, COUNT(*) AS n FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
                WHERE a.error_code = 'rate_limited' AND a.started_at >= ?\(s.sql) GROUP BY d.platform || ':' || d.account
                """, [.real(since)] + s.args.map(SQLValue.text))
            {
                out[row.text("who") ?? ""] = Int(row.int("n") ?? 0)
            }
            return out
        }
    }

    /// Published posts in the window with their latest reading, oldest first.
    package func postReadings(since: Double, platform: String? = nil, account: String? = nil) throws -> [PostReading] {
        let s = Self.scope(platform: platform, account: account)
        return try readSQL { sql in
            try sql.rows(
                """
                SELECT d.id, d.target, d.platform, d.account, d.remote_id,
                    COALESCE(d.upload_finished_at, d.updated_at) AS published_at, c.state AS verification, c.reason_code,
                    m.at AS read_at, m.views, m.likes, m.comments, m.shares, m.saves, m.watch_seconds, m.average_view_seconds, m.reach
                FROM deliveries d
                LEFT JOIN post_checks c ON c.delivery_id = d.id
                LEFT JOIN post_metrics m ON m.delivery_id = d.id AND m.at = (SELECT MAX(at) FROM post_metrics WHERE delivery_id = d.id)
                WHERE d.state = 'published' AND COALESCE(d.upload_finished_at, d.updated_at) >= ?\(s.sql)
                ORDER BY published_at, d.id
                """, [.real(since)] + s.args.map(SQLValue.text)
            ).map(PostReading.init(row:))
        }
    }
}

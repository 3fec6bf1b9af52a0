import Foundation
import GRDB

extension Ledger {
    package struct Notification: Sendable, Codable, Equatable {
        package var id: Int64
        package var sink: String
        package var key: String
        package var kind: String
        package var title: String
        package var body: String
        package var createdAt: Double
        package var attempts: Int
        package var sentAt: Double?
        package var givenUp: Bool
        package var lastError: String?
        package var facts: AlertFacts?
    }

    /// Writes a message for a sink once: the same key again is ignored (a fact read twice after a crash).
    @discardableResult
    package func enqueueNotification(sink: String, key: String, kind: String, title: String, body: String, facts: AlertFacts? = nil) throws -> Bool {
        let json = try facts.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return try write { db, _ in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO notifications(sink, key, kind, title, body, created_at, next_at, facts) VALUES (?,?,?,?,?,?,?,?)
                    """, arguments: [sink, key, kind, title, body, self.now, self.now, json])
            return db.changesCount > 0
        }
    }

    /// Messages due to be sent, oldest first.
    package func dueNotifications(sink: String, now: Double, limit: Int = 200) throws -> [Notification] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM notifications WHERE sink = ? AND sent_at IS NULL AND given_up = 0 AND next_at <= ? ORDER BY id LIMIT ?
                    """, arguments: [sink, now, limit]
            ).map(Self.notification)
        }
    }

    package func notifications(sink: String? = nil) throws -> [Notification] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM notifications WHERE ? IS NULL OR sink = ? ORDER BY id", arguments: [sink, sink]).map(Self.notification)
        }
    }

    /// How many went to a sink since `since` (its hourly limit).
    package func notificationsSent(sink: String, since: Double) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM notifications WHERE sink = ? AND sent_at >= ?", arguments: [sink, since]) ?? 0 }
    }

    package func markNotificationsSent(_ ids: [Int64]) throws {
        try write { db, _ in
            for id in ids { try db.execute(sql: "UPDATE notifications SET sent_at = ?, attempts = attempts + 1 WHERE id = ?", arguments: [self.now, id]) }
        }
    }

    /// A send that failed: tried again at `retryAt`, or — nil — given up on (a sink that refuses it).
    package func markNotificationsFailed(_ ids: [Int64], error: String, retryAt: Double?) throws {
        try write { db, _ in
            for id in ids {
                try db.execute(
                    sql: """
                        UPDATE notifications SET attempts = attempts + 1, last_error = ?, next_at = COALESCE(?, next_at), given_up = ? WHERE id = ?
                        """, arguments: [error, retryAt, retryAt == nil, id])
            }
        }
    }

    /// A named moment the notifier keeps (when a backlog began); nil clears it.
    package func notifyMark(_ name: String) throws -> Double? {
        try read { db in try Double.fetchOne(db, sql: "SELECT event_id FROM notify_cursor WHERE name = ?", arguments: [name]) }
    }

    package func setNotifyMark(_ name: String, _ value: Double?) throws {
        try write { db, _ in
            if let value {
                try db.execute(
                    sql: "INSERT INTO notify_cursor(name, event_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET event_id = excluded.event_id", arguments: [name, value])
            } else {
                try db.execute(sql: "DELETE FROM notify_cursor WHERE name = ?", arguments: [name])
            }
        }
    }

    /// Whether a message with this key was written for any sink (a day's digest, once).
    package func hasNotification(key: String) throws -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM notifications WHERE key = ? LIMIT 1", arguments: [key]) ?? false }
    }

    /// Deliveries not yet final whose time has come (the backlog), counted in SQL.
    package func waitingDeliveries(at t: Double) throws -> Int {
        try read { db in
            // The terminal states, from the one place that says which they are.
            let terminal = DeliveryState.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ",")
            return try Int.fetchOne(
                db, sql: "SELECT count(*) FROM deliveries WHERE state NOT IN (\(terminal)) AND COALESCE(not_before, 0) <= ?",
                arguments: [t]) ?? 0
        }
    }

    /// Finished upload attempts since `t` by outcome (the success rate's window).
    package func attemptOutcomes(since t: Double) throws -> [String: Int] {
        try read { db in
            var out: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT outcome, count(*) AS n FROM attempts WHERE outcome IS NOT NULL AND finished_at >= ? GROUP BY outcome", arguments: [t]) {
                out[r["outcome"]] = r["n"]
            }
            return out
        }
    }

    package func notifyCursor() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT event_id FROM notify_cursor WHERE name = 'events'") ?? 0 }
    }

    package func setNotifyCursor(_ id: Int64) throws {
        try write { db, _ in
            try db.execute(sql: "INSERT INTO notify_cursor(name, event_id) VALUES ('events', ?) ON CONFLICT(name) DO UPDATE SET event_id = excluded.event_id", arguments: [id])
        }
    }

    static func notification(_ r: Row) -> Notification {
        // Facts that do not decode (a newer writer's) are left out: the message still goes.
        let facts = (r["facts"] as String?).flatMap { try? JSONDecoder().decode(AlertFacts.self, from: Data($0.utf8)) }
        return Notification(
            id: r["id"], sink: r["sink"], key: r["key"], kind: r["kind"], title: r["title"], body: r["body"], createdAt: r["created_at"],
            attempts: r["attempts"], sentAt: r["sent_at"], givenUp: r["given_up"], lastError: r["last_error"], facts: facts)
    }
}

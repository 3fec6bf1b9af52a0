import Foundation

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

    /// Writes a message for a sink once: the same key again is ignored (a fact read twice after a crash,
    /// or read by two hosts sharing the ledger: the `(sink, key)` unique key lets one insert through).
    @discardableResult
    package func enqueueNotification(sink: String, key: String, kind: String, title: String, body: String, facts: AlertFacts? = nil) throws -> Bool {
        let json = try facts.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return try writeSQL { sql, _ in
            try sql.run(
                """
                INSERT INTO notifications(sink, key, kind, title, body, created_at, next_at, facts) VALUES (?,?,?,?,?,?,?,?)
                ON CONFLICT DO NOTHING
                """, sink, key, kind, title, body, self.now, self.now, json) > 0
        }
    }

    static let dueNotificationsSQL = "SELECT * FROM notifications WHERE sink = ? AND sent_at IS NULL AND given_up = 0 AND next_at <= ? ORDER BY id LIMIT ?"

    /// Messages due to be sent, oldest first (read only: what `claimDueNotifications` would take).
    package func dueNotifications(sink: String, now: Double, limit: Int = 200) throws -> [Notification] {
        try readSQL { sql in try sql.rows(Self.dueNotificationsSQL, sink, now, limit).map(Self.notification) }
    }

    /// Takes the messages due to be sent, oldest first, for this process to send: each is held (its
    /// `next_at` moved `hold` seconds on) in the transaction that read it, so another host sharing the
    /// ledger does not find it due and send it too — the rows are read `FOR UPDATE SKIP LOCKED`, so two
    /// hosts claiming at once take different messages. The sender then marks each sent or failed; one
    /// whose sender died goes again once its hold lapses (a message may repeat after a crash, never
    /// while its sender lives).
    package func claimDueNotifications(sink: String, now: Double, limit: Int = 200, hold: Double = 300) throws -> [Notification] {
        try writeSQL { sql, _ in
            let due = try sql.rows(Self.dueNotificationsSQL + sql.dialect.skipLocked, sink, now, limit).map(Self.notification)
            for n in due { try sql.run("UPDATE notifications SET next_at = ? WHERE id = ?", now + hold, n.id) }
            return due
        }
    }

    package func notifications(sink: String? = nil) throws -> [Notification] {
        try readSQL { sql in
            if let sink { return try sql.rows("SELECT * FROM notifications WHERE sink = ? ORDER BY id", sink).map(Self.notification) }
            return try sql.rows("SELECT * FROM notifications ORDER BY id").map(Self.notification)
        }
    }

    /// How many went to a sink since `since` (its hourly limit).
    package func notificationsSent(sink: String, since: Double) throws -> Int {
        try readSQL { sql in Int(try sql.int("SELECT count(*) AS n FROM notifications WHERE sink = ? AND sent_at >= ?", [.text(sink), .real(since)]) ?? 0) }
    }

    package func markNotificationsSent(_ ids: [Int64]) throws {
        try writeSQL { sql, _ in
            for id in ids { try sql.run("UPDATE notifications SET sent_at = ?, attempts = attempts + 1 WHERE id = ?", self.now, id) }
        }
    }

    /// A send that failed: tried again at `retryAt`, or — nil — given up on (a sink that refuses it).
    package func markNotificationsFailed(_ ids: [Int64], error: String, retryAt: Double?) throws {
        try writeSQL { sql, _ in
            for id in ids {
                // Two statements rather than `COALESCE(?, next_at)`: PostgreSQL cannot type a NULL parameter alone.
                if let retryAt {
                    try sql.run("UPDATE notifications SET attempts = attempts + 1, last_error = ?, next_at = ?, given_up = 0 WHERE id = ?", error, retryAt, id)
                } else {
                    try sql.run("UPDATE notifications SET attempts = attempts + 1, last_error = ?, given_up = 1 WHERE id = ?", error, id)
                }
            }
        }
    }

    /// A named moment the notifier keeps (when a backlog began); nil clears it.
    package func notifyMark(_ name: String) throws -> Double? {
        try readSQL { sql in try sql.row("SELECT event_id FROM notify_cursor WHERE name = ?", [.text(name)])?.double("event_id") }
    }

    package func setNotifyMark(_ name: String, _ value: Double?) throws {
        try writeSQL { sql, _ in
            if let value {
                // The column is an integer on PostgreSQL (BIGINT) and takes any number on SQLite: a moment is
                // kept to the second there, which is all a backlog's start needs.
                let stored: SQLValue = sql.dialect == .postgres ? .integer(Int64(value.rounded(.down))) : .real(value)
                try sql.run("INSERT INTO notify_cursor(name, event_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET event_id = excluded.event_id", [.text(name), stored])
            } else {
                try sql.run("DELETE FROM notify_cursor WHERE name = ?", name)
            }
        }
    }

    /// Whether a message with this key was written for any sink (a day's digest, once).
    package func hasNotification(key: String) throws -> Bool {
        try readSQL { sql in try sql.row("SELECT 1 AS one FROM notifications WHERE key = ? LIMIT 1", [.text(key)]) != nil }
    }

    /// Deliveries not yet final whose time has come (the backlog), counted in SQL.
    package func waitingDeliveries(at t: Double) throws -> Int {
        try readSQL { sql in
            // The terminal states, from the one place that says which they are.
            let terminal = DeliveryState.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ",")
            return Int(try sql.int("SELECT count(*) AS n FROM deliveries WHERE state NOT IN (\(terminal)) AND COALESCE(not_before, 0) <= ?", [.real(t)]) ?? 0)
        }
    }

    /// Finished upload attempts since `t` by outcome (the success rate's window).
    package func attemptOutcomes(since t: Double) throws -> [String: Int] {
        try readSQL { sql in
            var out: [String: Int] = [:]
            for r in try sql.rows("SELECT outcome, count(*) AS n FROM attempts WHERE outcome IS NOT NULL AND finished_at >= ? GROUP BY outcome", t) {
                out[r.text("outcome") ?? ""] = Int(r.int("n") ?? 0)
            }
            return out
        }
    }

    package func notifyCursor() throws -> Int64 {
        try readSQL { sql in try sql.int("SELECT event_id AS n FROM notify_cursor WHERE name = 'events'") ?? 0 }
    }

    package func setNotifyCursor(_ id: Int64) throws {
        try writeSQL { sql, _ in
            // Only forward: two hosts reading the events may set it in either order.
            try sql.run(
                "INSERT INTO notify_cursor(name, event_id) VALUES ('events', ?) ON CONFLICT(name) DO UPDATE SET event_id = \(sql.dialect.greatest("notify_cursor.event_id", "excluded.event_id"))",
                id)
        }
    }

    static func notification(_ r: SQLRow) -> Notification {
        // Facts that do not decode (a newer writer's) are left out: the message still goes.
        let facts = r.text("facts").flatMap { try? JSONDecoder().decode(AlertFacts.self, from: Data($0.utf8)) }
        return Notification(
            id: r.int("id") ?? 0, sink: r.text("sink") ?? "", key: r.text("key") ?? "", kind: r.text("kind") ?? "", title: r.text("title") ?? "",
            body: r.text("body") ?? "", createdAt: r.double("created_at") ?? 0, attempts: Int(r.int("attempts") ?? 0), sentAt: r.double("sent_at"),
            givenUp: (r.int("given_up") ?? 0) != 0, lastError: r.text("last_error"), facts: facts)
    }
}

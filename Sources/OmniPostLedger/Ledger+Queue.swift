import Foundation
import GRDB
import OmniPostCore

/// What may leave the queue now (ARCHITECTURE.md "queue"): per-platform quotas counted per account,
/// the circuit breaker per platform+account, and caps on uploads in flight per platform and account.
package struct QueueGate: Sendable {
    package var quotas: [String: [QuotaRule]]
    package var breaker: BreakerPolicy
    package var perPlatform: [String: Int]
    package var perAccount: Int
    /// How long a half-open probe may run before another delivery may probe instead.
    package var probeLease: Double

    package init(
        quotas: [String: [QuotaRule]] = [:], breaker: BreakerPolicy = BreakerPolicy(), perPlatform: [String: Int] = [:],
        perAccount: Int = 1000, probeLease: Double = 300
    ) {
        self.quotas = quotas
        self.breaker = breaker
        self.perPlatform = perPlatform
        self.perAccount = perAccount
        self.probeLease = probeLease
    }
}

/// A claimed upload: the delivery and the attempt row opened for it.
package struct ClaimedDelivery: Sendable {
    package var delivery: DeliveryRecord
    package var attemptId: Int64
    /// This attempt is the breaker's half-open probe.
    package var isProbe: Bool
}

/// How an attempt ended, written with the delivery's transition.
package struct AttemptResult: Sendable {
    package enum Breaker: Sendable { case success, failure, neutral }
    package var attemptId: Int64
    package var outcome: String
    package var errorCode: String?
    package var httpStatus: Int?
    package var detail: String?
    package var breaker: Breaker
    package var breakerPolicy: BreakerPolicy

    package init(
        attemptId: Int64, outcome: String, errorCode: String? = nil, httpStatus: Int? = nil, detail: String? = nil,
        breaker: Breaker, policy: BreakerPolicy
    ) {
        self.attemptId = attemptId
        self.outcome = outcome
        self.errorCode = errorCode
        self.httpStatus = httpStatus
        self.detail = detail
        self.breaker = breaker
        self.breakerPolicy = policy
    }
}

extension DeliveryRecord {
    /// Quotas, breakers and caps count per platform+account.
    package var accountKey: String { "\(platform):\(account)" }
}

extension Ledger {
    /// Claims the next upload: `ready` (or `uploading` with a lapsed lease — a crashed upload, resumed from
    /// its persisted session), due, highest priority first. Deliveries that a quota or an open breaker
    /// holds are deferred to when that gate opens (never failed); caps skip them until a slot frees.
    /// A new post spends its quota in the same transaction as the claim.
    package func claimDelivery(owner: String, lease: Double, gate: QueueGate = QueueGate()) throws -> ClaimedDelivery? {
        try write { db, events in
            let now = self.now
            let candidates = try Self.dueDeliveries(db, now: now)
            if candidates.isEmpty { return nil }
            let inFlight = try InFlight(db, now: now)
            for var d in candidates {
                guard inFlight.hasRoom(for: d, gate: gate) else { continue }
                guard let isProbe = try passBreaker(&d, gate: gate, now: now, db: db, events: &events) else { continue }
                guard try spendQuota(&d, isProbe: isProbe, gate: gate, now: now, db: db, events: &events) else { continue }
                let attemptId = try startAttempt(&d, owner: owner, lease: lease, isProbe: isProbe, now: now, db: db, events: &events)
                return ClaimedDelivery(delivery: d, attemptId: attemptId, isProbe: isProbe)
            }
            return nil
        }
    }

    /// Deliveries due now and not held by a live lease, in the order they go: priority, then how long
    /// they have waited. (At most 500 looked at per claim: the rest wait for the next.)
    private static func dueDeliveries(_ db: Database, now: Double) throws -> [DeliveryRecord] {
        try DeliveryRecord.fetchAll(
            db,
            sql: """
                SELECT * FROM deliveries
                WHERE state IN ('ready','uploading') AND (not_before IS NULL OR not_before <= ?)
                  AND (lease_expiry IS NULL OR lease_expiry < ?)
                ORDER BY priority DESC, COALESCE(not_before, 0), id LIMIT 500
                """, arguments: [now, now])
    }

    /// Uploads in flight (a live lease) per platform and per platform+account: what the caps count.
    private struct InFlight {
        var perPlatform: [String: Int] = [:]
        var perAccount: [String: Int] = [:]

        init(_ db: Database, now: Double) throws {
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT platform, account, COUNT(*) AS n FROM deliveries WHERE state = 'uploading' AND lease_expiry >= ? GROUP BY platform, account
                    """, arguments: [now])
            {
                let p: String = row["platform"], a: String = row["account"], n: Int = row["n"]
                perPlatform[p, default: 0] += n
                perAccount["\(p):\(a)", default: 0] += n
            }
        }

        func hasRoom(for d: DeliveryRecord, gate: QueueGate) -> Bool {
            if let cap = gate.perPlatform[d.platform], perPlatform[d.platform, default: 0] >= cap { return false }
            return perAccount[d.accountKey, default: 0] < gate.perAccount
        }
    }

    /// The breaker: open → the delivery waits for the cool-down; then one probe at a time. Nil when the
    /// delivery is held (deferred), else whether this attempt is the half-open probe.
    private func passBreaker(_ d: inout DeliveryRecord, gate: QueueGate, now: Double, db: Database, events: inout [EventRecord]) throws -> Bool? {
        let key = d.accountKey
        guard let b = try BreakerRecord.fetchOne(db, key: key), b.state != .closed else { return false }
        if b.state == .open, let until = b.openUntil, until > now {
            try defer_(
                &d, until: until, gate: "breaker", code: .breakerOpen,
                message: "\(key) failed \(b.failures) times in a row (last: \(b.lastError ?? "?")); the breaker is open until \(isoStamp(until))",
                db: db, events: &events)
            return nil
        }
        if b.state == .halfOpen, let until = b.probeUntil, until > now, b.probeDelivery != d.id {
            try defer_(
                &d, until: until, gate: "breaker", code: .breakerOpen,
                message: "\(key) is being probed by delivery \(b.probeDelivery ?? 0) after \(b.failures) failures", db: db, events: &events)
            return nil
        }
        var nb = b
        nb.state = .halfOpen
        nb.probeDelivery = d.id
        nb.probeUntil = now + gate.probeLease
        nb.updatedAt = now
        try nb.update(db)
        try Self.breakerEvent(key, from: b.state, to: .halfOpen, detail: "probing with delivery \(d.id ?? 0)", at: now, db: db, events: &events)
        return true
    }

    /// Quotas: only a new post spends; a resumed session was paid for when it began. Request-rate rules
    /// (`on: init`) are spent by the adapter when it sends the request. False when a rule is used up: the
    /// delivery is deferred to when it fits (and a probe it was to be is let go).
    private func spendQuota(
        _ d: inout DeliveryRecord, isProbe: Bool, gate: QueueGate, now: Double, db: Database,
        events: inout [EventRecord]
    ) throws -> Bool {
        let key = d.accountKey
        let rules = d.remoteSession == nil ? (gate.quotas[d.platform] ?? []).filter { $0.on == nil } : []
        var waitUntil: Double? = nil
        var blocking: [String] = []
        for var rule in rules {
            // The platform's own word on this account's limit, where it gives one, over the bundled guess.
            if let seen = try Int.fetchOne(db, sql: "SELECT quota_limit FROM quota_limits WHERE account = ? AND rule = ?", arguments: [key, rule.name]) {
                rule.limit = seen
            }
            let spends = try Self.spends(db, account: key, rule: rule, now: Date(timeIntervalSince1970: now))
            if let w = rule.wait(spends: spends, now: Date(timeIntervalSince1970: now)) {
                waitUntil = max(waitUntil ?? 0, w.timeIntervalSince1970)
                let used = spends.reduce(0) { $0 + $1.units }
                blocking.append("\(rule.name) \(used)/\(rule.limit) used, a post costs \(rule.cost)")
            }
        }
        if let until = waitUntil {
            if isProbe { try releaseProbe(key, db: db) }
            try defer_(
                &d, until: until, gate: "quota", code: .quotaExhausted,
                message: "\(key) quota: \(blocking.joined(separator: "; ")); waiting until \(isoStamp(until))", db: db, events: &events)
            return false
        }
        for rule in rules {
            try db.execute(
                sql: "INSERT INTO quota_spends(account, rule, at, units, delivery_id) VALUES (?,?,?,?,?)",
                arguments: [key, rule.name, now, rule.cost, d.id])
        }
        return true
    }

    /// Takes the delivery's lease and opens its attempt row; an attempt a killed process left open ends
    /// as `interrupted` first, with what it had checkpointed. Returns the new attempt's id.
    private func startAttempt(
        _ d: inout DeliveryRecord, owner: String, lease: Double, isProbe: Bool, now: Double, db: Database,
        events: inout [EventRecord]
    ) throws -> Int64 {
        try db.execute(
            sql: """
                UPDATE attempts SET outcome = 'interrupted', finished_at = ?, bytes_sent = MAX(0, ? - bytes_at_start),
                  detail = 'the process holding it stopped' WHERE delivery_id = ? AND outcome IS NULL
                """, arguments: [now, d.bytesSent, d.id])
        let from = d.state
        d.state = .uploading
        d.leaseOwner = owner
        d.leaseExpiry = now + lease
        d.attempts += 1
        d.updatedAt = now
        d.gate = nil
        if d.uploadStartedAt == nil { d.uploadStartedAt = now }
        try d.update(db)
        try db.execute(
            sql: """
                INSERT INTO attempts(delivery_id, number, owner, account, started_at, bytes_at_start) VALUES (?,?,?,?,?,?)
                """, arguments: [d.id, d.attempts, owner, d.accountKey, now, d.bytesSent])
        let attemptId = db.lastInsertedRowID
        var e = EventRecord(
            at: now, dropId: d.dropId, deliveryId: d.id, target: d.target, stage: EventStage.upload.rawValue,
            fromState: from.rawValue, toState: DeliveryState.uploading.rawValue,
            detail: (from == .uploading ? "resuming (attempt \(d.attempts))" : "attempt \(d.attempts)") + (isProbe ? ", breaker probe" : ""))
        try e.insert(db)
        events.append(e)
        return attemptId
    }

    /// Holds a delivery until a gate opens; records an event only when the hold changes, so a long wait
    /// is one line in the audit trail, not one per look.
    private func defer_(
        _ d: inout DeliveryRecord, until: Double, gate: String, code: ReasonCode, message: String,
        db: Database, events: inout [EventRecord]
    ) throws {
        let changed = d.gate != gate || d.notBefore.map { abs($0 - until) > 1 } ?? true
        d.notBefore = until
        d.gate = gate
        d.errorCode = code.rawValue
        d.errorMessage = message
        d.updatedAt = now
        try d.update(db)
        if changed {
            var e = EventRecord(
                at: now, dropId: d.dropId, deliveryId: d.id, target: d.target, stage: EventStage.queue.rawValue,
                fromState: d.state.rawValue, toState: EventKind.waiting.rawValue, detail: "\(code.rawValue): \(message)")
            try e.insert(db)
            events.append(e)
        }
    }

    /// Spends a request-rate rule at the moment the request is sent: nil when it fit (and is now
    /// counted), or the time it will fit. Check and spend are one transaction, so two uploads on one
    /// account can never both take the last unit.
    package func spendRequest(account key: String, rule: QuotaRule, deliveryId: Int64?) throws -> Date? {
        try write { db, _ in
            let now = self.now
            let spends = try Self.spends(db, account: key, rule: rule, now: Date(timeIntervalSince1970: now))
            if let w = rule.wait(spends: spends, now: Date(timeIntervalSince1970: now)) { return w }
            try db.execute(
                sql: "INSERT INTO quota_spends(account, rule, at, units, delivery_id) VALUES (?,?,?,?,?)",
                arguments: [key, rule.name, now, rule.cost, deliveryId])
            return nil
        }
    }

    /// An account's spends still inside `rule`'s window at `now`.
    /// Records the limit a platform reports for an account's rule (Instagram's `quota_total` for `posts`):
    /// the queue gate holds that account to it from now on. A limit that rose lets the account's
    /// deliveries waiting on a quota be looked at again at once.
    package func observeQuotaLimit(account: String, rule: String, limit: Int) throws {
        try write { db, _ in
            let before = try Int.fetchOne(db, sql: "SELECT quota_limit FROM quota_limits WHERE account = ? AND rule = ?", arguments: [account, rule])
            if let before, limit > before {
                try db.execute(
                    sql: """
                        UPDATE deliveries SET not_before = NULL, gate = NULL
                        WHERE gate = 'quota' AND platform || ':' || account = ? AND state IN ('ready','uploading')
                        """, arguments: [account])
            }
            try db.execute(
                sql: """
                    INSERT INTO quota_limits(account, rule, quota_limit, observed_at) VALUES (?,?,?,?)
                    ON CONFLICT(account, rule) DO UPDATE SET quota_limit = excluded.quota_limit, observed_at = excluded.observed_at
                    """, arguments: [account, rule, limit, self.now])
        }
    }

    /// The limits platforms have reported, by account and rule (for `status`).
    package func observedQuotaLimits() throws -> [String: Int] {
        try read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT account, rule, quota_limit FROM quota_limits") {
                out["\(row["account"] as String)|\(row["rule"] as String)"] = row["quota_limit"]
            }
            return out
        }
    }

    static func spends(_ db: Database, account: String, rule: QuotaRule, now: Date) throws -> [(at: Date, units: Int)] {
        try Row.fetchAll(
            db, sql: "SELECT at, units FROM quota_spends WHERE account = ? AND rule = ? AND at >= ?",
            arguments: [account, rule.name, rule.windowStart(at: now).timeIntervalSince1970]
        )
        .map { (at: Date(timeIntervalSince1970: $0["at"]), units: $0["units"] as Int) }
    }

    private func releaseProbe(_ key: String, db: Database) throws {
        try db.execute(
            sql: "UPDATE breakers SET state = 'open', probe_delivery = NULL, probe_until = NULL, open_until = ? WHERE account = ?",
            arguments: [now, key])
    }

    /// Closes an attempt row and moves the account's breaker (inside the delivery's transition).
    func finish(_ a: AttemptResult, delivery d: DeliveryRecord, db: Database, events: inout [EventRecord]) throws {
        let now = self.now
        try db.execute(
            sql: """
                UPDATE attempts SET outcome = ?, finished_at = ?, error_code = ?, http_status = ?, bytes_sent = MAX(0, ? - bytes_at_start), detail = ?
                WHERE id = ?
                """, arguments: [a.outcome, now, a.errorCode, a.httpStatus, d.bytesSent, a.detail, a.attemptId])
        let key = d.accountKey
        var b = try BreakerRecord.fetchOne(db, key: key) ?? BreakerRecord(account: key, state: .closed, failures: 0, updatedAt: now)
        let before = b.state
        switch a.breaker {
        case .success:
            guard b.state != .closed || b.failures > 0 else { return }
            b = BreakerRecord(account: key, state: .closed, failures: 0, updatedAt: now)
            try b.save(db)
            // Everything the breaker held may go now.
            try db.execute(
                sql: """
                    UPDATE deliveries SET not_before = NULL, gate = NULL WHERE gate = 'breaker' AND platform || ':' || account = ? AND state IN ('ready','uploading')
                    """, arguments: [key])
        case .failure:
            b.failures += 1
            b.lastError = [a.errorCode, a.httpStatus.map { "HTTP \($0)" }].compactMap { $0 }.joined(separator: " ")
            b.updatedAt = now
            if b.state == .halfOpen || b.failures >= a.breakerPolicy.failures {
                b.state = .open
                b.openUntil = now + a.breakerPolicy.cooldown
                b.probeDelivery = nil
                b.probeUntil = nil
                // Deliveries held for a probe that has now failed wait for the new cool-down, not the probe's lease.
                try db.execute(
                    sql: """
                        UPDATE deliveries SET not_before = ? WHERE gate = 'breaker' AND platform || ':' || account = ? AND not_before > ?
                        """, arguments: [b.openUntil, key, b.openUntil])
            }
            try b.save(db)
        case .neutral:
            // Neither healthy nor sick (a quota wait, a shutdown): a probe that ends so lets another probe go.
            if b.state == .halfOpen && b.probeDelivery == d.id {
                b.probeUntil = now
                try b.save(db)
            }
            return
        }
        if before != b.state {
            let detail =
                b.state == .open
                ? "\(b.failures) failures in a row (last: \(b.lastError ?? "?")); cooling down until \(isoStamp(b.openUntil ?? now))"
                : "closed after a successful attempt"
            try Self.breakerEvent(key, from: before, to: b.state, detail: detail, at: now, db: db, events: &events)
        }
    }

    static func breakerEvent(
        _ key: String, from: BreakerRecord.State, to: BreakerRecord.State, detail: String, at: Double,
        db: Database, events: inout [EventRecord]
    ) throws {
        var e = EventRecord(
            at: at, dropId: nil, deliveryId: nil, target: key, stage: EventStage.breaker.rawValue, fromState: from.rawValue,
            toState: to.rawValue, detail: detail)
        try e.insert(db)
        events.append(e)
    }
}

extension Ledger {
    /// Ends an attempt without moving its delivery (a shutdown mid-upload): the lease lapses, the next
    /// start reconciles.
    package func closeAttempt(_ id: Int64, outcome: String, detail: String?) throws {
        try write { db, _ in
            try db.execute(
                sql: """
                    UPDATE attempts SET outcome = ?, finished_at = ?, detail = ?,
                      bytes_sent = MAX(0, (SELECT bytes_sent FROM deliveries WHERE deliveries.id = attempts.delivery_id) - bytes_at_start)
                    WHERE id = ? AND outcome IS NULL
                    """, arguments: [outcome, self.now, detail, id])
        }
    }

    package func attempts(forDelivery id: Int64) throws -> [AttemptRecord] {
        try read { db in try AttemptRecord.fetchAll(db, sql: "SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id", arguments: [id]) }
    }

    package func allAttempts() throws -> [AttemptRecord] {
        try read { db in try AttemptRecord.fetchAll(db, sql: "SELECT * FROM attempts ORDER BY id") }
    }

    package func breakers() throws -> [BreakerRecord] {
        try read { db in try BreakerRecord.order(Column("account")).fetchAll(db) }
    }

    /// Quota use per account and rule at `now`, for status.
    package struct QuotaUse: Sendable, Codable {
        package var account: String
        package var rule: String
        package var used: Int
        package var limit: Int
        package var cost: Int
        package var window: String
        /// When the next post fits, if not now.
        package var nextFitsAt: Double?
    }

    package func quotaUse(accounts: [String], rules: [String: [QuotaRule]]) throws -> [QuotaUse] {
        let now = clock.now()
        return try read { db in
            var out: [QuotaUse] = []
            for key in accounts.sorted() {
                let platform = String(key.split(separator: ":").first ?? "")
                for rule in rules[platform] ?? [] {
                    let spends = try Self.spends(db, account: key, rule: rule, now: now)
                    out.append(
                        QuotaUse(
                            account: key, rule: rule.name, used: spends.reduce(0) { $0 + $1.units }, limit: rule.limit,
                            cost: rule.cost, window: rule.summary,
                            nextFitsAt: rule.wait(spends: spends, now: now)?.timeIntervalSince1970))
                }
            }
            return out
        }
    }
}

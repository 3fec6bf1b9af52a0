import Foundation
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
        // The upload loop claims again after each upload, mostly for nothing: its write transaction only
        // when a read finds a delivery due (Ledger+ClaimLook.swift).
        if looksBeforeClaiming {
            let now = self.now
            guard try readSQL({ sql in try !Self.dueDeliveries(sql, now: now, limit: 1).isEmpty }) else { return nil }
        }
        return try writeSQL { sql, events in
            let now = self.now
            let candidates = try Self.dueDeliveries(sql, now: now)
            if candidates.isEmpty { return nil }
            let inFlight = try InFlight(sql, now: now)
            for candidate in candidates {
                guard inFlight.hasRoom(platform: candidate.platform, account: candidate.account, gate: gate) else { continue }
                // The whole row is read for the one candidate that has room, not for all 500 looked at. On the
                // shared ledger it is locked as it is read and its lease checked again on the row as locked;
                // one another host is claiming this moment is passed over (SKIP LOCKED).
                guard
                    var d = try sql.fetchOne(
                        DeliveryRecord.self,
                        "SELECT * FROM deliveries WHERE id = ? AND state IN ('ready','uploading') AND (lease_expiry IS NULL OR lease_expiry < ?)"
                            + sql.dialect.skipLocked, [.integer(candidate.id), .real(now)])
                else { continue }
                guard let isProbe = try passBreaker(&d, gate: gate, now: now, sql, events: &events) else { continue }
                guard try spendQuota(&d, isProbe: isProbe, gate: gate, now: now, sql, events: &events) else { continue }
                let attemptId = try startAttempt(&d, owner: owner, lease: lease, isProbe: isProbe, now: now, sql, events: &events)
                return ClaimedDelivery(delivery: d, attemptId: attemptId, isProbe: isProbe)
            }
            return nil
        }
    }

    /// Deliveries due now and not held by a live lease, in the order they go: priority, then how long
    /// they have waited. (At most 500 looked at per claim: the rest wait for the next.)
    private static func dueDeliveries(_ sql: any LedgerSQL, now: Double, limit: Int = 500) throws -> [(id: Int64, platform: String, account: String)] {
        try sql.rows(
            """
            SELECT id, platform, account FROM deliveries
            WHERE state IN ('ready','uploading') AND (not_before IS NULL OR not_before <= ?)
              AND (lease_expiry IS NULL OR lease_expiry < ?)
            ORDER BY priority DESC, COALESCE(not_before, 0), id LIMIT \(limit)
            """, now, now
        ).compactMap { r in r.int("id").map { ($0, r.text("platform") ?? "", r.text("account") ?? "") } }
    }

    /// Uploads in flight (a live lease) per platform and per platform+account: what the caps count.
    private struct InFlight {
        var perPlatform: [String: Int] = [:]
        var perAccount: [String: Int] = [:]

        init(_ sql: any LedgerSQL, now: Double) throws {
            for row in try sql.rows(
                "SELECT platform, account, COUNT(*) AS n FROM deliveries WHERE state = 'uploading' AND lease_expiry >= ? GROUP BY platform, account", now)
            {
                let p = row.text("platform") ?? "", a = row.text("account") ?? "", n = Int(row.int("n") ?? 0)
                perPlatform[p, default: 0] += n
                perAccount["\(p):\(a)", default: 0] += n
            }
        }

        func hasRoom(platform: String, account: String, gate: QueueGate) -> Bool {
            if let cap = gate.perPlatform[platform], perPlatform[platform, default: 0] >= cap { return false }
            return perAccount["\(platform):\(account)", default: 0] < gate.perAccount
        }
    }

    /// The breaker: open → the delivery waits for the cool-down; then one probe at a time. Nil when the
    /// delivery is held (deferred), else whether this attempt is the half-open probe.
    private func passBreaker(_ d: inout DeliveryRecord, gate: QueueGate, now: Double, _ sql: any LedgerSQL, events: inout [EventRecord]) throws -> Bool? {
        let key = d.accountKey
        // One account's breaker and quota are decided by one host at a time (`SQLDialect.lockAccount`).
        try sql.dialect.lockAccount(key, sql)
        guard let b = try sql.fetchOne(BreakerRecord.self, "SELECT * FROM breakers WHERE account = ?", [.text(key)]), b.state != .closed else {
            return false
        }
        if b.state == .open, let until = b.openUntil, until > now {
            try defer_(
                &d, until: until, gate: "breaker", code: .breakerOpen,
                message: "\(key) failed \(b.failures) times in a row (last: \(b.lastError ?? "?")); the breaker is open until \(isoStamp(until))",
                sql, events: &events)
            return nil
        }
        if b.state == .halfOpen, let until = b.probeUntil, until > now, b.probeDelivery != d.id {
            try defer_(
                &d, until: until, gate: "breaker", code: .breakerOpen,
                message: "\(key) is being probed by delivery \(b.probeDelivery ?? 0) after \(b.failures) failures", sql, events: &events)
            return nil
        }
        var nb = b
        nb.state = .halfOpen
        nb.probeDelivery = d.id
        nb.probeUntil = now + gate.probeLease
        nb.updatedAt = now
        try sql.update(nb, in: "breakers", key: "account")
        try Self.breakerEvent(key, from: b.state, to: .halfOpen, detail: "probing with delivery \(d.id ?? 0)", at: now, sql, events: &events)
        return true
    }

    /// Quotas: only a new post spends, and once per delivery's round (`quota_round`, v20): a resumed
    /// session was paid for when it began, and so was an upload taken over — from a dead host, or after a
    /// crash or a retry-later — before its session was recorded (the claim finds the round's charge and
    /// charges nothing). Only an operator's `retry` of a failed delivery starts a new round. Request-rate
    /// rules (`on: init`) are spent by the adapter when it sends the request. False when a rule is used
    /// up: the delivery is deferred to when it fits (and a probe it was to be is let go).
    private func spendQuota(
        _ d: inout DeliveryRecord, isProbe: Bool, gate: QueueGate, now: Double, _ sql: any LedgerSQL,
        events: inout [EventRecord]
    ) throws -> Bool {
        let key = d.accountKey
        guard d.remoteSession == nil else { return true }
        // Read on the row the claim holds (locked on the shared ledger): no other host charges it meanwhile.
        let round = try sql.int("SELECT quota_round AS n FROM deliveries WHERE id = ?", [d.id.sqlValue]) ?? 0
        let paid = Set(
            try sql.rows("SELECT rule FROM quota_spends WHERE delivery_id = ? AND charge_round = ?", d.id, round).compactMap { $0.text("rule") })
        let rules = (gate.quotas[d.platform] ?? []).filter { $0.on == nil && !paid.contains($0.name) }
        var waitUntil: Double? = nil
        var blocking: [String] = []
        for var rule in rules {
            // The platform's own word on this account's limit, where it gives one, over the bundled guess.
            if let seen = try sql.int("SELECT quota_limit AS n FROM quota_limits WHERE account = ? AND rule = ?", [.text(key), .text(rule.name)]) {
                rule.limit = Int(seen)
            }
            let spends = try Self.spends(sql, account: key, rule: rule, now: Date(timeIntervalSince1970: now))
            if let w = rule.wait(spends: spends, now: Date(timeIntervalSince1970: now)) {
                waitUntil = max(waitUntil ?? 0, w.timeIntervalSince1970)
                let used = spends.reduce(0) { $0 + $1.units }
                blocking.append("\(rule.name) \(used)/\(rule.limit) used, a post costs \(rule.cost)")
            }
        }
        if let until = waitUntil {
            if isProbe { try releaseProbe(key, sql) }
            try defer_(
                &d, until: until, gate: "quota", code: .quotaExhausted,
                message: "\(key) quota: \(blocking.joined(separator: "; ")); waiting until \(isoStamp(until))", sql, events: &events)
            return false
        }
        for rule in rules {
            // The unique key (`quota_spends_once`) makes a second charge of one round impossible, whoever writes it.
            try sql.run(
                """
                INSERT INTO quota_spends(account, rule, at, units, delivery_id, charge_round) VALUES (?,?,?,?,?,?)
                ON CONFLICT (delivery_id, rule, charge_round) WHERE charge_round IS NOT NULL DO NOTHING
                """, key, rule.name, now, rule.cost, d.id, round)
        }
        return true
    }

    /// Takes the delivery's lease and opens its attempt row; an attempt a killed process left open ends
    /// as `interrupted` first, with what it had checkpointed. Returns the new attempt's id.
    private func startAttempt(
        _ d: inout DeliveryRecord, owner: String, lease: Double, isProbe: Bool, now: Double, _ sql: any LedgerSQL,
        events: inout [EventRecord]
    ) throws -> Int64 {
        try sql.run(
            """
            UPDATE attempts SET outcome = 'interrupted', finished_at = ?, bytes_sent = \(sql.dialect.greatest("0", "? - bytes_at_start")),
              detail = 'the process holding it stopped' WHERE delivery_id = ? AND outcome IS NULL
            """, now, d.bytesSent, d.id)
        let from = d.state
        d.state = .uploading
        d.leaseOwner = owner
        d.leaseExpiry = now + lease
        d.attempts += 1
        d.updatedAt = now
        d.gate = nil
        if d.uploadStartedAt == nil { d.uploadStartedAt = now }
        try sql.update(d, in: "deliveries")
        guard
            let attemptId = try sql.int(
                "INSERT INTO attempts(delivery_id, number, owner, account, started_at, bytes_at_start) VALUES (?,?,?,?,?,?) RETURNING id AS n",
                [d.id.sqlValue, .integer(Int64(d.attempts)), .text(owner), .text(d.accountKey), .real(now), .integer(d.bytesSent)])
        else { throw OmniError(.internalError, "the attempt row of delivery \(d.id ?? 0) was not written") }
        try Self.record(
            EventRecord(
                at: now, dropId: d.dropId, deliveryId: d.id, target: d.target, stage: EventStage.upload.rawValue,
                fromState: from.rawValue, toState: DeliveryState.uploading.rawValue,
                detail: (from == .uploading ? "resuming (attempt \(d.attempts))" : "attempt \(d.attempts)") + (isProbe ? ", breaker probe" : "")),
            sql, &events)
        return attemptId
    }

    /// Holds a delivery until a gate opens; records an event only when the hold changes, so a long wait
    /// is one line in the audit trail, not one per look.
    private func defer_(
        _ d: inout DeliveryRecord, until: Double, gate: String, code: ReasonCode, message: String,
        _ sql: any LedgerSQL, events: inout [EventRecord]
    ) throws {
        let changed = d.gate != gate || d.notBefore.map { abs($0 - until) > 1 } ?? true
        d.notBefore = until
        d.gate = gate
        d.errorCode = code.rawValue
        d.errorMessage = message
        d.updatedAt = now
        try sql.update(d, in: "deliveries")
        if changed {
            try Self.record(
                EventRecord(
                    at: now, dropId: d.dropId, deliveryId: d.id, target: d.target, stage: EventStage.queue.rawValue,
                    fromState: d.state.rawValue, toState: EventKind.waiting.rawValue, detail: "\(code.rawValue): \(message)"),
                sql, &events)
        }
    }

    /// Spends a request-rate rule at the moment the request is sent: nil when it fit (and is now
    /// counted), or the time it will fit. Check and spend are one transaction, so two uploads on one
    /// account can never both take the last unit.
    package func spendRequest(account key: String, rule: QuotaRule, deliveryId: Int64?) throws -> Date? {
        try writeSQL { sql, _ in
            let now = self.now
            try sql.dialect.lockAccount(key, sql)
            let spends = try Self.spends(sql, account: key, rule: rule, now: Date(timeIntervalSince1970: now))
            if let w = rule.wait(spends: spends, now: Date(timeIntervalSince1970: now)) { return w }
            try sql.run("INSERT INTO quota_spends(account, rule, at, units, delivery_id) VALUES (?,?,?,?,?)", key, rule.name, now, rule.cost, deliveryId)
            return nil
        }
    }

    /// An account's spends still inside `rule`'s window at `now`.
    /// Records the limit a platform reports for an account's rule (Instagram's `quota_total` for `posts`):
    /// the queue gate holds that account to it from now on. A limit that rose lets the account's
    /// deliveries waiting on a quota be looked at again at once.
    package func observeQuotaLimit(account: String, rule: String, limit: Int) throws {
        try writeSQL { sql, _ in
            let before = try sql.int("SELECT quota_limit AS n FROM quota_limits WHERE account = ? AND rule = ?", [.text(account), .text(rule)])
            if let before, limit > before {
                try sql.run(
                    """
                    UPDATE deliveries SET not_before = NULL, gate = NULL
                    WHERE gate = 'quota' AND platform || ':' || account = ? AND state IN ('ready','uploading')
                    """, account)
            }
            try sql.run(
                """
                INSERT INTO quota_limits(account, rule, quota_limit, observed_at) VALUES (?,?,?,?)
                ON CONFLICT(account, rule) DO UPDATE SET quota_limit = excluded.quota_limit, observed_at = excluded.observed_at
                """, account, rule, limit, self.now)
        }
    }

    /// The limits platforms have reported, by account and rule (for `status`).
    package func observedQuotaLimits() throws -> [String: Int] {
        try readSQL { sql in
            var out: [String: Int] = [:]
            for row in try sql.rows("SELECT account, rule, quota_limit FROM quota_limits") {
                out["\(row.text("account") ?? "")|\(row.text("rule") ?? "")"] = row.int("quota_limit").map { Int($0) }
            }
            return out
        }
    }

    static func spends(_ sql: any LedgerSQL, account: String, rule: QuotaRule, now: Date) throws -> [(at: Date, units: Int)] {
        try sql.rows(
            "SELECT at, units FROM quota_spends WHERE account = ? AND rule = ? AND at >= ?", account, rule.name,
            rule.windowStart(at: now).timeIntervalSince1970
        )
        .map { (at: Date(timeIntervalSince1970: $0.double("at") ?? 0), units: Int($0.int("units") ?? 0)) }
    }

    private func releaseProbe(_ key: String, _ sql: any LedgerSQL) throws {
        try sql.run("UPDATE breakers SET state = 'open', probe_delivery = NULL, probe_until = NULL, open_until = ? WHERE account = ?", now, key)
    }

    /// Closes an attempt row and moves the account's breaker (inside the delivery's transition).
    func finish(_ a: AttemptResult, delivery d: DeliveryRecord, _ sql: any LedgerSQL, events: inout [EventRecord]) throws {
        let now = self.now
        try sql.run(
            """
            UPDATE attempts SET outcome = ?, finished_at = ?, error_code = ?, http_status = ?, bytes_sent = \(sql.dialect.greatest("0", "? - bytes_at_start")), detail = ?
            WHERE id = ?
            """, a.outcome, now, a.errorCode, a.httpStatus, d.bytesSent, a.detail, a.attemptId)
        let key = d.accountKey
        try sql.dialect.lockAccount(key, sql)
        var b =
            try sql.fetchOne(BreakerRecord.self, "SELECT * FROM breakers WHERE account = ?", [.text(key)])
            ?? BreakerRecord(account: key, state: .closed, failures: 0, updatedAt: now)
        let before = b.state
        switch a.breaker {
        case .success:
            guard b.state != .closed || b.failures > 0 else { return }
            b = BreakerRecord(account: key, state: .closed, failures: 0, updatedAt: now)
            try sql.save(b, into: "breakers", key: "account")
            // Everything the breaker held may go now.
            try sql.run(
                """
                UPDATE deliveries SET not_before = NULL, gate = NULL WHERE gate = 'breaker' AND platform || ':' || account = ? AND state IN ('ready','uploading')
                """, key)
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
                try sql.run(
                    "UPDATE deliveries SET not_before = ? WHERE gate = 'breaker' AND platform || ':' || account = ? AND not_before > ?",
                    b.openUntil, key, b.openUntil)
            }
            try sql.save(b, into: "breakers", key: "account")
        case .neutral:
            // Neither healthy nor sick (a quota wait, a shutdown): a probe that ends so lets another probe go.
            if b.state == .halfOpen && b.probeDelivery == d.id {
                b.probeUntil = now
                try sql.save(b, into: "breakers", key: "account")
            }
            return
        }
        if before != b.state {
            let detail =
                b.state == .open
                ? "\(b.failures) failures in a row (last: \(b.lastError ?? "?")); cooling down until \(isoStamp(b.openUntil ?? now))"
                : "closed after a successful attempt"
            try Self.breakerEvent(key, from: before, to: b.state, detail: detail, at: now, sql, events: &events)
        }
    }

    static func breakerEvent(
        _ key: String, from: BreakerRecord.State, to: BreakerRecord.State, detail: String, at: Double,
        _ sql: any LedgerSQL, events: inout [EventRecord]
    ) throws {
        try record(
            EventRecord(
                at: at, dropId: nil, deliveryId: nil, target: key, stage: EventStage.breaker.rawValue, fromState: from.rawValue,
                toState: to.rawValue, detail: detail),
            sql, &events)
    }
}

extension Ledger {
    /// Ends an attempt without moving its delivery (a shutdown mid-upload): the lease lapses, the next
    /// start reconciles.
    package func closeAttempt(_ id: Int64, outcome: String, detail: String?) throws {
        try writeSQL { sql, _ in
            try sql.run(
                """
                UPDATE attempts SET outcome = ?, finished_at = ?, detail = ?,
                  bytes_sent = \(sql.dialect.greatest("0", "(SELECT bytes_sent FROM deliveries WHERE deliveries.id = attempts.delivery_id) - bytes_at_start"))
                WHERE id = ? AND outcome IS NULL
                """, outcome, self.now, detail, id)
        }
    }

    package func attempts(forDelivery id: Int64) throws -> [AttemptRecord] {
        try readSQL { sql in try sql.fetchAll(AttemptRecord.self, "SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id", [.integer(id)]) }
    }

    package func allAttempts() throws -> [AttemptRecord] {
        try readSQL { sql in try sql.fetchAll(AttemptRecord.self, "SELECT * FROM attempts ORDER BY id") }
    }

    package func breakers() throws -> [BreakerRecord] {
        try readSQL { sql in try sql.fetchAll(BreakerRecord.self, "SELECT * FROM breakers ORDER BY account") }
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
        return try readSQL { sql in
            var out: [QuotaUse] = []
            for key in accounts.sorted() {
                let platform = String(key.split(separator: ":").first ?? "")
                for rule in rules[platform] ?? [] {
                    let spends = try Self.spends(sql, account: key, rule: rule, now: now)
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

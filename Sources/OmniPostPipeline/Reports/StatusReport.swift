import Foundation
import OmniPostCore
import OmniPostLedger

/// What `omnipost status` shows: drops and deliveries, the queue and what holds each item back,
/// quota use per account, breakers, attempts and stored credentials — from the ledger alone, so it
/// works whether or not the daemon runs.
package struct StatusReport: Sendable {
    package struct QueueItem: Sendable, Codable {
        package var delivery: Int64
        package var drop: String
        package var target: String
        package var state: String
        package var priority: Int
        /// What holds it while not yet due: schedule | quota | breaker | retry; nil once due.
        package var gate: String?
        package var notBefore: String?
        package var scheduledAt: String?
        package var attempts: Int
        package var confirmedOffset: Int64
        package var bytes: Int64?
        package var reason: String?
        /// The host uploading it now (several hosts on one ledger: who holds what).
        package var host: String?
    }

    package var inboxes: [String]
    package var drops: [DropRecord]
    package var deliveries: [DeliveryRecord]
    package var queue: [QueueItem]
    package var quotas: [Ledger.QuotaUse]
    package var breakers: [BreakerRecord]
    package var accounts: [Ledger.TokenSummary]
    package var attemptsByOutcome: [String: Int]
    /// Accounts whose refresh token lapses within `account_checks.warn_days`, and ones whose last check failed.
    package var accountWarnings: [String] = []
    /// Each alert sink and whether it takes messages (a sink that is down shows here, on the dashboard,
    /// in `/metrics` and in the log).
    package var sinks: [Ledger.SinkState] = []
    /// Follow-ups (a first comment, a subtitle track…) asked for whose answer is not kept yet.
    package var pendingFollowUps = 0
    /// Work held under a live lease, with the host holding it (`Ledger.heldClaims`).
    package var held: [Ledger.HeldClaim] = []
    /// On a shared ledger, the host running the duties one host runs (account checks, approval
    /// deadlines, sending the ledger's alerts; `Ledger.holdsDuties`); nil on one machine.
    package var duties: String?

    /// With `history: false` (the dashboard and the API, read often) only what is still open is read:
    /// `drops` and `attemptsByOutcome` stay empty and `deliveries` holds the queue's own, so a page costs
    /// the same after a year of posts as on the first day.
    package static func gather(config: PipelineConfig, ledger: Ledger, profiles: ProfileCatalog, history: Bool = true) throws -> StatusReport {
        let deliveries = history ? try ledger.allDeliveries() : try ledger.openDeliveries()
        let now = ledger.clock.now().timeIntervalSince1970
        var queue = deliveries.filter { !$0.state.isTerminal }
            // The claim's order: priority, then due time, then age.
            .sorted { a, b in
                if a.priority != b.priority { return a.priority > b.priority }
                if (a.notBefore ?? 0) != (b.notBefore ?? 0) { return (a.notBefore ?? 0) < (b.notBefore ?? 0) }
                return (a.id ?? 0) < (b.id ?? 0)
            }
            .map { d in
                let due = d.notBefore.map { $0 <= now } ?? true
                return QueueItem(
                    delivery: d.id ?? 0, drop: d.dropId, target: d.target, state: d.state.rawValue, priority: d.priority,
                    gate: due ? nil : d.gate, notBefore: due ? nil : d.notBefore.map(isoStamp),
                    scheduledAt: d.scheduledAt.map(isoStamp), attempts: d.attempts, confirmedOffset: d.confirmedOffset, bytes: d.renditionBytes,
                    reason: [d.errorCode, d.errorMessage].compactMap { $0 }.joined(separator: ": ").nilIfEmpty)
            }
        let held = try ledger.heldClaims()
        let uploadingOn = Dictionary(held.filter { $0.kind == "upload" }.map { ($0.id, $0.host) }, uniquingKeysWith: { a, _ in a })
        for i in queue.indices { queue[i].host = uploadingOn["\(queue[i].delivery)"] }
        var byOutcome: [String: Int] = [:]
        if history { for a in try ledger.allAttempts() { byOutcome[a.outcome ?? "running", default: 0] += 1 } }
        let tokens = try ledger.tokenSummaries()
        var report = StatusReport(
            inboxes: try ledger.watchModes(), drops: history ? try ledger.drops() : [], deliveries: deliveries, queue: queue,
            quotas: try ledger.quotaUse(accounts: Array(config.accounts.keys), rules: profiles.quotas),
            breakers: try ledger.breakers(), accounts: tokens, attemptsByOutcome: byOutcome)
        report.accountWarnings = Self.warnings(tokens, warnDays: config.accountChecks.warnDays, now: now)
        report.sinks = try ledger.sinkStates(configured: config.notify?.sinks.map(\.name) ?? [])
        report.pendingFollowUps = try ledger.pendingFollowUpCount()
        report.held = held
        report.duties = try ledger.dutiesHolder().map(Ledger.host(ofOwner:))
        for j in try ledger.cookieJars() {
            guard let e = j.expiresAt, e - now < Double(config.accountChecks.warnDays) * 86400 else { continue }
            report.accountWarnings.append(
                e <= now
                    ? "\(j.account): its cookies lapsed on \(isoStamp(e)); import new ones with `omnipost accounts import-cookies`"
                    : "\(j.account): its cookies lapse on \(isoStamp(e)); import new ones before then")
        }
        return report
    }

    /// What needs a person before a post does: a refresh token lapsing soon (with the day), a failed check.
    static func warnings(_ tokens: [Ledger.TokenSummary], warnDays: Int, now: Double) -> [String] {
        var out: [String] = []
        for t in tokens {
            if let e = t.refreshExpiresAt, e - now < Double(warnDays) * 86400 {
                let days = Int(((e - now) / 86400).rounded(.down))
                out.append(
                    e <= now
                        ? "\(t.account): its refresh token lapsed on \(isoStamp(e)); run `omnipost accounts add` for it"
                        : "\(t.account): its refresh token lapses on \(isoStamp(e)) (in \(days) day\(days == 1 ? "" : "s")); run `omnipost accounts add` for it before then")
            }
            if t.checkOK == false {
                out.append("\(t.account): its last check failed (\(t.checkedAt.map(isoStamp) ?? "?")): \(t.checkDetail ?? "")")
            }
        }
        return out
    }

    package func json(filter: StatusFilter = .all) throws -> String {
        func tree<T: Encodable>(_ v: T) throws -> Any { Self.readable(try JSONSerialization.jsonObject(with: JSONCoding.encoder().encode(v), options: [.fragmentsAllowed])) }
        // The same drops and deliveries the table shows under the same filter (newest `limit` drops).
        var kept = drops.filter(filter.keeps).filter { d in filter.keeps(d, nil) || deliveries.contains { $0.dropId == d.id && filter.keeps(d, $0) } }
        if let limit = filter.limit { kept = Array(kept.suffix(limit)) }
        let byId = Dictionary(kept.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let keptDeliveries = deliveries.filter { x in byId[x.dropId].map { filter.keeps($0, x) } ?? (drops.isEmpty && filter == .all) }
        let obj: [String: Any] = [
            "inboxes": inboxes, "drops": try tree(kept), "deliveries": try tree(keptDeliveries), "queue": try tree(queue),
            "quotas": try tree(quotas), "breakers": try tree(breakers), "accounts": try tree(accounts), "account_warnings": accountWarnings, "attempts": attemptsByOutcome,
            "sinks": try tree(sinks), "pending_follow_ups": pendingFollowUps, "held": try tree(held),
            "duties": duties as Any? ?? NSNull()
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    /// A record as a reader wants it: a column holding JSON (`manifest_json`, `metadata_json`,
    /// `remote_session`…) as the object it is, under its name without `_json`, not a string to parse
    /// again; a time (`…_at`, `not_before`, `lease_expiry`, `open_until`) as RFC 3339, not epoch seconds.
    static func readable(_ v: Any) -> Any {
        if let list = v as? [Any] { return list.map(readable) }
        guard let o = v as? [String: Any] else { return v }
        var out: [String: Any] = [:]
        for (k, value) in o {
            if let text = value as? String, k.hasSuffix("_json") || k == "remote_session",
                let nested = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
                nested is [String: Any] || nested is [Any]
            {
                out[k.hasSuffix("_json") ? String(k.dropLast(5)) : k] = readable(nested)
            } else if let t = value as? Double ?? (value as? Int).map(Double.init),
                k.hasSuffix("_at") || ["not_before", "lease_expiry", "open_until"].contains(k), t > 1_000_000_000, t < 1e11
            {
                out[k] = isoStamp(t)
            } else {
                out[k] = readable(value)
            }
        }
        return out
    }

    /// The human form: the summary table, then queue, quotas, breakers and accounts.
    package func text(ledger: Ledger, filter: StatusFilter = .all) throws -> String {
        var out: [String] = inboxes.map { "inbox \($0)" }
        out.append(try SummaryTable.render(ledger: ledger, since: nil, filter: filter))
        out.append("")
        if queue.isEmpty {
            out.append("queue: empty")
        } else {
            out.append("queue (\(queue.count)):")
            for q in queue {
                var parts = ["  #\(q.delivery)", q.target, q.state, "prio \(q.priority)"]
                if let g = q.gate { parts.append("held by \(g)") } else if q.state == "ready" { parts.append("due") }
                if let nb = q.notBefore { parts.append("until \(nb)") }
                if let s = q.scheduledAt { parts.append("goes public \(s)") }
                if q.attempts > 0 { parts.append("attempts \(q.attempts)") }
                if let b = q.bytes, q.confirmedOffset > 0 { parts.append("\(q.confirmedOffset)/\(b) bytes confirmed") }
                if let h = q.host { parts.append("on \(h)") }
                if let r = q.reason { parts.append("(\(r))") }
                out.append(parts.joined(separator: "  "))
            }
        }
        // Who holds what: one line per host with work under a live lease (several hosts on one ledger).
        if !held.isEmpty {
            out.append("held:")
            for (host, claims) in Dictionary(grouping: held, by: \.host).sorted(by: { $0.key < $1.key }) {
                let kinds = Ledger.heldKinds.compactMap { k -> String? in
                    let ids = claims.filter { $0.kind == k }.map { k == "upload" ? "#\($0.id)" : $0.id }
                    return ids.isEmpty ? nil : "\(k) \(ids.joined(separator: ", "))"
                }
                out.append("  \(host)  " + kinds.joined(separator: "; "))
            }
        }
        if let duties { out.append("duties: \(duties) (account checks, approval deadlines, the ledger's alerts)") }
        if pendingFollowUps > 0 {
            out.append(
                "follow-ups pending: \(pendingFollowUps) (asked, their answer not kept yet: each is looked for on its platform before it is sent again)")
        }
        if !quotas.isEmpty {
            out.append("quotas:")
            for q in quotas {
                let next = q.nextFitsAt.map { "; next post fits at \(isoStamp($0))" } ?? ""
                out.append("  \(q.account)  \(q.rule)  \(q.used)/\(q.limit) used  (\(q.window))\(next)")
            }
        }
        out.append(breakers.isEmpty ? "breakers: all closed" : "breakers:")
        for b in breakers {
            var line = "  \(b.account)  \(b.state.rawValue)  \(b.failures) failures in a row"
            if b.state == .open, let u = b.openUntil { line += "  until \(isoStamp(u))" }
            if let e = b.lastError, !e.isEmpty { line += "  last: \(e)" }
            out.append(line)
        }
        if !accounts.isEmpty {
            out.append("credentials:")
            for a in accounts {
                let access = a.accessExpiresAt.map { "access token until \(isoStamp($0))" } ?? "no access token yet"
                var line = "  \(a.account)  \(a.hasRefreshToken ? "refresh token stored" : "NO refresh token")\(a.sealed ? " (sealed)" : "")  \(access)"
                if let e = a.refreshExpiresAt { line += "  refresh token until \(isoStamp(e))" }
                if let c = a.checkedAt {
                    line += "  checked \(isoStamp(c)): \(a.checkOK == true ? "ok" : "FAILED")" + (a.checkOK == true ? (a.checkDetail.map { " as \($0)" } ?? "") : "")
                }
                out.append(line)
            }
        }
        if !accountWarnings.isEmpty {
            out.append("account warnings:")
            out.append(contentsOf: accountWarnings.map { "  " + $0 })
        }
        if !sinks.isEmpty {
            out.append("alert sinks:")
            for k in sinks {
                var line = "  \(k.sink)  " + (k.down ? "DOWN: \(k.pending) waiting" : "ok: \(k.sent) sent" + (k.pending > 0 ? ", \(k.pending) waiting" : ""))
                if k.givenUp > 0 { line += ", \(k.givenUp) given up" }
                if k.down, let e = k.lastError { line += "  last error: \(e)" }
                if let t = k.lastSentAt { line += "  last sent \(isoStamp(t))" }
                out.append(line)
            }
        }
        if !attemptsByOutcome.isEmpty {
            out.append("attempts: " + attemptsByOutcome.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        return out.joined(separator: "\n")
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

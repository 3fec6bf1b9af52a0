import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import OmniPostCore
import OmniPostLedger
import OmniPostWire

/// Alerts (`notify:`), from an outbox in the ledger. `produce` reads the ledger's events since its
/// cursor and the state of quotas, tokens and the disk, and writes each fact once per sink (a unique
/// key: read twice after a crash, written once); only then does the cursor move. `send` posts what is
/// due, a sink at a time: more than `max_per_hour` wait and go out together as one grouped message;
/// a failed send is tried again with backoff, one the sink refuses (4xx) is given up on, said so in
/// the ledger. Each message says what happened and what to do.
struct Notifier: Sendable {
    let ctx: PipelineContext
    let config: NotifyConfig
    let http: HTTPClient
    /// The look for what only time brings (a backlog's age, the disk filling, a token's expiry, the
    /// digest's hour, a failed send's retry) when nothing rang: the process's `SafetyNet` rings `clock`
    /// this often for every pipeline at once — one timer, not one a pipeline.
    static let tick: Duration = .seconds(60)
    /// After a ring, the look comes this much later, as it did when this loop looked every 15 s: a burst
    /// of transitions is one look, and a drop's failure is told with what else became of it meanwhile.
    static let coalesce: Duration = .seconds(15)

    func run() async {
        while !Task.isCancelled {
            let ticket = ctx.wakeup.ticket()
            let work = ctx.wakeup.ticket(IdleMemory.work)
            try? produce()
            // Several hosts on one ledger: one of them sends (the longest running live one), so an alert
            // goes out once. Each host still produces: the same alert's key makes one row, whoever writes it.
            if ctx.hostHealth.claiming, (try? ctx.ledger.sendsAlerts(owner: ctx.owner)) ?? false { await send() }
            // Alerts come from the ledger's events: woken by the transitions that write them, not by a
            // look every few seconds on an idle daemon (issue 30).
            // Woken by the net's `clock` (or its `look`), the look is now; after work rang, `coalesce` later.
            await ctx.wakeup.wait(after: ticket, timeout: nil)
            if ctx.wakeup.ticket(IdleMemory.work) != work { try? await Task.sleep(for: Self.coalesce) }
        }
    }

    struct Fact {
        var key: String
        var kind: String
        var title: String
        var body: String
        var facts: AlertFacts? = nil
    }

    /// The dashboard's page for a drop, when the listener says where it is reached.
    func link(_ dropId: String) -> String? {
        ctx.config.http?.publicURL.map { "\($0)/drops/\(dropId)?pipeline=\(ctx.config.name)" }
    }

    /// What a drop's failure is about, as values: where in the sidecar, and what did go out.
    func facts(drop d: DropRecord, target: String? = nil, deliveryId: Int64? = nil, reason: String?, at: Double) throws -> AlertFacts {
        let published = try ctx.ledger.deliveries(forDrop: d.id).filter { $0.state == .published }.map(\.target)
        return AlertFacts(
            dropId: d.id, target: target, deliveryId: deliveryId, reasonCode: reason, location: d.reasonLocation,
            published: published, link: link(d.id), at: at)
    }

    func produce(now: Date = Date()) throws {
        let ledger = ctx.ledger
        var facts: [Fact] = []
        let cursor = try ledger.notifyCursor()
        let events = try ledger.events(afterId: cursor, limit: 500)
        let pipeline = ctx.config.name
        for e in events {
            if e.toState == "failed", e.deliveryId == nil, let dropID = e.dropId, e.stage != "accounts",
                let d = try ledger.drop(dropID)
            {
                // One message per failure: a drop that failed because a target did was said by that
                // target's own message (with the platform's reason); only a drop's own failure is said here.
                if try ledger.deliveries(forDrop: dropID).contains(where: { $0.state == .failed }) { continue }
                facts.append(
                    Fact(
                        key: "drop_failed:\(dropID)", kind: "drop_failed", title: "\(pipeline): \(d.stem) failed",
                        body: "\(d.reasonCode ?? "failed"): \(d.reasonMessage ?? e.detail ?? "")" + (d.reasonLocation.map { " (at \($0))" } ?? "")
                            + "\nThe original is in failed/ with its report. Fix it and `omnipost retry \(ctx.config.file) \(dropID)`.",
                        facts: try self.facts(drop: d, reason: d.reasonCode, at: e.at)))
            } else if e.toState == "failed", let id = e.deliveryId, let d = try ledger.delivery(id) {
                let drop = try ledger.drop(d.dropId)
                facts.append(
                    Fact(
                        key: "delivery_failed:\(id)", kind: "delivery_failed", title: "\(pipeline): \(d.target) gave up on \(drop?.stem ?? d.dropId)",
                        body: "\(d.errorCode ?? "failed"): \(d.errorMessage ?? "")\n`omnipost retry \(ctx.config.file) \(id)` sends it again once the cause is fixed.",
                        facts: try drop.map { try self.facts(drop: $0, target: d.target, deliveryId: id, reason: d.errorCode, at: e.at) }
                            ?? AlertFacts(dropId: d.dropId, target: d.target, deliveryId: id, reasonCode: d.errorCode, at: e.at)))
            } else if e.eventStage == .verify, e.kind == .notVerified, let id = e.deliveryId, let d = try ledger.delivery(id) {
                // Published, but the platform's own read does not show it as asked: never a silent success.
                let reason: String? = if case .readBack(let r)? = e.data { r } else { nil }
                facts.append(
                    Fact(
                        key: "not_verified:\(id)", kind: "post_not_verified", title: "\(pipeline): \(d.target) does not show \(d.remoteId ?? "the post") as asked",
                        body: "\(e.detail ?? "")\nThe post was published (\(d.remoteUrl ?? d.remoteId ?? "")); look at it on the platform.",
                        facts: AlertFacts(dropId: d.dropId, target: d.target, deliveryId: id, reasonCode: reason, at: e.at)))
            } else if e.eventStage == .accounts, e.kind == .checkFailed, let account = e.target {
                facts.append(
                    Fact(
                        key: "account:\(account):\(Self.day(e.at))", kind: "account_needs_auth", title: "\(pipeline): \(account) cannot publish",
                        body: "\(e.detail ?? "")\nConnect it again: `omnipost accounts add \(ctx.config.file) \(account)`.",
                        facts: AlertFacts(account: account, at: e.at)))
            } else if e.stage == "breaker", e.toState == "open", let account = e.target {
                facts.append(
                    Fact(
                        key: "breaker:\(account):\(Int(e.at))", kind: "breaker_opened", title: "\(pipeline): uploads to \(account) are paused",
                        body: "Repeated failures opened its breaker: \(e.detail ?? ""). It tries again by itself after the cool-down; `omnipost status` shows why.",
                        facts: AlertFacts(account: account, at: e.at)))
            } else if e.kind == .awaitingApproval || e.kind == .approvalReminder, let dropID = e.dropId, let d = try ledger.drop(dropID) {
                // To the reviewers: a drop waits for them (and, past `remind_after`, still does).
                let again = e.kind == .approvalReminder
                facts.append(
                    Fact(
                        key: "\(e.toState):\(dropID)", kind: e.toState,
                        title: "\(pipeline): \(d.stem) \(again ? "still waits" : "waits") for approval",
                        body: "\(e.detail ?? "")\n`omnipost approve \(ctx.config.file) \(dropID)` sends it; `omnipost reject \(ctx.config.file) \(dropID) --note …` stops it.",
                        facts: try self.facts(drop: d, reason: nil, at: e.at)))
            } else if e.eventStage == .reload, e.kind == .refused {
                // The daemon runs on as it was; whoever edited the file should know it did not take.
                facts.append(
                    Fact(
                        key: "reload_refused:\(e.id ?? Int64(e.at))", kind: "reload_refused", title: "\(pipeline): a reload was refused",
                        body: "\(e.detail ?? "")\nThe pipeline runs on as it was. Fix the file, then `systemctl reload` again.",
                        facts: AlertFacts(at: e.at)))
            }
        }
        // States, not events: noticed once a day while they last.
        let today = Self.day(now.timeIntervalSince1970)
        for q in try ledger.quotaUse(accounts: Array(ctx.config.accounts.keys), rules: ctx.profiles.quotas)
        where q.limit > 0 && Double(q.used) >= config.quotaThreshold * Double(q.limit) {
            facts.append(
                Fact(
                    key: "quota:\(q.account):\(q.rule):\(today)", kind: "quota_high", title: "\(pipeline): \(q.account) has used \(q.used) of \(q.limit) \(q.rule)",
                    body: "At \(Int(config.quotaThreshold * 100)) % or more of its \(q.window) quota; further posts wait for room."))
        }
        for t in try ledger.tokenSummaries() {
            if let e = t.refreshExpiresAt, e - now.timeIntervalSince1970 < Double(ctx.config.accountChecks.warnDays) * 86400 {
                facts.append(
                    Fact(
                        key: "refresh:\(t.account):\(Self.day(e))", kind: "refresh_expiring", title: "\(pipeline): \(t.account)'s authorization lapses on \(isoStamp(e))",
                        body: "Connect it again before then: `omnipost accounts add \(ctx.config.file) \(t.account)`."))
            }
        }
        facts += try health(now: now)
        var st = statvfs()
        if statvfs(ctx.paths.work.path, &st) == 0 {
            let free = Int64(st.f_bavail) * Int64(st.f_frsize)
            if free < config.diskLowBytes {
                facts.append(
                    Fact(
                        key: "disk:\(today)", kind: "disk_low", title: "\(pipeline): \(free / 1_048_576) MiB free for work/",
                        body: "Conversions need room for the renditions; free space or move paths.work to a larger disk."))
            }
        }
        for f in facts {
            for s in config.sinks { try ledger.enqueueNotification(sink: s.name, key: f.key, kind: f.kind, title: f.title, body: f.body, facts: f.facts) }
        }
        if let last = events.last?.id { try ledger.setNotifyCursor(last) }
    }

    static func day(_ t: Double) -> String { String(isoStamp(t).prefix(10)) }

    /// A backlog that stays, a success rate that drops, and the day's digest.
    func health(now: Date) throws -> [Fact] {
        let ledger = ctx.ledger, t = now.timeIntervalSince1970, pipeline = ctx.config.name
        var facts: [Fact] = []
        // Backlog: deliveries due now but not yet final, above the threshold since `backlog_since`.
        // Counted in SQL: this runs every tick, and a ledger grows for months.
        let waiting = try ledger.waitingDeliveries(at: t)
        if waiting > config.backlog {
            let mark = try ledger.notifyMark("backlog_since")
            if mark == nil { try ledger.setNotifyMark("backlog_since", t) }
            let since = mark ?? t
            if t - since >= Double(config.backlogMinutes * 60) {
                facts.append(
                    Fact(
                        key: "backlog:\(Int(since))", kind: "backlog", title: "\(pipeline): \(waiting) deliveries waiting for \(Int((t - since) / 60)) min",
                        body:
                            "More than \(config.backlog) have been due for \(config.backlogMinutes) min or longer: uploads are slower than drops arrive, or something holds them. `omnipost status` shows what."
                    ))
            }
        } else {
            try ledger.setNotifyMark("backlog_since", nil)
        }
        // Success rate of the last window's finished attempts.
        let window = Double(config.successWindowHours * 3600)
        // Deferred and cancelled attempts say nothing about whether uploads work.
        let outcomes = try ledger.attemptOutcomes(since: t - window).filter { $0.key != "deferred" && $0.key != "cancelled" }
        let finished = outcomes.values.reduce(0, +)
        if finished >= 10 {
            let ok = Double(outcomes["published"] ?? 0) / Double(finished)
            if ok < config.successRate {
                facts.append(
                    Fact(
                        key: "success:\(Self.day(t)):\(Int(t / window))", kind: "success_rate_low",
                        title: "\(pipeline): \(Int(ok * 100)) % of uploads succeeded in \(config.successWindowHours) h",
                        body: "\(finished) attempts, below \(Int(config.successRate * 100)) %: the failures' reasons are in `omnipost status` and the failure reports."))
            }
        }
        // The daily digest, once a day from its hour on.
        // The digest is built once a day, when its hour has come and today's is not written yet.
        if let hour = config.digestHour, Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: now).hour ?? 0 >= hour,
            try !ledger.hasNotification(key: "digest:\(Self.day(t))")
        {
            let dayAgo = t - 86400
            let deliveries = try ledger.allDeliveries()
            let published = deliveries.filter { $0.state == .published && ($0.uploadFinishedAt ?? 0) >= dayAgo }
            let failed = deliveries.filter { $0.state == .failed && $0.updatedAt >= dayAgo }
            let byPlatform = Dictionary(grouping: published, by: \.platform).map { "\($0.key) \($0.value.count)" }.sorted().joined(separator: ", ")
            facts.append(
                Fact(
                    key: "digest:\(Self.day(t))", kind: "digest", title: "\(pipeline): \(published.count) published, \(failed.count) failed in 24 h",
                    body: (byPlatform.isEmpty ? "Nothing published." : "Published: \(byPlatform).") + " Waiting: \(waiting)."
                        + (failed.isEmpty ? "" : "\nFailed: " + failed.prefix(10).map { "\($0.target) \($0.dropId) (\($0.errorCode ?? "?"))" }.joined(separator: ", "))))
        }
        return facts
    }

    func send(now: Date = Date()) async {
        for sink in config.sinks {
            let sent = (try? ctx.ledger.notificationsSent(sink: sink.name, since: now.timeIntervalSince1970 - 3600)) ?? 0
            let room = config.maxPerHour - sent
            if room <= 0 { continue }
            // Claimed, not only read: on a ledger several hosts share, a message one host is sending is not
            // due for another (`claimDueNotifications`); every message claimed is marked sent or failed below.
            guard var due = try? ctx.ledger.claimDueNotifications(sink: sink.name, now: now.timeIntervalSince1970), !due.isEmpty else { continue }
            // More than fits this hour: the rest goes as one message, grouped.
            var batches: [[Ledger.Notification]] = due.prefix(room - 1).map { [$0] }
            due.removeFirst(min(due.count, room - 1))
            if !due.isEmpty { batches.append(due) }
            for batch in batches {
                let (title, body) =
                    batch.count == 1
                    ? (batch[0].title, batch[0].body)
                    : ("\(ctx.config.name): \(batch.count) more alerts", batch.map { "• \($0.title)" }.joined(separator: "\n"))
                let key = batch.count == 1 ? batch[0].key : "group:" + batch.map { String($0.id) }.joined(separator: ",")
                let ids = batch.map(\.id)
                let message = AlertSender.Message(
                    key: key, kind: batch.count == 1 ? batch[0].kind : "grouped", title: title, body: body,
                    facts: batch.count == 1 ? batch[0].facts : nil)
                switch await sender.post(sink, message) {
                case .sent: try? ctx.ledger.markNotificationsSent(ids)
                case .retry(let why):
                    let attempts = batch.map(\.attempts).max() ?? 0
                    let wait = min(3600, 30 * pow(2, Double(attempts)))
                    try? ctx.ledger.markNotificationsFailed(ids, error: why, retryAt: now.timeIntervalSince1970 + wait)
                    // A sink that is down is said once per message's first failure (and counted in /metrics).
                    if attempts == 0 {
                        ctx.logger.warning(
                            "a notification sink is not taking messages; they wait and are tried again",
                            metadata: ["omnipost.sink": "\(sink.name)", "omnipost.error": "\(why)"])
                    }
                case .refused(let why):
                    try? ctx.ledger.markNotificationsFailed(ids, error: why, retryAt: nil)
                    ctx.logger.warning("a notification sink refused a message", metadata: ["omnipost.sink": "\(sink.name)", "omnipost.error": "\(why)"])
                }
            }
        }
    }

    var sender: AlertSender { AlertSender(config: ctx.config, http: http) }
}

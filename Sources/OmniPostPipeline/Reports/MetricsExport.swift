import Foundation
import OmniPostCore
import OmniPostLedger
import Prometheus

/// `/metrics`: what the ledger knows, in Prometheus's text format (swift-prometheus writes it). Each
/// scrape reads the ledger afresh into a new registry, so the numbers are the ledger's own — after a
/// run they match `status` exactly — and a restart loses nothing (the ledger is the spine).
package enum MetricsExport {
    static let durationBuckets: [Double] = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]

    static func d(_ name: String, _ help: String, unit: String = "") -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "omnipost", metricName: name, unitName: unit, helpText: help)
    }

    package static func text(config: PipelineConfig, ledger: Ledger, profiles: ProfileCatalog, now: Date = Date()) throws -> String {
        try text([(config, ledger, profiles)], now: now)
    }

    /// Several pipelines sharing one listener: each series carries a `pipeline` label (one pipeline's
    /// series have none, so its queries stay as they were).
    package static func text(_ pipelines: [(PipelineConfig, Ledger, ProfileCatalog)], now: Date = Date()) throws -> String {
        let r = PrometheusCollectorRegistry()
        // What is running, once per process (a dashboard joins on it; an alert compares versions).
        r.makeGauge(descriptor: d("build_info", "The running OmniPost's version (always 1)"), labels: [("version", Product.version)]).set(to: 1)
        ProcessMetrics.add(to: r)
        for (config, ledger, profiles) in pipelines {
            try add(to: r, config: config, ledger: ledger, profiles: profiles, label: pipelines.count > 1 ? config.name : nil, now: now)
        }
        return r.emitToString()
    }

    /// The gates a waiting delivery can be held by: each has its series from the first scrape.
    static let gates = ["ready", "retry", "quota", "breaker", "auth", "cancel"]

    static func add(to r: PrometheusCollectorRegistry, config: PipelineConfig, ledger: Ledger, profiles: ProfileCatalog, label: String?, now: Date) throws {
        func L(_ labels: [(String, String)]) -> [(String, String)] { label.map { labels + [("pipeline", $0)] } ?? labels }
        let drops = try ledger.drops(), deliveries = try ledger.allDeliveries()
        let t = now.timeIntervalSince1970

        // Every series an alert rule or a dashboard names is there from the first scrape, at 0: a rule on
        // a series that does not exist yet never fires, and a graph starts with a gap.
        let dropCounts = Dictionary(grouping: drops, by: { $0.state.rawValue }).mapValues(\.count)
        // Who holds what (several hosts on one ledger): work under a live lease, by the host holding it;
        // this host's series are there at 0 from the first scrape.
        var held = Dictionary(grouping: try ledger.heldClaims(), by: { "\($0.host)|\($0.kind)" }).mapValues(\.count)
        for kind in Ledger.heldKinds where held["\(config.host.name)|\(kind)"] == nil { held["\(config.host.name)|\(kind)"] = 0 }
        for (key, n) in held {
            let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
            r.makeGauge(descriptor: d("claims_held", "Work held under a live lease, by the host holding it and the work (validate, convert, file, upload)"), labels: L([("host", parts[0]), ("kind", parts[1])]))
                .set(to: Double(n))
        }
        for state in DropState.allCases.map(\.rawValue) {
            r.makeGauge(descriptor: d("drops", "Drops in the ledger by state"), labels: L([("state", state)])).set(to: Double(dropCounts[state] ?? 0))
        }
        for (reason, n) in Dictionary(grouping: drops.compactMap(\.reasonCode), by: { $0 }).mapValues(\.count) {
            r.makeGauge(descriptor: d("drop_reasons", "Drops that ended with a reason code, by code"), labels: L([("reason", reason)])).set(to: Double(n))
        }
        var deliveryCounts = Dictionary(grouping: deliveries, by: { "\($0.platform)|\($0.state.rawValue)" }).mapValues(\.count)
        for platform in Set(config.targets.map(\.platform)) {
            for state in DeliveryState.allCases where deliveryCounts["\(platform)|\(state.rawValue)"] == nil { deliveryCounts["\(platform)|\(state.rawValue)"] = 0 }
        }
        for (key, n) in deliveryCounts {
            let p = key.split(separator: "|").map(String.init)
            r.makeGauge(descriptor: d("deliveries", "Deliveries by platform and state"), labels: L([("platform", p[0]), ("state", p[1])])).set(to: Double(n))
        }
        for (key, n) in Dictionary(grouping: deliveries.filter { $0.state == .failed }, by: { "\($0.platform)|\($0.errorCode ?? "unknown")" }).mapValues(\.count) {
            let p = key.split(separator: "|").map(String.init)
            r.makeGauge(descriptor: d("delivery_failures", "Failed deliveries by platform and reason code"), labels: L([("platform", p[0]), ("reason", p[1])])).set(to: Double(n))
        }
        // Read-backs (issue 25): every state at 0 from the first scrape, then each outcome by reason code.
        var checks = Dictionary(uniqueKeysWithValues: ["pending", "verified", "failed", "not_applicable"].map { ("\($0)|", 0) })
        for o in try ledger.postCheckOutcomes() { checks["\(o.state)|\(o.reason)", default: 0] += o.count }
        for (key, n) in checks {
            let p = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            r.makeGauge(descriptor: d("post_checks", "Published posts read back, by verification state and alert reason code"), labels: L([("state", p[0]), ("reason", p[1])]))
                .set(to: Double(n))
        }
        // Bytes and time of the uploads that published.
        let published = deliveries.filter { $0.state == .published }
        for (platform, list) in Dictionary(grouping: published, by: \.platform) {
            r.makeCounter(descriptor: d("uploaded_bytes", "Bytes sent by uploads that published", unit: "total"), labels: L([("platform", platform)]))
                .increment(by: Int64(list.reduce(0) { $0 + $1.bytesSent }))
            let h = r.makeValueHistogram(
                descriptor: d("upload_duration_seconds", "Time from an upload's start to its post"), labels: L([("platform", platform)]), buckets: durationBuckets)
            var bytes = 0.0, seconds = 0.0
            for d in list {
                guard let s = d.uploadStartedAt, let f = d.uploadFinishedAt, f >= s else { continue }
                h.record(f - s)
                bytes += Double(d.bytesSent)
                seconds += f - s
            }
            r.makeGauge(descriptor: d("upload_speed_bytes_per_second", "Bytes per second over the uploads that published"), labels: L([("platform", platform)]))
                .set(to: seconds > 0 ? bytes / seconds : 0)
        }
        // The queue, by what holds each delivery.
        let queued = deliveries.filter { !$0.state.isTerminal }
        var depth = Dictionary(grouping: queued, by: { d -> String in (d.notBefore ?? 0) > t ? (d.gate ?? "retry") : "ready" }).mapValues(\.count)
        for gate in gates where depth[gate] == nil { depth[gate] = 0 }
        for (gate, n) in depth {
            r.makeGauge(descriptor: d("queue_depth", "Deliveries not yet final, by what holds them"), labels: L([("gate", gate)])).set(to: Double(n))
        }
        // Conversions under way: drops a convert worker holds (its lease still running).
        r.makeGauge(descriptor: d("conversions_in_flight", "Drops being converted now"), labels: L([]))
            .set(to: Double(drops.filter { $0.state == .validated && ($0.leaseExpiry ?? 0) > t }.count))
        for q in try ledger.quotaUse(accounts: Array(config.accounts.keys), rules: profiles.quotas) {
            r.makeGauge(descriptor: d("quota_used", "Quota used in the current window"), labels: L([("account", q.account), ("rule", q.rule)])).set(to: Double(q.used))
            r.makeGauge(descriptor: d("quota_limit", "Quota limit of the window"), labels: L([("account", q.account), ("rule", q.rule)])).set(to: Double(q.limit))
        }
        // Several targets may share an account (youtube:main for both the channel and its Shorts).
        var open = Dictionary(config.targets.map { ($0.accountKey, false) }, uniquingKeysWith: { a, _ in a })
        for b in try ledger.breakers() { open[b.account] = b.state.rawValue != "closed" }
        for (account, isOpen) in open {
            r.makeGauge(descriptor: d("breaker_open", "1 while an account's breaker is open (or half open)"), labels: L([("account", account)]))
                .set(to: isOpen ? 1 : 0)
        }
        // When each token lapses, as a Unix time: `omnipost_token_expiry_timestamp_seconds - time() < 86400`
        // is a day's warning, and the value does not change between scrapes.
        for a in try ledger.tokenSummaries() {
            if let e = a.accessExpiresAt, e < 1e11 {
                r.makeGauge(descriptor: d("token_expiry_timestamp_seconds", "When a token lapses (Unix time)"), labels: L([("account", a.account), ("token", "access")]))
                    .set(to: e)
            }
            if let e = a.refreshExpiresAt {
                r.makeGauge(descriptor: d("token_expiry_timestamp_seconds", "When a token lapses (Unix time)"), labels: L([("account", a.account), ("token", "refresh")]))
                    .set(to: e)
            }
        }
        // Alert sinks: what waits to be sent, what was sent, what was given up on (a sink that is down).
        let notes = try ledger.notifications()
        for sink in Set((config.notify?.sinks.map(\.name) ?? []) + notes.map(\.sink)).sorted() {
            let mine = notes.filter { $0.sink == sink }
            r.makeGauge(descriptor: d("alerts_pending", "Alert messages waiting to be sent, by sink"), labels: L([("sink", sink)]))
                .set(to: Double(mine.filter { $0.sentAt == nil && !$0.givenUp }.count))
            r.makeCounter(descriptor: d("alerts_sent", "Alert messages sent, by sink", unit: "total"), labels: L([("sink", sink)]))
                .increment(by: Int64(mine.filter { $0.sentAt != nil }.count))
            r.makeCounter(descriptor: d("alerts_given_up", "Alert messages given up on, by sink", unit: "total"), labels: L([("sink", sink)]))
                .increment(by: Int64(mine.filter(\.givenUp).count))
        }
        // Stage durations, from each drop's transitions: the time from one stage's end to the next one's.
        let events = try ledger.events()
        let stageHist = Dictionary(
            uniqueKeysWithValues: ["validate", "convert", "archive"].map {
                ($0, r.makeValueHistogram(descriptor: d("stage_duration_seconds", "Time a drop spent in a stage"), labels: L([("stage", $0)]), buckets: durationBuckets))
            })
        var last: [String: Double] = [:]
        for e in events where e.deliveryId == nil {
            guard let drop = e.dropId else { continue }
            if let h = stageHist[e.stage], let before = last[drop], e.fromState != nil { h.record(max(0, e.at - before)) }
            if e.fromState != nil || e.stage == "watch" { last[drop] = e.at }
        }
        // ffmpeg's own time per rendition, by kind of work (the convert stage's `rendered` events carry both as data).
        for e in events {
            guard case .rendered(let s, let work)? = e.data else { continue }
            r.makeValueHistogram(
                descriptor: d("ffmpeg_seconds", "Time ffmpeg took per rendition, by kind of work"), labels: L([("kind", work)]),
                buckets: durationBuckets
            ).record(s)
        }
        // Counts since the ledger began only grow: counters (a rate() over them works).
        var watch = Dictionary(grouping: events.filter { $0.stage == "watch" }, by: \.toState).mapValues(\.count)
        for kind in ["watching", "renamed", "unreadable_name", "gave_up_waiting"] where watch[kind] == nil { watch[kind] = 0 }
        for (kind, n) in watch {
            r.makeCounter(descriptor: d("watch_events", "Watcher events by kind (watching, overflow, renamed…)", unit: "total"), labels: L([("kind", kind)]))
                .increment(by: Int64(n))
        }
        var reloads = Dictionary(grouping: events.filter { $0.stage == "reload" }, by: \.toState).mapValues(\.count)
        for outcome in ["reloaded", "refused"] where reloads[outcome] == nil { reloads[outcome] = 0 }
        for (outcome, n) in reloads {
            r.makeCounter(descriptor: d("reloads", "Reloads of the pipeline file, by outcome (reloaded, refused)", unit: "total"), labels: L([("outcome", outcome)]))
                .increment(by: Int64(n))
        }
    }
}

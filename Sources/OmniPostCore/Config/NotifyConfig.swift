import Foundation

/// `notify:` — where a person hears about what needs them: a drop that failed (with its reason and
/// place), a delivery that gave up, an account that cannot publish, a refresh token that lapses soon,
/// a quota nearly spent, a breaker that opened, a disk filling up. Each sink is a generic webhook
/// (JSON, HMAC-signed with a timestamp), a Slack- or Discord-compatible incoming webhook, or ntfy.
public struct NotifyConfig: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case webhook, slack, discord, ntfy }
    public struct Sink: Sendable, Equatable {
        public var name: String
        public var kind: Kind
        public var url: String
        public var secret: String?
    }
    public var sinks: [Sink] = []
    /// Messages a sink gets in an hour at most; beyond it they wait and go out together, grouped.
    public var maxPerHour = 20
    /// A quota this full is worth a message.
    public var quotaThreshold = 0.8
    /// Free space under this (in work/) is worth a message.
    public var diskLowBytes: Int64 = 2 << 30
    /// More deliveries than this waiting to go (due now) for `backlogMinutes` is worth a message.
    public var backlog = 50
    public var backlogMinutes = 30
    /// Upload attempts of the last `successWindowHours` that ended well, below this fraction (with at
    /// least 10 attempts), is worth a message — seed 003's default thresholds.
    public var successRate = 0.8
    public var successWindowHours = 6
    /// The hour (UTC) of the daily digest; nil: none.
    public var digestHour: Int? = 8
    public init() {}
}

extension NotifyConfig {
    static func parse(_ v: DocNode) throws -> NotifyConfig {
        var n = NotifyConfig()
        let m = try v.mapping(allowed: ["sinks", "max_per_hour", "quota_threshold", "disk_low", "backlog", "backlog_minutes", "success_rate",
                                        "success_window_hours", "digest_hour"])
        if let x = m["backlog"] { n.backlog = max(1, try x.int()) }
        if let x = m["backlog_minutes"] { n.backlogMinutes = max(1, try x.int()) }
        if let x = m["success_rate"] {
            n.successRate = try x.double()
            if !(0...1).contains(n.successRate) { throw x.fail("success_rate is a fraction between 0 and 1") }
        }
        if let x = m["success_window_hours"] { n.successWindowHours = max(1, try x.int()) }
        if let x = m["digest_hour"] {
            if let t = try? x.string(), ["off", "none", "false"].contains(t.lowercased()) { n.digestHour = nil } else {
                let h = try x.int()
                if !(0...23).contains(h) { throw x.fail("digest_hour is an hour 0–23 (UTC), or off") }
                n.digestHour = h
            }
        }
        if let x = m["max_per_hour"] {
            n.maxPerHour = try x.int()
            if n.maxPerHour < 1 { throw x.fail("max_per_hour must be at least 1") }
        }
        if let x = m["quota_threshold"] {
            n.quotaThreshold = try x.double()
            if !(0.1...1).contains(n.quotaThreshold) { throw x.fail("quota_threshold is a fraction between 0.1 and 1 (0.8 = 80 %)") }
        }
        if let x = m["disk_low"] { n.diskLowBytes = try x.byteSize() }
        guard let list = m["sinks"] else { throw v.fail("notify needs `sinks:`, a list like [{kind: ntfy, url: https://ntfy.sh/my-topic}]") }
        for (i, s) in try list.sequence().enumerated() {
            let f = try s.mapping(allowed: ["kind", "url", "secret", "name"])
            guard let k = f["kind"] else { throw s.fail("a sink needs `kind:` (\(Kind.allCases.map(\.rawValue).joined(separator: ", ")))") }
            let kind = Kind(rawValue: try k.oneOf(Kind.allCases.map(\.rawValue)))!
            guard let u = f["url"] else { throw s.fail("a \(kind.rawValue) sink needs `url:`") }
            let url = try u.string()
            guard let c = URLComponents(string: url), ["http", "https"].contains(c.scheme ?? ""), c.host?.isEmpty == false else {
                throw u.fail("'\(Excerpt.quote(url))' is not an http(s) URL")
            }
            let name = try f["name"]?.string() ?? "\(kind.rawValue)-\(i + 1)"
            if n.sinks.contains(where: { $0.name == name }) { throw s.fail("two sinks are named '\(name)'") }
            n.sinks.append(Sink(name: name, kind: kind, url: url, secret: try f["secret"]?.string()))
        }
        return n
    }
}

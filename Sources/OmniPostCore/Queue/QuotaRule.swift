import Foundation

/// One platform quota or rate limit, as data (profiles.yaml `quotas:`): how much a new post costs,
/// how much the window holds, and how the window resets. Counted per platform+account in the ledger.
package struct QuotaRule: Sendable, Equatable, Codable {
    package enum Window: Sendable, Equatable, Codable {
        /// Resets at local midnight in a time zone (YouTube: America/Los_Angeles; LinkedIn: UTC).
        case calendarDay(zone: String)
        /// A rolling window: usage older than this no longer counts (TikTok, Instagram, Threads: 24 h;
        /// init calls: 1 min).
        case rolling(seconds: Double)
    }

    package var name: String
    package var limit: Int
    package var cost: Int
    package var window: Window
    /// Nil: a new post spends it when its delivery is claimed. A request name (`init`): spent by the
    /// adapter at the moment it sends that request — a rate limit on requests is counted when they
    /// leave, not when the delivery was claimed minutes earlier (issue 9.7).
    package var on: String?

    package init(name: String, limit: Int, cost: Int = 1, window: Window, on: String? = nil) {
        self.name = name
        self.limit = limit
        self.cost = cost
        self.window = window
        self.on = on
    }

    /// Where the window that counts at `now` starts: spends at or after it count.
    package func windowStart(at now: Date) -> Date {
        switch window {
        case .calendarDay(let zone):
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!
            return cal.startOfDay(for: now)
        case .rolling(let seconds):
            // A spend exactly `seconds` old has aged out (it frees its units at that instant).
            return now.addingTimeInterval(-seconds + 0.001)
        }
    }

    /// When a post costing `cost` fits, given the spends (time, units) still in the window at `now`:
    /// nil = it fits now. Never fails: a quota only ever makes a delivery wait.
    package func wait(spends: [(at: Date, units: Int)], now: Date) -> Date? {
        let start = windowStart(at: now)
        let live = spends.filter { $0.at >= start }.sorted { $0.at < $1.at }
        let used = live.reduce(0) { $0 + $1.units }
        if used + cost <= limit { return nil }
        switch window {
        case .calendarDay(let zone):
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!
            return cal.date(byAdding: .day, value: 1, to: start)!
        case .rolling(let seconds):
            // The oldest spends age out one by one until the new cost fits.
            var remaining = used
            for s in live {
                remaining -= s.units
                if remaining + cost <= limit { return s.at.addingTimeInterval(seconds) }
            }
            return now.addingTimeInterval(seconds)
        }
    }

    /// "10000/day (America/Los_Angeles), 1600 per post" — for status.
    package var summary: String {
        switch window {
        case .calendarDay(let zone): return "\(limit) per day (resets at midnight \(zone)), \(cost) per \(on.map { "\($0) request" } ?? "post")"
        case .rolling(let s): return "\(limit) per rolling \(DurationText.format(s)), \(cost) per \(on.map { "\($0) request" } ?? "post")"
        }
    }
}

extension QuotaRule {
    static let keys = ["name", "limit", "cost", "window", "zone", "on"]

    /// `{name: upload_units, limit: 10000, cost: 1600, window: day, zone: America/Los_Angeles}` or
    /// `{name: posts, limit: 15, window: 24h}`.
    /// `checkZone: false` only for the bundled profiles, whose zones a test checks.
    package static func parse(_ node: DocNode, checkZone: Bool = true) throws -> QuotaRule {
        let m = try node.mapping(allowed: keys)
        guard let name = try m["name"]?.string() else { throw node.fail("a quota needs a `name`") }
        guard let limitNode = m["limit"] else { throw node.fail("quota '\(name)' needs a `limit`") }
        let limit = try limitNode.int()
        let cost = try m["cost"]?.int() ?? 1
        if limit < 1 { throw limitNode.fail("a quota limit must be at least 1") }
        if cost < 1 || cost > limit { throw (m["cost"] ?? node).fail("a quota cost must be between 1 and the limit (\(limit))") }
        guard let w = m["window"] else { throw node.fail("quota '\(name)' needs a `window`: day (with a zone) or a duration such as 24h") }
        let window: Window
        if try w.string() == "day" {
            let zone = try m["zone"]?.string() ?? "UTC"
            if checkZone, TimeZone(identifier: zone) == nil { throw (m["zone"] ?? w).fail("unknown time zone '\(zone)'") }
            window = .calendarDay(zone: zone)
        } else {
            let d = try w.duration()
            if d <= .zero { throw w.fail("a quota window must be longer than zero") }
            window = .rolling(seconds: d.seconds)
        }
        return QuotaRule(name: name, limit: limit, cost: cost, window: window, on: try m["on"]?.string())
    }
}

import Foundation

/// When each delivery in a queue is expected to go out, by the same rules the queue's claim applies
/// (`Ledger.claimDelivery`): highest priority first, then how long it has waited; a delivery goes no
/// earlier than its schedule, than its account's open breaker allows, or than every quota rule of its
/// platform has room for its cost — and a new post spends what it costs when it goes, so the ones
/// behind it in the same account see that. Used by `omnipost plan` and the dashboard's queue forecast.
///
/// What it does not know: how long each upload takes (the caps on uploads in flight are not modelled),
/// and failures to come. It is a forecast, said as one.
package struct QueueForecast: Sendable {
    package struct Item: Sendable {
        package var id: Int64
        package var platform: String
        /// `platform:account`, what quotas and breakers count per.
        package var accountKey: String
        package var priority: Int
        package var notBefore: Date?
        /// A delivery that resumes a session it already paid for spends no quota.
        package var spends: Bool

        package init(id: Int64, platform: String, accountKey: String, priority: Int = 0, notBefore: Date? = nil, spends: Bool = true) {
            self.id = id
            self.platform = platform
            self.accountKey = accountKey
            self.priority = priority
            self.notBefore = notBefore
            self.spends = spends
        }
    }

    /// What the forecast says of one delivery.
    package struct Entry: Sendable, Equatable {
        package var goesAt: Date
        /// What holds it until then, in words ("upload_units 9600/10000 used, a post costs 1600 — room
        /// again at 2026-12-06 00:00 America/Los_Angeles"); empty when only its schedule (or nothing) does.
        package var waits: [String]
        /// Each quota rule after it went: used/limit in the window it went in.
        package var quotas: [QuotaUse]
    }

    package struct QuotaUse: Sendable, Equatable, Codable {
        package var rule: String
        package var used: Int
        package var limit: Int
        package var cost: Int

        package init(rule: String, used: Int, limit: Int, cost: Int) {
            self.rule = rule
            self.used = used
            self.limit = limit
            self.cost = cost
        }
    }

    /// Quota rules per platform (only those spent on a claim: `on == nil`), with the platforms' own
    /// word on an account's limit where it gave one (`observedLimits["platform:account|rule"]`).
    package var rules: [String: [QuotaRule]]
    package var observedLimits: [String: Int] = [:]
    /// Spends already in the ledger, per `platform:account|rule`.
    package var spent: [String: [(at: Date, units: Int)]] = [:]
    /// Breakers open until a time, per `platform:account`.
    package var breakerOpenUntil: [String: Date] = [:]
    /// The rules a delivery already paid in its current round, per delivery id: the ledger charges a
    /// round once (v20), so a delivery taken over, resumed after a crash or re-claimed after a retry-later
    /// before its session was recorded spends them no second time — and neither does its forecast.
    package var paid: [Int64: Set<String>] = [:]

    package init(
        rules: [String: [QuotaRule]], observedLimits: [String: Int] = [:], spent: [String: [(at: Date, units: Int)]] = [:],
        breakerOpenUntil: [String: Date] = [:], paid: [Int64: Set<String>] = [:]
    ) {
        self.rules = rules.mapValues { $0.filter { $0.on == nil } }
        self.observedLimits = observedLimits
        self.spent = spent
        self.breakerOpenUntil = breakerOpenUntil
        self.paid = paid
    }

    /// The claim order, then each item's time.
    package func run(_ items: [Item], now: Date) -> [Int64: Entry] {
        var spent = self.spent
        var out: [Int64: Entry] = [:]
        let ordered = items.sorted {
            ($0.priority, -($0.notBefore?.timeIntervalSince1970 ?? 0), -$0.id) > ($1.priority, -($1.notBefore?.timeIntervalSince1970 ?? 0), -$1.id)
        }
        for item in ordered {
            var at = max(now, item.notBefore ?? now)
            var waits: [String] = []
            if let open = breakerOpenUntil[item.accountKey], open > at {
                at = open
                waits.append("\(item.accountKey)'s breaker is open until \(Self.stamp(open))")
            }
            let unpaid = (self.rules[item.platform] ?? []).filter { !(paid[item.id]?.contains($0.name) ?? false) }
            let rules = item.spends ? unpaid.map { limited($0, item.accountKey) } : []
            // Each rule may push the time on; a later time may free an earlier rule's window or not:
            // go round until no rule moves it (bounded — windows only ever open).
            for _ in 0..<8 {
                var moved = false
                for rule in rules {
                    let key = "\(item.accountKey)|\(rule.name)"
                    let live = (spent[key] ?? []).filter { $0.at <= at }
                    if let w = rule.wait(spends: live, now: at), w > at {
                        let used = live.filter { $0.at >= rule.windowStart(at: at) }.reduce(0) { $0 + $1.units }
                        waits.append("\(rule.name) \(used)/\(rule.limit) used, a post costs \(rule.cost) — room again at \(Self.stamp(w, rule: rule))")
                        at = w
                        moved = true
                    }
                }
                if !moved { break }
            }
            var uses: [QuotaUse] = []
            for rule in rules {
                let key = "\(item.accountKey)|\(rule.name)"
                spent[key, default: []].append((at, rule.cost))
                let used = spent[key]!.filter { $0.at >= rule.windowStart(at: at) && $0.at <= at }.reduce(0) { $0 + $1.units }
                uses.append(QuotaUse(rule: rule.name, used: used, limit: rule.limit, cost: rule.cost))
            }
            out[item.id] = Entry(goesAt: at, waits: waits, quotas: uses)
        }
        return out
    }

    private func limited(_ rule: QuotaRule, _ account: String) -> QuotaRule {
        var r = rule
        if let seen = observedLimits["\(account)|\(rule.name)"] { r.limit = seen }
        return r
    }

    /// UTC, to the minute.
    package static func stamp(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return f.string(from: d)
    }

    /// A calendar-day window's reset in its own zone ("2026-12-06 00:00 America/Los_Angeles"), as the
    /// platform says it; a rolling one in UTC.
    package static func stamp(_ d: Date, rule: QuotaRule) -> String {
        guard case .calendarDay(let zone) = rule.window, let tz = TimeZone(identifier: zone) else { return stamp(d) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = tz
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: d) + " \(zone)"
    }
}

import Foundation

/// Publishing slots of a pipeline (`schedule:`): local times of day in one time zone, e.g. 09:00 and
/// 18:00 Europe/Berlin. `publish_at: next_slot` takes the first free one. Computed with the zone's
/// calendar, so 09:00 stays 09:00 local across a daylight-saving change.
package struct SlotSchedule: Sendable, Equatable {
    package struct TimeOfDay: Sendable, Equatable, Comparable {
        package var hour: Int
        package var minute: Int
        package init(hour: Int, minute: Int) {
            self.hour = hour
            self.minute = minute
        }
        package static func < (a: TimeOfDay, b: TimeOfDay) -> Bool { (a.hour, a.minute) < (b.hour, b.minute) }
    }

    package var zone: String
    package var slots: [TimeOfDay]
    /// Weekdays slots apply on (1 = Sunday … 7 = Saturday, as Calendar counts); empty = every day.
    package var weekdays: Set<Int>
    /// Delay between a drop's targets, in their order (seed 002's platform staggering).
    package var stagger: Double
    /// Let platforms that schedule natively (YouTube publishAt) hold the post; otherwise OmniPost holds it.
    package var native: Bool
    /// `slots: [best, …]` (opt-in): `next_slot` takes the hour of the week that drew the best engagement
    /// for the drop's accounts (`omnipost stats`' recommendation, in `zone`), once it holds `minimumSample`
    /// posts; until then the listed times.
    package var best = false
    /// Posts an hour of the week needs before `best` takes it (`minimum_sample`, default 3).
    package var minimumSample = 3

    package init(zone: String = "UTC", slots: [TimeOfDay] = [], weekdays: Set<Int> = [], stagger: Double = 0, native: Bool = true) {
        self.zone = zone
        self.slots = slots.sorted()
        self.weekdays = weekdays
        self.stagger = stagger
        self.native = native
    }

    var calendar: Calendar {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!
        return cal
    }

    /// The first slot at or after `after` that is not in `taken` (one drop per slot). Searches a year ahead.
    package func next(after: Date, taken: Set<Double> = []) -> Date? {
        guard !slots.isEmpty else { return nil }
        let cal = calendar
        var day = cal.startOfDay(for: after)
        for _ in 0..<400 {
            if weekdays.isEmpty || weekdays.contains(cal.component(.weekday, from: day)) {
                for s in slots {
                    // A wall time that does not exist that day (inside a spring-forward gap) moves to the next valid time.
                    guard
                        let t = cal.date(
                            bySettingHour: s.hour, minute: s.minute, second: 0, of: day, matchingPolicy: .nextTime,
                            repeatedTimePolicy: .first, direction: .forward)
                    else { continue }
                    if t >= after && !taken.contains(t.timeIntervalSince1970) { return t }
                }
            }
            guard let n = cal.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = n
        }
        return nil
    }

    /// The first start of hour-of-week `hourOfWeek` (0 = Monday 00:00 … 167 = Sunday 23:00, local in `zone`)
    /// at or after `after` that is not in `taken`. Searches a year ahead.
    package func next(hourOfWeek: Int, after: Date, taken: Set<Double> = []) -> Date? {
        let cal = calendar
        var day = cal.startOfDay(for: after)
        for _ in 0..<400 {
            // Calendar's weekday: 1 = Sunday … 7 = Saturday; ours: 0 = Monday … 6 = Sunday.
            if (cal.component(.weekday, from: day) + 5) % 7 == hourOfWeek / 24,
                let t = cal.date(
                    bySettingHour: hourOfWeek % 24, minute: 0, second: 0, of: day, matchingPolicy: .nextTime, repeatedTimePolicy: .first,
                    direction: .forward),
                t >= after, !taken.contains(t.timeIntervalSince1970)
            {
                return t
            }
            guard let n = cal.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = n
        }
        return nil
    }

    static let dayNames = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]

    static func parse(_ node: DocNode) throws -> SlotSchedule {
        let m = try node.mapping(allowed: ["zone", "slots", "days", "stagger", "native", "minimum_sample"])
        var s = SlotSchedule()
        if let v = m["zone"] {
            s.zone = try v.string()
            if TimeZone(identifier: s.zone) == nil {
                var msg = "unknown time zone '\(s.zone)'"
                if let g = DidYouMean.suggest(s.zone, among: TimeZone.knownTimeZoneIdentifiers) { msg += "; did you mean '\(g)'?" }
                throw v.fail(msg)
            }
        }
        if let v = m["slots"] {
            // `slots: best` alone, or `best` among the times (the times are its fallback).
            let items = (try? v.string()) == "best" ? [v] : try v.sequence()
            for item in items {
                let text = try item.string()
                if text == "best" {
                    s.best = true
                    continue
                }
                let parts = text.split(separator: ":")
                guard parts.count == 2, let h = Int(parts[0]), let mi = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(mi) else {
                    throw item.fail("a slot is a local time HH:MM, e.g. 09:00, or best; found '\(text)'")
                }
                s.slots.append(TimeOfDay(hour: h, minute: mi))
            }
            s.slots.sort()
        }
        if let v = m["days"] {
            for item in try v.sequence() {
                let d = try item.oneOf(Array(dayNames.keys).sorted())
                s.weekdays.insert(dayNames[d]!)
            }
        }
        if let v = m["stagger"] { s.stagger = try v.duration().seconds }
        if let v = m["native"] { s.native = try v.bool() }
        if let v = m["minimum_sample"] {
            s.minimumSample = try v.int()
            if s.minimumSample < 1 { throw v.fail("minimum_sample is at least 1") }
        }
        return s
    }
}

import Foundation

/// When to publish, as a person writes it: `2026-12-01T18:00:00+01:00`, `…Z`, or a local time followed by
/// an IANA zone: `2026-12-01T18:00 Europe/Berlin`. Strict, field by field: Foundation's
/// `ISO8601DateFormatter` read `+25:00` as +02, `+99:00` as +09, ignored `+05:99`'s minutes, and rolled
/// `2027-02-30` over into March — a post scheduled for another day than the one written, with no word of it.
enum ISO8601Parsing {
    /// The date and time fields; `offset` what follows them (`Z`, `±hh:mm`, `±hhmm`, or nothing).
    private static var pattern: Regex<AnyRegexOutput> { try! Regex(#"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(.*)"#) }

    /// The offsets zones have: east to UTC+14, west to UTC−12.
    static let widestEast = 14 * 3600
    static let widestWest = 12 * 3600

    static func date(from text: String) -> Date? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let (c, rest) = fields(String(parts[0])), let offset = offset(rest) else { return nil }
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            return utc.date(from: c).map { $0.addingTimeInterval(-Double(offset)) }
        case 2:
            guard let (c, rest) = fields(String(parts[0])), rest.isEmpty, let zone = TimeZone(identifier: String(parts[1])) else { return nil }
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = zone
            guard let d = cal.date(from: c) else { return nil }
            // A local time the zone skips (the hour its clocks jump over) comes back as another: refused.
            let back = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: d)
            guard back.year == c.year, back.month == c.month, back.day == c.day, back.hour == c.hour, back.minute == c.minute, back.second == c.second
            else { return nil }
            return d
        default:
            return nil
        }
    }

    /// The fields of `yyyy-MM-ddTHH:mm[:ss[.fff]]`, each within its range (the day within its month), and
    /// what follows them.
    static func fields(_ text: String) -> (DateComponents, String)? {
        guard let m = text.wholeMatch(of: pattern) else { return nil }
        func int(_ i: Int) -> Int? { m.output[i].substring.flatMap { Int($0) } }
        guard let year = int(1), let month = int(2), let day = int(3), let hour = int(4), let minute = int(5) else { return nil }
        let second = int(6) ?? 0
        guard (1...12).contains(month), (1...daysIn(month, of: year)).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }
        var c = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        if let fraction = m.output[7].substring {
            c.nanosecond = Int(fraction.padding(toLength: 9, withPad: "0", startingAt: 0))
        }
        return (c, m.output[8].substring.map(String.init) ?? "")
    }

    /// Seconds east of UTC: `Z`, `±hh:mm` or `±hhmm`, hours up to 14 and minutes below 60.
    static func offset(_ text: String) -> Int? {
        if text == "Z" || text == "z" { return 0 }
        let b = Array(text.utf8)
        guard b.count == 6 || b.count == 5, b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-") else { return nil }
        let digits = b.count == 6 ? [b[1], b[2], b[4], b[5]] : [b[1], b[2], b[3], b[4]]
        guard b.count == 5 || b[3] == UInt8(ascii: ":"), digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
        let v = digits.map { Int($0) - 48 }
        let (h, mm) = (v[0] * 10 + v[1], v[2] * 10 + v[3])
        let seconds = h * 3600 + mm * 60
        let west = b[0] == UInt8(ascii: "-")
        guard mm < 60, seconds <= (west ? widestWest : widestEast) else { return nil }
        return west ? -seconds : seconds
    }

    static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

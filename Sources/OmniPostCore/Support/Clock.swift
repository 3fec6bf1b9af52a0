import Foundation

/// Wall-clock seam: stages ask this for "now" so tests can drive schedules, leases and quotas.
package protocol WallClock: Sendable {
    func now() -> Date
}

/// An instant as people and reports read it: ISO 8601 in UTC (`2026-12-06T14:05:09Z`), as
/// `ISO8601DateFormatter` wrote it — milliseconds rounded, then whole seconds — without it: that formatter
/// is ICU's, and the first stamp an idle daemon wrote loaded ~4.7 MiB of ICU's code and data (issue 30).
package func isoStamp(_ t: Double) -> String {
    var seconds = time_t(((t * 1000).rounded() / 1000).rounded(.down))
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func digits(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
    return "\(digits(parts.tm_year + 1900, 4))-\(digits(parts.tm_mon + 1, 2))-\(digits(parts.tm_mday, 2))T"
        + "\(digits(parts.tm_hour, 2)):\(digits(parts.tm_min, 2)):\(digits(parts.tm_sec, 2))Z"
}
package func isoStamp(_ d: Date) -> String { isoStamp(d.timeIntervalSince1970) }

package struct SystemClock: WallClock {
    package init() {}
    package func now() -> Date { Date() }
}

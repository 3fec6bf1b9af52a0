import Foundation

/// Wall-clock seam: stages ask this for "now" so tests can drive schedules, leases and quotas.
package protocol WallClock: Sendable {
    func now() -> Date
}

/// An instant as people and reports read it: ISO 8601 in UTC.
package func isoStamp(_ t: Double) -> String { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: t)) }
package func isoStamp(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }

package struct SystemClock: WallClock {
    package init() {}
    package func now() -> Date { Date() }
}

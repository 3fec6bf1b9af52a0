import Foundation

/// Wall-clock seam: stages ask this for "now" so tests can drive schedules, leases and quotas.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// An instant as people and reports read it: ISO 8601 in UTC.
public func isoStamp(_ t: Double) -> String { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: t)) }
public func isoStamp(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

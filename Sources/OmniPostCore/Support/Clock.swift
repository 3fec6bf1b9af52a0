import Foundation

/// Wall-clock seam: stages ask this for "now" so tests can drive schedules, leases and quotas.
public protocol WallClock: Sendable {
    func now() -> Date
}

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

import Foundation
import OmniPostCore
import OmniPostLedger

/// What `omnipost status` shows of the history: drops (and their deliveries) in a state, to a target,
/// since a time, the newest `limit` of them. A delivery row is kept when it or its drop is in one of
/// the states; a drop with no delivery, when the drop is.
package struct StatusFilter: Sendable, Equatable {
    package var states: Set<String>?
    package var target: String?
    package var since: Double?
    package var limit: Int?

    package init(states: Set<String>? = nil, target: String? = nil, since: Double? = nil, limit: Int? = nil) {
        self.states = states
        self.target = target
        self.since = since
        self.limit = limit
    }

    package static let all = StatusFilter()

    /// `--since`: an RFC 3339 time (`2026-12-05T10:00:00Z`), a day (`2026-12-05`), or an age (`90m`, `24h`, `7d`).
    package static func parseSince(_ text: String, now: Date = Date()) throws -> Double {
        if let d = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return d.timeIntervalSince1970 }
        if let d = try? Date(text, strategy: Date.ISO8601FormatStyle().year().month().day()) { return d.timeIntervalSince1970 }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        if let u = text.last, let scale = units[u], let n = Double(text.dropLast()), n >= 0 { return now.timeIntervalSince1970 - n * scale }
        throw OmniError(.invalidValue, "--since takes a time (2026-12-05T10:00:00Z), a day (2026-12-05) or an age (90m, 24h, 7d), not '\(text)'")
    }

    /// `--state`: one of the drop or delivery states.
    package static func checkState(_ s: String) throws {
        let known = Set(DropState.allCases.map(\.rawValue) + DeliveryState.allCases.map(\.rawValue))
        guard known.contains(s) else { throw OmniError(.invalidValue, "--state '\(s)' is not a drop or delivery state (\(known.sorted().joined(separator: ", ")))") }
    }

    func keeps(_ d: DropRecord) -> Bool { since.map { d.createdAt >= $0 } ?? true }

    func keeps(_ d: DropRecord, _ x: DeliveryRecord?) -> Bool {
        if let target, x?.target != target { return false }
        if let states, !states.contains(d.state.rawValue), !(x.map { states.contains($0.state.rawValue) } ?? false) { return false }
        return true
    }
}

import Foundation
import OmniPostCore
import OmniPostLedger

/// `schedule.slots: [best, …]` (issue 25, opt-in): `next_slot` takes the hour of the week whose posts drew
/// the best mean engagement for the drop's accounts — `omnipost stats`' recommendation over the last 90
/// days, in the schedule's zone — once that hour holds `minimum_sample` posts; until then the configured
/// times, and it says so. The sentence is kept in the ledger (`slot_chosen`), where `omnipost plan` reads it.
struct BestSlot {
    let ledger: Ledger
    let schedule: SlotSchedule

    /// How far back posts count.
    static let window: Double = 90 * 86_400

    /// The slot and why it was taken; nil when there is none (no recommendation and no times to fall back on).
    func choose(accounts: [String], after now: Date, taken: Set<Double>) throws -> (slot: Date?, why: String) {
        let readings = try ledger.postReadings(since: now.timeIntervalSince1970 - Self.window)
        let keys = accounts.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let best = PostStats.bestTimes(
            readings.filter { keys.contains("\($0.platform):\($0.account)") }, minimumSample: schedule.minimumSample, zone: schedule.zone)
        for key in keys {
            guard let r = best.first(where: { $0.account == key })?.recommended,
                let at = schedule.next(hourOfWeek: r.hourOfWeek, after: now, taken: taken)
            else { continue }
            let rate = String(format: "%.2f%%", r.meanEngagementRate * 100)
            return (at, "best: \(r.label), \(key)'s best hour of the week (\(rate) mean engagement over \(r.sample) posts in 90 days)")
        }
        let fullest = best.flatMap(\.slots).map(\.sample).max() ?? 0
        let short =
            "best: no hour of the week has \(schedule.minimumSample) posts with views for \(keys.joined(separator: ", ")) yet (the fullest has \(fullest))"
        guard let at = schedule.next(after: now, taken: taken) else { return (nil, short + ", and no slot times are configured to fall back on") }
        return (at, short + "; the configured slot \(isoStamp(at)) is used")
    }
}

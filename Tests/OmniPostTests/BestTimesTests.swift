import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// Best posting times in the schedule's time zone, and `schedule.slots: [best, …]` (issue 25), on
/// `StatsTests`' fixture ledger whose answer is known: three YouTube posts Monday 09:10–09:40 UTC at 10 %
/// engagement, one Tuesday 15:05 UTC at 50 %.
@Suite struct BestTimesTests {
    static let monday = StatsTests.monday

    @Test func hoursOfTheWeekAreTheZonesWallClockHours() throws {
        let dir = try TempDir()
        let ledger = try StatsTests.fixture(dir)
        let since = Date(timeIntervalSince1970: Self.monday - 86_400)
        // Berlin is UTC+1 in December: Monday 10:00 there.
        let berlin = try #require(try PostStats.gather(ledger: ledger, since: since, zone: "Europe/Berlin").bestTimes.first { $0.account == "youtube:main" })
        #expect(berlin.recommended?.hourOfWeek == 10 && berlin.recommended?.label == "Mon 10:00 Europe/Berlin" && berlin.recommended?.sample == 3)
        #expect(berlin.slots.map(\.label) == ["Tue 16:00 Europe/Berlin", "Mon 10:00 Europe/Berlin"])
        // Kiritimati is UTC+14: the Monday posts are Monday 23:00 there, Tuesday's is Wednesday 05:00.
        let kiritimati = try #require(try PostStats.gather(ledger: ledger, since: since, zone: "Pacific/Kiritimati").bestTimes.first { $0.account == "youtube:main" })
        #expect(kiritimati.slots.map(\.hourOfWeek) == [2 * 24 + 5, 23] && kiritimati.recommended?.hourOfWeek == 23)
    }

    static func schedule(_ yaml: String) throws -> SlotSchedule {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, extra: "schedule: \(yaml)", targets: "targets: [youtube:main]")
        return config.schedule
    }

    @Test func bestIsTakenOnceItsSampleIsReachedElseTheConfiguredSlotsAndItSaysSo() throws {
        let dir = try TempDir()
        let ledger = try StatsTests.fixture(dir)
        // Wednesday 2026-12-02 12:00 UTC.
        let now = Date(timeIntervalSince1970: Self.monday + 2 * 86_400 + 12 * 3600)
        var s = try Self.schedule("{zone: Europe/Berlin, slots: [best, \"18:00\"]}")
        #expect(s.best && s.slots == [.init(hour: 18, minute: 0)] && s.minimumSample == 3)
        let best = try BestSlot(ledger: ledger, schedule: s).choose(accounts: ["youtube:main"], after: now, taken: [])
        // The next Monday 10:00 Berlin: 2026-12-07 09:00 UTC.
        #expect(best.slot == Date(timeIntervalSince1970: Self.monday + 7 * 86_400 + 9 * 3600), "\(best)")
        #expect(best.why.contains("Mon 10:00 Europe/Berlin") && best.why.contains("10.00% mean engagement over 3 posts"), "\(best.why)")
        // That hour taken by another drop: the week after.
        let taken = try BestSlot(ledger: ledger, schedule: s).choose(
            accounts: ["youtube:main"], after: now, taken: [Self.monday + 7 * 86_400 + 9 * 3600])
        #expect(taken.slot == Date(timeIntervalSince1970: Self.monday + 14 * 86_400 + 9 * 3600))
        // Four posts asked for: no hour has them, so the configured 18:00 Berlin the same day, said so.
        s.minimumSample = 4
        let fallback = try BestSlot(ledger: ledger, schedule: s).choose(accounts: ["youtube:main"], after: now, taken: [])
        #expect(fallback.slot == Date(timeIntervalSince1970: Self.monday + 2 * 86_400 + 17 * 3600), "\(fallback)")
        #expect(fallback.why.contains("no hour of the week has 4 posts") && fallback.why.contains("(the fullest has 3)") && fallback.why.contains("configured slot"))
        // `slots: best` alone, for an account with no rated posts: nothing to fall back on.
        let alone = try Self.schedule("{slots: best}")
        #expect(alone.best && alone.slots.isEmpty)
        let none = try BestSlot(ledger: ledger, schedule: alone).choose(accounts: ["x:main"], after: now, taken: [])
        #expect(none.slot == nil && none.why.contains("no slot times are configured"), "\(none.why)")
        #expect(throws: OmniError.self) { try Self.schedule("{slots: [soon]}") }
    }

    /// `omnipost plan` says which slot `next_slot` took and why, and the delivery is scheduled for it.
    @Test(.timeLimit(.minutes(3))) func thePlanSaysWhichSlotItTookAndWhy() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(
            root: dir.url, extra: "schedule: {zone: Europe/Berlin, slots: [best, \"18:00\"]}", targets: "targets: [youtube:main]")
        try config.paths.createAll()
        let fixture = try TempDir()
        _ = try StatsTests.fixture(fixture)
        try FileManager.default.copyItem(at: fixture.file("ledger.sqlite"), to: config.paths.ledger)
        try TestPipelines.drop(
            try Clips.make(width: 320, height: 240, seconds: 1), as: "slot", sidecar: "title: Slot\nprivacy: private\npublish_at: next_slot\n", into: config)
        let plan = try await DropPlanner(config: config).plan(config.paths.inbox.path)
        let drop = try #require(plan.drops.first)
        let why = try #require(drop.slotChoice, "\(plan.lines)")
        #expect(why.contains("best: Mon 10:00 Europe/Berlin, youtube:main's best hour of the week"), "\(why)")
        let expected = try #require(config.schedule.next(hourOfWeek: 10, after: Date()))
        #expect(drop.targets.first?.slot == expected, "\(drop.targets)")
        #expect(plan.lines.contains("  slot: \(why)"), "\(plan.lines)")
    }
}

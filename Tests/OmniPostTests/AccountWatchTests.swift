import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// The daemon's own account checks: an account with a post due within the lead time is checked (a
/// refresh and who it is), once an hour at most; one whose grant was revoked is known as such before
/// the post — in the ledger, its events and `status` — and a refresh token that lapses soon is warned of.
@Suite struct AccountWatchTests {
    @Test(.timeLimit(.minutes(3))) func aRevokedAccountIsKnownBeforeItsScheduledPost() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [tiktok:main, x:main]")
        let at = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3 * 3600))
        try TestPipelines.drop(try Clips.make(width: 540, height: 960, seconds: 4), as: "later", sidecar: "title: later\nprivacy: public\npublish_at: \"\(at)\"\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let queued = try p.context.ledger.allDeliveries()
            #expect(queued.count == 2 && queued.allSatisfy { !$0.state.isTerminal }, "\(queued.map { "\($0.target) \($0.state) \($0.errorMessage ?? "")" })")
            let watch = AccountWatch(ctx: p.context, tokens: p.tokens, http: p.http)
            // Both have a post due within 6 h and no check yet.
            #expect(try watch.due(lead: 6 * 3600) == ["tiktok:main", "x:main"])
            #expect(try watch.due(lead: 3600) == [], "nothing is due within the hour")
            #expect(try watch.atStart() == ["tiktok:main", "x:main"], "never checked: both at start")
            for key in ["tiktok:main", "x:main"] { await watch.check(key, why: "test") }
            #expect(try watch.due(lead: 6 * 3600) == [], "checked within the hour")
            // A restart or reload right after a good check does not refresh again; ten minutes later it does.
            #expect(try watch.atStart() == [])
            #expect(try watch.atStart(now: Date().addingTimeInterval(AccountWatch.startGrace + 1)) == ["tiktok:main", "x:main"])
            let summaries = try p.context.ledger.tokenSummaries()
            let tiktok = try #require(summaries.first { $0.account == "tiktok:main" })
            #expect(tiktok.checkOK == true && tiktok.checkDetail?.contains("main") == true, "\(tiktok)")
            // TikTok says its refresh token lapses in a year: kept, and warned of inside the warning window.
            let lapses = try #require(tiktok.refreshExpiresAt)
            #expect(abs(lapses - Date().timeIntervalSince1970 - 31_536_000) < 120)
            #expect(StatusReport.warnings(summaries, warnDays: 400, now: Date().timeIntervalSince1970).contains { $0.hasPrefix("tiktok:main: its refresh token lapses on") })
            #expect(StatusReport.warnings(summaries, warnDays: 14, now: Date().timeIntervalSince1970).isEmpty)
            // The grant is revoked: the next check says so, hours before the post; it is due for checking again.
            await p.sandbox!.state.revoke(account: "tiktok:main")
            await p.sandbox!.state.expireAccessTokens()
            await watch.check("tiktok:main", why: "test")
            let failed = try #require(try p.context.ledger.tokenSummaries().first { $0.account == "tiktok:main" })
            #expect(failed.checkOK == false && failed.checkDetail?.contains("auth_revoked") == true, "\(failed)")
            #expect(try watch.due(lead: 6 * 3600) == ["tiktok:main"])
            #expect(try watch.atStart() == ["tiktok:main"], "a failed check is checked again at the next start")
            let report = try StatusReport.gather(config: p.context.config, ledger: p.context.ledger, profiles: p.context.profiles)
            #expect(report.accountWarnings.contains { $0.hasPrefix("tiktok:main: its last check failed") }, "\(report.accountWarnings)")
            #expect(try report.text(ledger: p.context.ledger).contains("account warnings:"))
            let events = try p.context.ledger.events()
            #expect(events.contains { $0.stage == "accounts" && $0.toState == "check_failed" })
        }
    }
}

import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// The daemon's own account checks (`account_checks:`): every account at start (but one checked good
/// in the last 10 minutes), and again when a post
/// of it is due within `lead` and it was not checked in the last hour — so a revoked grant is known
/// (in `status`, in the ledger's events) hours before the post, not at it. Through the adapters' own
/// token providers: two refreshing one rotating token would kill it.
struct AccountWatch: Sendable {
    let ctx: PipelineContext
    let tokens: [String: TokenProvider]
    let http: HTTPClient
    static let recheck = 3600.0
    static let every: Duration = .seconds(300)
    /// A start (or reload) within this long of a good check does not check that account again: a crash
    /// loop or a run of reloads must not spend a token refresh per account each time.
    static let startGrace = 600.0

    /// On a shared ledger only the host holding the duties checks (`PipelineContext.holdsDuties`); the
    /// others ask again each beat, and the one that takes the duties over from a host that stopped
    /// checks as at a start (accounts the other host checked good lately are left alone).
    func run() async {
        let cfg = ctx.config.accountChecks
        var holding = false
        var lastLook = ContinuousClock.now
        while !Task.isCancelled {
            let duty = ctx.holdsDuties()
            if duty && !holding {
                if cfg.atStart {
                    for key in (try? atStart()) ?? tokens.keys.sorted() { await check(key, why: "at start") }
                }
                lastLook = .now
            } else if duty && ContinuousClock.now - lastLook >= Self.every {
                for key in (try? due(lead: cfg.lead.seconds)) ?? [] { await check(key, why: "a post is due within \(Int(cfg.lead.seconds / 3600)) h") }
                lastLook = .now
            }
            holding = duty
            // One machine always holds the duties: nothing to ask each beat, so an idle daemon stays asleep.
            await Wakeup.sleep(for: ctx.ledger.isShared ? min(Self.every, ctx.dutyLook) : Self.every)
        }
    }

    /// The accounts to check at start: all but those checked good within `startGrace`.
    func atStart(now: Date = Date()) throws -> [String] {
        let summaries = Dictionary(try ctx.ledger.tokenSummaries().map { ($0.account, $0) }, uniquingKeysWith: { a, _ in a })
        return tokens.keys.sorted().filter { key in
            guard let s = summaries[key], s.checkOK == true, let at = s.checkedAt else { return true }
            return now.timeIntervalSince1970 - at >= Self.startGrace
        }
    }

    /// Accounts with a post due within `lead` whose last check is older than an hour (or failed).
    func due(lead: Double, now: Date = Date()) throws -> [String] {
        let summaries = Dictionary(try ctx.ledger.tokenSummaries().map { ($0.account, $0) }, uniquingKeysWith: { a, _ in a })
        var out = Set<String>()
        for d in try ctx.ledger.openDeliveries() where tokens[d.accountKey] != nil {
            let at = d.scheduledAt ?? d.notBefore ?? now.timeIntervalSince1970
            guard at <= now.timeIntervalSince1970 + lead else { continue }
            let s = summaries[d.accountKey]
            if let checked = s?.checkedAt, s?.checkOK == true, now.timeIntervalSince1970 - checked < Self.recheck { continue }
            out.insert(d.accountKey)
        }
        return out.sorted()
    }

    func check(_ key: String, why: String) async {
        guard let tokens = tokens[key], let account = ctx.config.accounts[key],
            let r = await AccountHealth.checkOne(account, tokens: tokens, http: http, ledger: ctx.ledger, browser: .pipeline(ctx.config, ledger: ctx.ledger))
        else { return }
        if r.ok {
            try? ctx.ledger.note(.checked, stage: .accounts, target: key, detail: "\(key) (\(why)): \(r.identity ?? "token refreshed")")
        } else {
            try? ctx.ledger.note(.checkFailed, stage: .accounts, target: key, detail: "\(key) (\(why)): \(r.error ?? "failed")")
            ctx.logger.warning("an account cannot publish", metadata: ["omnipost.account": "\(key)", "omnipost.error": "\(r.error ?? "")"])
            ctx.progress.line("  accounts            \(key) cannot publish: \(r.error ?? "failed") — `omnipost accounts add` it again")
        }
    }
}

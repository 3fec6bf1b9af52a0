import Foundation
import AsyncHTTPClient
import OmniPostCore
import NIOHTTP1
import OmniPostLedger
import OmniPostPlatforms
import Testing

/// The queue's gates in the ledger, driven by an injected clock: quotas and their resets, priority,
/// caps, and slots across a daylight-saving change.
@Suite struct QueueTests {
    static func iso(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }

    func ready(_ l: Ledger, drop: String, target: String = "youtube:main", platform: String = "youtube", priority: Int = 0) throws {
        _ = try l.createDrop(DropRecord(id: drop, pipeline: "p", stem: drop, clipPath: "\(drop).mp4", sidecarPath: nil, now: 1), fileIDs: [])
        var d = DeliveryRecord(
            dropId: drop, target: target, platform: platform, account: "main", profile: platform, state: .ready,
            plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: drop, notBefore: nil, now: 1)
        d.priority = priority
        try l.insertDeliveries([d])
    }

    @Test(arguments: LedgerBackendKind.available) func youTubeQuotaWaitsForMidnightPacificThenGoes(_ backend: LedgerBackendKind) async throws {
        // 23:00 in Los Angeles on 2026-11-20 (PST, UTC-8).
        let clock = TestClock(Self.iso("2026-11-21T07:00:00Z"))
        try await withLedger(backend, clock: clock) { l in
            let gate = QueueGate(quotas: ["youtube": [QuotaRule(name: "upload_units", limit: 3200, cost: 1600, window: .calendarDay(zone: "America/Los_Angeles"))]])
            for i in 0..<3 { try ready(l, drop: "d\(i)") }
            // Two posts fit in the day's 3,200 units; the third waits — deferred, not failed.
            for _ in 0..<2 {
                let c = try #require(try l.claimDelivery(owner: "w", lease: 60, gate: gate))
                try l.transitionDelivery(c.delivery.id!, from: .uploading, to: .published, stage: "upload")
            }
            #expect(try l.claimDelivery(owner: "w", lease: 60, gate: gate) == nil)
            let held = try #require(try l.allDeliveries().first { $0.state == .ready })
            #expect(held.gate == "quota")
            #expect(held.errorCode == "quota_exhausted")
            #expect(held.notBefore == Self.iso("2026-11-21T08:00:00Z").timeIntervalSince1970)  // midnight Pacific
            #expect(try l.nextDeliveryDue() == held.notBefore)
            let use = try l.quotaUse(accounts: ["youtube:main"], rules: gate.quotas)
            #expect(use.first?.used == 3200 && use.first?.nextFitsAt == held.notBefore)
            // A minute before the reset: still waiting. Past it: it goes, and the new day's spend is counted.
            clock.advance(59 * 60)
            #expect(try l.claimDelivery(owner: "w", lease: 60, gate: gate) == nil)
            clock.advance(61)
            let c = try #require(try l.claimDelivery(owner: "w", lease: 60, gate: gate))
            #expect(c.delivery.id == held.id)
            #expect(try l.quotaUse(accounts: ["youtube:main"], rules: gate.quotas).first?.used == 1600)
            // One event for the whole wait, not one per look.
            let waits = try l.events(stage: "queue").filter { $0.toState == "waiting" }.count
            #expect(waits == 1)
        }
    }

    /// A limit the platform reports (Instagram's content_publishing_limit) holds the account to it, in place
    /// of the bundled guess: lower or higher.
    @Test(arguments: LedgerBackendKind.available) func aReportedLimitReplacesTheBundledOne(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Self.iso("2026-11-21T07:00:00Z"))
        try await withLedger(backend, clock: clock) { l in
            let gate = QueueGate(quotas: ["instagram": [QuotaRule(name: "posts", limit: 25, window: .rolling(seconds: 86400))]])
            for i in 0..<4 { try ready(l, drop: "d\(i)", target: "instagram:main", platform: "instagram") }
            try l.observeQuotaLimit(account: "instagram:main", rule: "posts", limit: 2)
            for _ in 0..<2 {
                let c = try #require(try l.claimDelivery(owner: "w", lease: 60, gate: gate))
                try l.transitionDelivery(c.delivery.id!, from: .uploading, to: .published, stage: "upload")
            }
            #expect(try l.claimDelivery(owner: "w", lease: 60, gate: gate) == nil, "2 of the reported 2 used")
            #expect(try l.allDeliveries().filter { $0.gate == "quota" }.count == 2)
            // A later reading says 100: the waiting ones go at once.
            try l.observeQuotaLimit(account: "instagram:main", rule: "posts", limit: 100)
            #expect(try l.observedQuotaLimits() == ["instagram:main|posts": 100])
            #expect(try l.claimDelivery(owner: "w", lease: 60, gate: gate) != nil)
        }
    }

    @Test func rollingWindowsFreeOneSpendAtATime() throws {
        let rule = QuotaRule(name: "posts", limit: 2, window: .rolling(seconds: 86400))
        let t0 = Self.iso("2026-11-21T10:00:00Z")
        let spends = [(at: t0, units: 1), (at: t0.addingTimeInterval(3600), units: 1)]
        #expect(rule.wait(spends: spends, now: t0.addingTimeInterval(7200)) == t0.addingTimeInterval(86400))
        #expect(rule.wait(spends: spends, now: t0.addingTimeInterval(86400)) == nil)
        let perMinute = QuotaRule(name: "init_per_minute", limit: 6, window: .rolling(seconds: 60))
        let burst = (0..<6).map { (at: t0.addingTimeInterval(Double($0)), units: 1) }
        #expect(perMinute.wait(spends: burst, now: t0.addingTimeInterval(10)) == t0.addingTimeInterval(60))
    }

    @Test(arguments: LedgerBackendKind.available) func tikTokPostsWaitForTheRollingDayWithTheInjectedClock(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Self.iso("2026-11-21T10:00:00Z"))
        try await withLedger(backend, clock: clock) { l in
            let gate = QueueGate(quotas: ["tiktok": [QuotaRule(name: "posts", limit: 1, window: .rolling(seconds: 86400))]])
            try ready(l, drop: "a", target: "tiktok:main", platform: "tiktok")
            try ready(l, drop: "b", target: "tiktok:main", platform: "tiktok")
            let first = try #require(try l.claimDelivery(owner: "w", lease: 60, gate: gate))
            try l.transitionDelivery(first.delivery.id!, from: .uploading, to: .published, stage: "upload")
            clock.advance(3600)
            #expect(try l.claimDelivery(owner: "w", lease: 60, gate: gate) == nil)
            let held = try #require(try l.allDeliveries().first { $0.dropId == "b" })
            #expect(held.notBefore == Self.iso("2026-11-22T10:00:00Z").timeIntervalSince1970)
            clock.advance(23 * 3600)
            #expect(try l.claimDelivery(owner: "w", lease: 60, gate: gate)?.delivery.dropId == "b")
        }
    }

    @Test(arguments: LedgerBackendKind.available) func higherPriorityGoesFirstAndCapsHoldTheRest(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Self.iso("2026-11-21T10:00:00Z"))
        try await withLedger(backend, clock: clock) { l in
            try ready(l, drop: "low", priority: -10)
            try ready(l, drop: "normal")
            try ready(l, drop: "high", priority: 10)
            let gate = QueueGate(perPlatform: ["youtube": 1])
            #expect(try l.claimDelivery(owner: "w", lease: 60, gate: gate)?.delivery.dropId == "high")
            // One YouTube upload in flight is the cap: nothing else is claimed, nothing is deferred.
            #expect(try l.claimDelivery(owner: "w", lease: 60, gate: gate) == nil)
            #expect(try l.allDeliveries().allSatisfy { $0.notBefore == nil })
            #expect(try l.claimDelivery(owner: "w", lease: 60, gate: QueueGate())?.delivery.dropId == "normal")
        }
    }

    @Test func cancelNeverHidesAPossiblePost() throws {
        let dir = try TempDir()
        let clock = TestClock(Self.iso("2026-11-21T10:00:00Z"))
        let l = try Ledger(path: dir.file("l.sqlite").path, clock: clock)
        try ready(l, drop: "sent")
        try ready(l, drop: "waiting")
        let c = try #require(try l.claimDelivery(owner: "w", lease: 60))
        // In flight: refused.
        #expect(throws: OmniError.self) { try l.cancelDelivery(c.delivery.id!, by: "test") }
        // Its session may have become a post (the reply to the last chunk lost): still refused after it is requeued.
        try l.checkpoint(deliveryId: c.delivery.id!, owner: "w", lease: 60, session: "https://upload/1", confirmedOffset: 0, bytesSent: 0)
        try l.transitionDelivery(c.delivery.id!, from: .uploading, to: .ready, stage: "upload")
        #expect(throws: OmniError.self) { try l.cancelDelivery(c.delivery.id!, by: "test") }
        // Nothing sent yet: cancelled.
        let other = try #require(try l.allDeliveries().first { $0.dropId == "waiting" })
        #expect(try l.cancelDelivery(other.id!, by: "test").state == .cancelled)
    }

    @Test func rateLimitHeadersGiveTheNextTry() {
        let now = Self.iso("2026-11-21T10:00:00Z")
        #expect(RetryAfter.date(HTTPHeaders([("Retry-After", "120")]), default: 60, now: now) == now.addingTimeInterval(120))
        #expect(RetryAfter.date(HTTPHeaders([("Retry-After", "Sat, 21 Nov 2026 10:05:00 GMT")]), default: 60, now: now) == now.addingTimeInterval(300))
        // X: x-rate-limit-reset is epoch seconds; Reddit/Bluesky style *-Reset is seconds from now.
        #expect(RetryAfter.date(HTTPHeaders([("x-rate-limit-reset", "1795255500")]), default: 60, now: now) == Date(timeIntervalSince1970: 1_795_255_500))
        #expect(RetryAfter.date(HTTPHeaders([("X-Ratelimit-Reset", "30")]), default: 60, now: now) == now.addingTimeInterval(30))
        // A time already past, or nothing usable: never earlier than now; the default otherwise.
        #expect(RetryAfter.date(HTTPHeaders([("x-rate-limit-reset", "1000")]), default: 60, now: now) == now)
        #expect(RetryAfter.date(HTTPHeaders([("Retry-After", "soon")]), default: 60, now: now) == now.addingTimeInterval(60))
    }

    @Test func slotsKeepTheirLocalTimeAcrossDaylightSavingChanges() throws {
        let s = SlotSchedule(zone: "Europe/Berlin", slots: [.init(hour: 9, minute: 0), .init(hour: 18, minute: 0)])
        // Spring forward (2026-03-29 02:00 → 03:00): 09:00 is 08:00Z the day before, 07:00Z after.
        #expect(s.next(after: Self.iso("2026-03-28T06:00:00Z")) == Self.iso("2026-03-28T08:00:00Z"))
        #expect(s.next(after: Self.iso("2026-03-28T18:00:00Z")) == Self.iso("2026-03-29T07:00:00Z"))
        #expect(s.next(after: Self.iso("2026-03-29T07:00:01Z")) == Self.iso("2026-03-29T16:00:00Z"))
        // Fall back (2026-10-25 03:00 → 02:00): 18:00 is 16:00Z before, 17:00Z after.
        #expect(s.next(after: Self.iso("2026-10-24T10:00:00Z")) == Self.iso("2026-10-24T16:00:00Z"))
        #expect(s.next(after: Self.iso("2026-10-24T16:00:01Z")) == Self.iso("2026-10-25T08:00:00Z"))
        #expect(s.next(after: Self.iso("2026-10-25T08:00:01Z")) == Self.iso("2026-10-25T17:00:00Z"))
        // A taken slot is skipped; a slot inside the spring-forward gap moves to the next real time.
        let taken: Set<Double> = [Self.iso("2026-03-29T07:00:00Z").timeIntervalSince1970]
        #expect(s.next(after: Self.iso("2026-03-28T18:00:00Z"), taken: taken) == Self.iso("2026-03-29T16:00:00Z"))
        let gap = SlotSchedule(zone: "Europe/Berlin", slots: [.init(hour: 2, minute: 30)])
        #expect(gap.next(after: Self.iso("2026-03-28T12:00:00Z")) == Self.iso("2026-03-29T01:00:00Z"))  // 03:00 CEST
        // Weekdays: Monday only.
        let mondays = SlotSchedule(zone: "Europe/Berlin", slots: [.init(hour: 9, minute: 0)], weekdays: [2])
        #expect(mondays.next(after: Self.iso("2026-11-21T12:00:00Z")) == Self.iso("2026-11-23T08:00:00Z"))
    }

    @Test func scheduleAndQuotasParseWithPositions() throws {
        let bad = """
            version: 1
            sandbox: embedded
            schedule: {zone: Europe/Berln, slots: ["09:00"]}
            targets: [youtube:main]
            """
        #expect { try PipelineConfig.parse(text: bad, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp")) } throws: { e in
            let e = e as! OmniError
            return e.location?.line == 3 && e.message.contains("Europe/Berlin")
        }
        let badQuota = """
            version: 1
            sandbox: embedded
            quotas:
              youtube: [{name: units, limit: 100, cost: 1600, window: day}]
            targets: [youtube:main]
            """
        #expect { try PipelineConfig.parse(text: badQuota, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp")) } throws: { e in
            (e as! OmniError).location?.line == 4
        }
        let good = try PipelineConfig.parse(
            text: """
                version: 1
                sandbox: embedded
                schedule: {zone: Europe/Berlin, slots: ["18:00", "09:00"], stagger: 10m, native: false}
                upload: {per_platform: {tiktok: 1}, per_account: 1, max_age: 2h, breaker: {failures: 3, cooldown: 1m}}
                targets: [youtube:main]
                """, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        #expect(good.schedule.slots.map(\.hour) == [9, 18] && good.schedule.stagger == 600 && !good.schedule.native)
        #expect(good.upload.perPlatform == ["tiktok": 1] && good.upload.breaker == BreakerPolicy(failures: 3, cooldown: 60))
    }

    @Test func credentialsAreSealedAndAChangedKeyIsNamed() throws {
        let dir = try TempDir()
        let keyFile = dir.file("secret.key")
        let sealer = try Sealer.load(file: keyFile, env: "OMNIPOST_TEST_NO_SUCH_VAR")
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as! NSNumber
        #expect(mode.intValue & 0o777 == 0o600)
        let sealed = try sealer.seal("1//refresh-secret")
        #expect(sealed.hasPrefix("sealed:v1:") && !sealed.contains("refresh-secret"))
        #expect(try sealer.open(sealed) == "1//refresh-secret")
        #expect(try Sealer.load(file: keyFile, env: "X").open(sealed) == "1//refresh-secret")  // same key file, same key
        let other = try Sealer.load(file: dir.file("k"), env: "K", environment: ["K": Data(repeating: 7, count: 32).base64EncodedString()])
        #expect(throws: OmniError.self) { try other.open(sealed) }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile.path)
        #expect(throws: OmniError.self) { try Sealer.load(file: keyFile, env: "X") }
    }

    /// A store whose sealed tokens no longer open (the key changed).
    struct UnreadableStore: TokenStore {
        func load(account: String) async throws -> (accessToken: String?, expiresAt: Date?, refreshToken: String?) {
            throw OmniError(.authRevoked, "a stored credential cannot be decrypted with this key")
        }
        func save(account: String, accessToken: String, expiresAt: Date, refreshToken: String?) async throws {}
    }

    @Test func anUnreadableCredentialStoreIsNamedNotHiddenBehindInvalidGrant() async throws {
        let account = AccountConfig(
            key: "youtube:main", platform: "youtube", clientID: "c", clientSecret: "s", refreshToken: "old",
            endpoint: "http://127.0.0.1:9", tokenURL: "http://127.0.0.1:9/token")
        let tokens = TokenProvider(account: account, http: HTTPClient.shared, store: UnreadableStore())
        await #expect { _ = try await tokens.accessToken() } throws: { e in
            guard let e = e as? DeliveryError else { return false }
            return e.kind == .reauthenticate && e.code == .authRevoked && e.message.contains("cannot be decrypted")
        }
    }
}

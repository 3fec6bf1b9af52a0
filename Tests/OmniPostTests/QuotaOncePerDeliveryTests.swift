import Foundation
import OmniPostCore
import OmniPostLedger
import Testing

/// A post's quota is charged once per delivery (issue 27, migration v20): an upload taken over — from a
/// host that died, or after a crash — before its platform session was recorded, and one claimed again
/// after a retry-later, are the same upload to the quota; only an operator's `retry` of a failed
/// delivery (a new upload the platform counts) charges again. On both backends.
@Suite struct QuotaOncePerDeliveryTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    /// One post a day on the account: a second charge for one upload would hold everything behind it.
    static let gate = QueueGate(quotas: ["youtube": [QuotaRule(name: "upload_units", limit: 1600, cost: 1600, window: .rolling(seconds: 86400))]])

    /// A drop converted, with one delivery ready whose rendition is a real file (a retry requeues only then).
    static func ready(_ l: Ledger, _ dir: TempDir, drop: String) throws -> Int64 {
        _ = try l.createDrop(DropRecord(id: drop, pipeline: "p", stem: drop, clipPath: "\(drop).mp4", sidecarPath: nil, now: 1), fileIDs: [])
        try l.transitionDrop(drop, from: .received, to: .validated, stage: "validate")
        try l.transitionDrop(drop, from: .validated, to: .converted, stage: "convert")
        var d = DeliveryRecord(
            dropId: drop, target: "youtube:main", platform: "youtube", account: "main", profile: "youtube", state: .ready,
            plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: drop, notBefore: nil, now: 1)
        d.renditionPath = try dir.write("\(drop).mp4", "rendition").path
        try l.insertDeliveries([d])
        return try #require(try l.allDeliveries().first { $0.dropId == drop }?.id)
    }

    static func spends(_ l: Ledger) throws -> Int { try l.quotaUse(accounts: ["youtube:main"], rules: gate.quotas).first?.used ?? -1 }

    /// Host 1 claims (and is charged), dies before it records a session; host 2 takes the upload over
    /// once the lease lapses — not held by the account's quota, which that one post already filled, and
    /// charged nothing. A retry-later and the claim after it charge nothing either.
    @Test(arguments: LedgerBackendKind.available) func aTakeoverOrAReclaimIsNotChargedAgain(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Self.start)
        let dir = try TempDir()
        try await withLedger(backend, clock: clock) { l in
            let id = try Self.ready(l, dir, drop: "a")
            let first = try #require(try l.claimDelivery(owner: "h1:101:t", lease: 30, gate: Self.gate))
            #expect(first.delivery.id == id)
            #expect(try Self.spends(l) == 1600)
            // Host 1 stops beating; its lease lapses. Host 2's claim takes the upload over.
            clock.advance(31)
            let second = try #require(try l.claimDelivery(owner: "h2:202:t", lease: 30, gate: Self.gate), "taken over, not held by the quota it paid")
            #expect(second.delivery.id == id)
            #expect(try l.attempts(forDelivery: id).map(\.outcome) == ["interrupted", nil])
            #expect(try Self.spends(l) == 1600, "the takeover charged nothing")
            // A transient failure: retried later. The claim after it is the same upload to the quota.
            try l.transitionDelivery(id, from: .uploading, to: .ready, stage: "upload", expectOwner: "h2:202:t") { $0.notBefore = Self.start.timeIntervalSince1970 + 40 }
            clock.advance(10)
            #expect(try l.claimDelivery(owner: "h2:202:t", lease: 30, gate: Self.gate)?.delivery.id == id)
            #expect(try Self.spends(l) == 1600, "a re-claim charged nothing")
            #expect(try l.allDeliveries().allSatisfy { $0.gate != "quota" })
        }
    }

    /// The forecast (`plan`, the dashboard) agrees with the ledger: an upload in flight whose round is
    /// charged, with no session recorded yet, spends nothing more — it goes now, not after the day's window
    /// it alone filled — while a second delivery on the account waits for that window; after an operator's
    /// retry (a new round) the delivery spends again.
    @Test(arguments: LedgerBackendKind.available) func theForecastCountsAChargedUploadInFlightOnce(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Self.start)
        let dir = try TempDir()
        try await withLedger(backend, clock: clock) { l in
            let id = try Self.ready(l, dir, drop: "a")
            let other = try Self.ready(l, dir, drop: "b")
            _ = try #require(try l.claimDelivery(owner: "h1:101:t", lease: 30, gate: Self.gate))
            #expect(try l.delivery(id)?.state == .uploading && l.delivery(id)?.remoteSession == nil)
            var (forecast, queue) = try l.queueForecast(rules: Self.gate.quotas)
            var out = forecast.run(queue.map(\.forecastItem), now: Self.start)
            #expect(out[id]?.goesAt == Self.start, "the upload in flight was paid for: \(out[id]?.waits ?? [])")
            #expect(out[id]?.quotas == [], "it spends nothing more")
            #expect(out[other]?.goesAt == Self.start.addingTimeInterval(86400), "the other waits for the day the first filled")
            #expect(out[other]?.quotas.first?.used == 1600)
            // Failed and retried by the operator: a new round, charged again when it goes.
            try l.transitionDelivery(id, from: .uploading, to: .failed, stage: "upload", expectOwner: "h1:101:t") { $0.errorCode = "rejected" }
            try l.retryDelivery(id, by: "test")
            (forecast, queue) = try l.queueForecast(rules: Self.gate.quotas)
            out = forecast.run(queue.map(\.forecastItem), now: Self.start)
            #expect(out[id]?.goesAt == Self.start.addingTimeInterval(86400), "the retry's upload waits for room like any new post")
        }
    }

    /// An operator's retry of a failed delivery is a new upload the platform counts: charged again (and,
    /// with the day's one post spent, held by the quota until the window frees it — not failed).
    @Test(arguments: LedgerBackendKind.available) func anOperatorRetryOfAFailedDeliveryIsChargedAgain(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Self.start)
        let dir = try TempDir()
        try await withLedger(backend, clock: clock) { l in
            let id = try Self.ready(l, dir, drop: "a")
            let wide = QueueGate(quotas: ["youtube": [QuotaRule(name: "upload_units", limit: 16000, cost: 1600, window: .rolling(seconds: 86400))]])
            _ = try #require(try l.claimDelivery(owner: "h1:101:t", lease: 30, gate: wide))
            try l.transitionDelivery(id, from: .uploading, to: .failed, stage: "upload", expectOwner: "h1:101:t") { $0.errorCode = "rejected" }
            #expect(try Self.spends(l) == 1600)
            try l.retryDelivery(id, by: "test")
            #expect(try l.claimDelivery(owner: "h1:101:t", lease: 30, gate: wide)?.delivery.id == id)
            #expect(try Self.spends(l) == 3200, "the retry's upload charged once more")
            // Taken over after the retry: still the retry's one charge.
            clock.advance(31)
            #expect(try l.claimDelivery(owner: "h2:202:t", lease: 30, gate: wide)?.delivery.id == id)
            #expect(try Self.spends(l) == 3200)
            // With the day's quota at one post, a retried delivery waits for the window instead.
            try l.transitionDelivery(id, from: .uploading, to: .failed, stage: "upload", expectOwner: "h2:202:t")
            try l.retryDelivery(id, by: "test")
            #expect(try l.claimDelivery(owner: "h1:101:t", lease: 30, gate: Self.gate) == nil)
            #expect(try l.delivery(id)?.gate == "quota")
        }
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// The ledger's families moved onto `LedgerSQL` last (issue 27): holds, remote names, written texts,
/// follow-ups, the S3 inbox's objects, insight refusals, notifications, approvals, cancel and retry, the
/// failures list and the history, read-backs and their numbers — each written and read back on SQLite and
/// on PostgreSQL, the same test, the same operations (docs/ledger.md, "One interface, two backends").
@Suite struct LedgerFamiliesTests {
    static let t0 = 1_800_000_000.0

    /// A drop in `state` with one delivery per target in `delivery` state, planted through the operations
    /// themselves (the drop) and one statement (its state, which the stages would reach step by step).
    @discardableResult
    static func plant(
        _ l: Ledger, drop: String, state: DropState = .converted, targets: [String] = ["youtube:main"], delivery: DeliveryState = .ready,
        content: String? = nil, clip: String? = nil, sidecar: String? = nil, at: Double = t0
    ) throws -> [DeliveryRecord] {
        #expect(try l.createDrop(DropRecord(id: drop, pipeline: "p", stem: drop, clipPath: clip ?? "\(drop).mp4", sidecarPath: sidecar, now: at), fileIDs: []))
        try l.writeSQL { sql, _ in try sql.run("UPDATE drops SET state = ? WHERE id = ?", state.rawValue, drop) }
        try l.insertDeliveries(
            targets.map { target in
                let (platform, account) = (String(target.split(separator: ":")[0]), String(target.split(separator: ":")[1]))
                return DeliveryRecord(
                    dropId: drop, target: target, platform: platform, account: account, profile: platform, state: delivery,
                    plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: content ?? drop, notBefore: nil, now: at)
            })
        return try l.deliveries(forDrop: drop)
    }

    @Test(arguments: LedgerBackendKind.available) func anAccountHoldMovesItsWaitingDeliveriesOnceEach(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend, clock: TestClock(Date(timeIntervalSince1970: Self.t0))) { l in
            try Self.plant(l, drop: "a", targets: ["x:main", "youtube:main"])
            try Self.plant(l, drop: "b", targets: ["x:main"], delivery: .planned)
            #expect(try l.holdAccount("x:main", until: Self.t0 + 900, code: "rate_limited", message: "the account's window") == 2)
            let held = try l.allDeliveries().filter { $0.account == "main" && $0.platform == "x" }
            #expect(held.allSatisfy { $0.notBefore == Self.t0 + 900 && $0.gate == "retry" && $0.errorCode == "rate_limited" })
            #expect(try l.allDeliveries().first { $0.platform == "youtube" }?.notBefore == nil, "another account is not held")
            // Already held as long: nothing moves, no event.
            #expect(try l.holdAccount("x:main", until: Self.t0 + 900, code: "rate_limited", message: "again") == 0)
            #expect(try l.events(stage: "queue").filter { $0.toState == "waiting" }.count == 2)
        }
    }

    @Test(arguments: LedgerBackendKind.available) func remoteNamesWrittenTextsAndFollowUpsKeepWhatTheyWereTold(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend, clock: TestClock(Date(timeIntervalSince1970: Self.t0))) { l in
            // Remote names: remembered, replaced, forgotten.
            #expect(try l.remoteName(account: "youtube:main", kind: "playlist", name: "Trips") == nil)
            try l.rememberRemoteName(account: "youtube:main", kind: "playlist", name: "Trips", remoteId: "PL1")
            try l.rememberRemoteName(account: "youtube:main", kind: "playlist", name: "Trips", remoteId: "PL2")
            #expect(try l.remoteName(account: "youtube:main", kind: "playlist", name: "Trips") == "PL2")
            try l.forgetRemoteName(account: "youtube:main", kind: "playlist", name: "Trips")
            #expect(try l.remoteName(account: "youtube:main", kind: "playlist", name: "Trips") == nil)

            // Written texts: the first answer kept stays.
            let d = try Self.plant(l, drop: "w")[0]
            let first = WrittenTextRecord(dropId: "w", target: "youtube:main", model: "m", request: "{\"q\":1}", answer: "first", createdAt: Self.t0)
            try l.keepWrittenText(first)
            try l.keepWrittenText(WrittenTextRecord(dropId: "w", target: "youtube:main", model: "m", request: "{}", answer: "second", createdAt: Self.t0 + 1))
            #expect(try l.writtenText(dropId: "w", target: "youtube:main") == first)
            #expect(try l.writtenText(dropId: "w", target: "x:main") == nil)

            // Follow-ups: intended, then made; read one, by delivery, by several.
            try l.recordFollowUp(deliveryId: d.id!, key: "first_comment", kind: "comment", state: .intended)
            try l.recordFollowUp(deliveryId: d.id!, key: "pin", kind: "pin", state: .intended)
            #expect(try l.pendingFollowUpCount() == 2)
            try l.recordFollowUp(deliveryId: d.id!, key: "first_comment", kind: "comment", state: .made, remoteId: "c1", detail: "posted")
            #expect(try l.followUp(deliveryId: d.id!, key: "first_comment")?.state == .made)
            #expect(try l.followUp(deliveryId: d.id!, key: "first_comment")?.remoteId == "c1")
            #expect(try l.followUps(deliveryId: d.id!).map(\.key) == ["first_comment", "pin"])
            #expect(try l.followUps(deliveryIds: [d.id!, 999])[d.id!]?.count == 2)
            #expect(try l.pendingFollowUpCount() == 1)
        }
    }

    @Test(arguments: LedgerBackendKind.available) func anS3ObjectIsNewOnceAndMovesOn(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend, clock: TestClock(Date(timeIntervalSince1970: Self.t0))) { l in
            #expect(try l.noteS3Object(bucket: "b", key: "in/a.mp4", etag: "e1", size: 10, localPath: "s3/a.mp4"))
            #expect(try !l.noteS3Object(bucket: "b", key: "in/a.mp4", etag: "e1", size: 10, localPath: "s3/a.mp4"), "seen before")
            #expect(try l.noteS3Object(bucket: "b", key: "in/a.mp4", etag: "e2", size: 11, localPath: "s3/a-2.mp4"), "a new version")
            try l.setS3Object(bucket: "b", key: "in/a.mp4", etag: "e1", state: .handed, sidecar: (key: "in/a.yaml", etag: "s1"), dropId: "d1")
            let o = try #require(try l.s3Object(bucket: "b", key: "in/a.mp4", etag: "e1"))
            #expect(o.state == .handed && o.sidecarKey == "in/a.yaml" && o.sidecarEtag == "s1" && o.dropId == "d1" && o.size == 10)
            // A later step keeps what it does not name.
            try l.setS3Object(bucket: "b", key: "in/a.mp4", etag: "e1", state: .archived, detail: "filed")
            #expect(try l.s3Object(bucket: "b", key: "in/a.mp4", etag: "e1")?.dropId == "d1")
            #expect(try l.s3Objects(bucket: "b", in: [.waiting]).map(\.etag) == ["e2"])
            #expect(try l.s3Objects(bucket: "b", in: [.waiting, .archived]).count == 2)
            #expect(try l.s3Objects(bucket: "other", in: [.waiting]).isEmpty)
        }
    }

    @Test(arguments: LedgerBackendKind.available) func anInsightRefusalIsRecordedOnceWithItsEvent(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend, clock: TestClock(Date(timeIntervalSince1970: Self.t0))) { l in
            let d = try Self.plant(l, drop: "i", targets: ["instagram:main"], delivery: .published)[0]
            #expect(try l.recordInsightRefusal(account: "instagram:main", api: "insights", detail: "no permission", deliveryId: d.id))
            #expect(try !l.recordInsightRefusal(account: "instagram:main", api: "insights", detail: "again", deliveryId: d.id))
            #expect(try l.insightRefusal(account: "instagram:main")?.detail == "no permission")
            #expect(try l.insightRefusals().map(\.account) == ["instagram:main"])
            let events = try l.events(forDrop: "i").filter { $0.toState == EventKind.insightsRefused.rawValue }
            #expect(events.count == 1 && events.first?.target == "instagram:main")
            try l.forgetInsightRefusal(account: "instagram:main")
            #expect(try l.insightRefusal(account: "instagram:main") == nil)
        }
    }

    @Test(arguments: LedgerBackendKind.available) func notificationsAreWrittenOnceClaimedAndMarked(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend, clock: TestClock(Date(timeIntervalSince1970: Self.t0))) { l in
            #expect(try l.enqueueNotification(sink: "slack", key: "k1", kind: "failed", title: "t1", body: "b1"))
            #expect(try !l.enqueueNotification(sink: "slack", key: "k1", kind: "failed", title: "t1", body: "b1"), "the same key again")
            try l.enqueueNotification(sink: "slack", key: "k2", kind: "failed", title: "t2", body: "b2")
            try l.enqueueNotification(sink: "mail", key: "k1", kind: "failed", title: "t1", body: "b1")
            #expect(try l.notifications().count == 3 && l.notifications(sink: "slack").count == 2)
            #expect(try l.hasNotification(key: "k2") && !l.hasNotification(key: "k3"))
            // Claimed: not due again while its sender holds it.
            let claimed = try l.claimDueNotifications(sink: "slack", now: Self.t0)
            #expect(claimed.map(\.key) == ["k1", "k2"])
            #expect(try l.claimDueNotifications(sink: "slack", now: Self.t0 + 1).isEmpty)
            try l.markNotificationsSent([claimed[0].id])
            try l.markNotificationsFailed([claimed[1].id], error: "503", retryAt: Self.t0 + 30)
            #expect(try l.notificationsSent(sink: "slack", since: Self.t0 - 1) == 1)
            #expect(try l.dueNotifications(sink: "slack", now: Self.t0 + 30).map(\.key) == ["k2"], "due again at its retry time")
            let mail = try l.claimDueNotifications(sink: "mail", now: Self.t0)
            try l.markNotificationsFailed(mail.map(\.id), error: "refused", retryAt: nil)
            #expect(try l.dueNotifications(sink: "mail", now: Self.t0 + 1e6).isEmpty, "given up")
            let states = try l.sinkStates(configured: ["slack", "mail", "ntfy"])
            #expect(states.map(\.sink) == ["mail", "ntfy", "slack"])
            #expect(states[0].down && states[0].givenUp == 1 && states[2].down && states[2].failing == 1 && states[2].sent == 1 && !states[1].down)
            // The notifier's marks and cursor.
            try l.setNotifyMark("backlog_since", Self.t0)
            #expect(try l.notifyMark("backlog_since") == Self.t0)
            try l.setNotifyMark("backlog_since", nil)
            #expect(try l.notifyMark("backlog_since") == nil)
            try l.setNotifyCursor(7)
            #expect(try l.notifyCursor() == 7)
        }
    }

    @Test(arguments: LedgerBackendKind.available) func anApprovalReleasesItsDeliveriesOnce(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend, clock: TestClock(Date(timeIntervalSince1970: Self.t0))) { l in
            let held = try Self.plant(l, drop: "ap", targets: ["youtube:main", "x:main"])
            try l.writeSQL { sql, _ in try sql.run("UPDATE deliveries SET gate = 'approval', not_before = ? WHERE drop_id = 'ap'", Ledger.approvalHold) }
            #expect(try l.awaitingApproval(dropId: "ap").count == 2)
            let waiting = try l.dropsAwaitingApproval()
            #expect(waiting.map(\.dropId) == ["ap"] && waiting.first?.reminded == false && waiting.first?.since == Self.t0)
            try l.note(.approvalReminder, stage: .control, dropId: "ap", detail: "reminded")
            #expect(try l.dropsAwaitingApproval().first?.reminded == true)
            let out = try l.approve(
                dropId: "ap", by: "ana", detail: "approved by ana",
                release: [held[0].id!: Ledger.ApprovalRelease(notBefore: Self.t0 + 60, metadataJson: "{\"title\":\"edited\"}")])
            #expect(out.count == 2)
            let after = try l.deliveries(forDrop: "ap").sorted { $0.id! < $1.id! }
            #expect(after[0].gate == "schedule" && after[0].notBefore == Self.t0 + 60 && after[0].metadataJson == "{\"title\":\"edited\"}")
            #expect(after[1].gate == nil && after[1].notBefore == nil)
            #expect(throws: OmniError.self) { try l.approve(dropId: "ap", by: "bo", detail: "again", release: [:]) }
            #expect(try l.events(forDrop: "ap").filter { $0.toState == EventKind.approved.rawValue }.count == 1)
        }
    }

    /// `QueueTests.cancelNeverHidesAPossiblePost` (SQLite) on both backends, with the cancel hold and its release.
    @Test(arguments: LedgerBackendKind.available) func cancelNeverHidesAPossiblePost(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend, clock: TestClock(Date(timeIntervalSince1970: Self.t0))) { l in
            try Self.plant(l, drop: "sent")
            try Self.plant(l, drop: "waiting")
            let c = try #require(try l.claimDelivery(owner: "w", lease: 60))
            // In flight: refused.
            #expect(throws: OmniError.self) { try l.cancelDelivery(c.delivery.id!, by: "test") }
            // Its session may have become a post: still refused after it is requeued; held while abandoned, let go when not.
            try l.checkpoint(deliveryId: c.delivery.id!, owner: "w", lease: 60, session: "https://upload/1", confirmedOffset: 0, bytesSent: 0)
            try l.transitionDelivery(c.delivery.id!, from: .uploading, to: .ready, stage: "upload")
            #expect(throws: OmniError.self) { try l.cancelDelivery(c.delivery.id!, by: "test") }
            #expect(try l.holdForCancel(c.delivery.id!)?.gate == "cancel")
            #expect(try l.releaseCancelHold(c.delivery.id!).contains("may already be a post"))
            #expect(try l.delivery(c.delivery.id!)?.gate == nil)
            #expect(try l.cancelDelivery(c.delivery.id!, by: "test", abandoned: true).remoteSession == nil)
            // Nothing sent yet: cancelled, its attempts closed.
            let other = try #require(try l.allDeliveries().first { $0.dropId == "waiting" })
            #expect(try l.cancelDelivery(other.id!, by: "test").state == .cancelled)
            #expect(throws: OmniError.self) { try l.cancelDelivery(other.id!, by: "test") }
            #expect(try l.attempts(forDelivery: c.delivery.id!).allSatisfy { $0.outcome != nil })
        }
    }

    @Test(arguments: LedgerBackendKind.available) func aRetryRequeuesAFailedDeliveryAndReleasesAHeldOne(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend, clock: TestClock(Date(timeIntervalSince1970: Self.t0))) { l in
            let failed = try Self.plant(l, drop: "f", delivery: .failed)[0]
            let r = try l.retryDelivery(failed.id!, by: "ana")
            #expect(r.requeued && r.delivery.state == .planned && r.delivery.attempts == 0)
            #expect(throws: OmniError.self) { try l.retryDelivery(failed.id!, by: "bo") }
            // Held by a quota: let go now.
            let held = try Self.plant(l, drop: "h")[0]
            try l.writeSQL { sql, _ in try sql.run("UPDATE deliveries SET gate = 'quota', not_before = ? WHERE id = ?", Self.t0 + 3600, held.id!) }
            let released = try l.retryDelivery(held.id!, by: "ana")
            #expect(!released.requeued && released.heldBy == "quota" && released.delivery.notBefore == nil)
            // A quota hold the queue made itself is looked at again at a reload.
            try l.writeSQL { sql, _ in try sql.run("UPDATE deliveries SET gate = 'quota', not_before = ? WHERE id = ?", Self.t0 + 3600, held.id!) }
            #expect(try l.reevaluateQuotaHolds(reason: "reload") == 1)
            // A finished drop: retried as a whole; its session handed over.
            let done = try Self.plant(l, drop: "done", state: .archived, delivery: .failed, sidecar: "done.yaml")[0]
            try l.writeSQL { sql, _ in
                try sql.run("UPDATE deliveries SET remote_session = 's1' WHERE id = ?", done.id!)
                try sql.run("UPDATE drops SET state = 'failed' WHERE id = 'done'")
            }
            #expect(throws: OmniError.self) { try l.retryDelivery(done.id!, by: "ana") }
            #expect(try l.failedDrop(withSidecar: "done.yaml")?.id == "done")
            #expect(try l.prepareRetry(dropId: "done") == ["youtube:main"])
            #expect(try l.delivery(done.id!)?.sessionPolicy == .handover)
            try l.note(.retried, stage: .control, dropId: "done", detail: "retried")
            #expect(try l.failedDrop(withSidecar: "done.yaml") == nil)
            try Self.plant(l, drop: "again", clip: "done.mp4", at: Self.t0 + 10)
            let (at, next) = try #require(try l.retriedAs(dropId: "done"))
            #expect(at == Self.t0 && next?.id == "again")
            try l.writeSQL { sql, events in
                try Ledger.record(
                    EventRecord(at: Self.t0, dropId: "done", stage: "archive", fromState: "converted", toState: "failed", detail: "filed", data: .filed(folder: "failed/done")),
                    sql, &events)
            }
            #expect(try l.originalsFolder(dropId: "done") == "failed/done")
        }
    }

    @Test(arguments: LedgerBackendKind.available) func theFailuresListAndTheHistoryReadTheSameOnBoth(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend, clock: TestClock(Date(timeIntervalSince1970: Self.t0))) { l in
            let bad = try Self.plant(l, drop: "Trip_1", state: .failed, delivery: .failed, content: "c1", at: Self.t0)[0]
            try Self.plant(l, drop: "trip%2", state: .failed, delivery: .failed, content: "c2", at: Self.t0 + 1)
            // A later delivery of the same content to the same target published: the first failure is superseded.
            let later = try Self.plant(l, drop: "later", state: .archived, delivery: .published, content: "c1", at: Self.t0 + 2)[0]
            #expect(try l.supersededDeliveries([bad.id!]) == [bad.id!: later.id!])
            #expect(try l.supersededDrops(["Trip_1", "trip%2"]) == ["Trip_1": "later"])
            #expect(try l.failedDeliveries(ofDrops: ["Trip_1", "trip%2"]).count == 2)
            try l.acknowledge(dropId: "trip%2", by: "ana")
            try l.acknowledge(dropId: "Trip_1", delivery: bad.id, target: bad.target, by: "ana")
            let acks = try l.acknowledgements()
            #expect(acks.drops.keys.sorted() == ["trip%2"] && acks.deliveries.keys.sorted() == [bad.id!])
            // The history: by name in any case, wildcards as written, by target and state, paged.
            var q = Ledger.DropQuery()
            q.name = "TRIP"
            #expect(try l.searchDrops(q).total == 2)
            q.name = "p%"
            #expect(try l.searchDrops(q).drops.map(\.id) == ["trip%2"])
            q.name = nil
            q.state = .failed
            q.limit = 1
            let page = try l.searchDrops(q)
            #expect(page.total == 2 && page.drops.map(\.id) == ["trip%2"], "newest first")
            q.offset = 1
            #expect(try l.searchDrops(q).drops.map(\.id) == ["Trip_1"])
            #expect(try l.knownTargets() == ["youtube:main"])
        }
    }

    @Test(arguments: LedgerBackendKind.available) func aPublishedPostIsEnrolledReadAndItsNumbersKept(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Date(timeIntervalSince1970: Self.t0))
        try await withLedger(backend, clock: clock) { l in
            let d = try Self.plant(l, drop: "p", targets: ["youtube:main", "x:main"], delivery: .published)
            #expect(try l.enrolPublishedPosts() == 2)
            #expect(try l.enrolPublishedPosts() == 0, "enrolled once")
            #expect(try l.nextPostCheckDue() == Date(timeIntervalSince1970: Self.t0))
            #expect(try l.pendingVerifications(horizon: 0) == 2)
            var c = try #require(try l.duePostChecks(limit: 10).first { $0.deliveryId == d[0].id })
            c.state = .verified
            c.shown = true
            c.reads = 1
            c.nextReadAt = nil
            c.metricsState = .collecting
            c.nextMetricsAt = Self.t0 + 3600
            try l.recordPostRead(c, metrics: PostMetrics(views: 10, likes: 2, watchSeconds: 5.5), event: (.verified, "seen"))
            // The same moment read again replaces the reading.
            try l.recordPostRead(c, metrics: PostMetrics(views: 11, likes: 2, watchSeconds: 5.5, reach: 9), event: nil)
            #expect(try l.postCheck(deliveryId: d[0].id!)?.state == .verified)
            #expect(try l.postChecks(deliveryIds: d.map { $0.id! }).count == 2)
            let m = try l.postMetrics(deliveryId: d[0].id!)
            #expect(m.count == 1 && m.first?.metrics == PostMetrics(views: 11, likes: 2, watchSeconds: 5.5, reach: 9))
            #expect(try l.events(forDrop: "p").filter { $0.toState == EventKind.verified.rawValue }.count == 1)
            #expect(try l.postCheckOutcomes().map { "\($0.state)/\($0.count)" }.sorted() == ["pending/1", "verified/1"])
            #expect(try l.duePostChecks(limit: 10).map(\.deliveryId) == [d[1].id!])
            #expect(try !l.isUploading(platform: "youtube", account: "main"))
        }
    }

    /// The stats, the dashboard's figures and the export read one fixture the same on both.
    @Test(arguments: LedgerBackendKind.available) func statsDashboardAndExportReadTheSameOnBoth(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            try StatsTests.plant(l)
            let m = StatsTests.monday
            let ended = try l.endedDeliveries(since: m - 86_400)
            #expect(ended.count == 6 && ended.first { $0.id == 5 }?.errorCode == "rejected_by_platform")
            #expect(try l.rateLimitHits(since: m - 86_400) == ["youtube:main": 2])
            #expect(try l.rateLimitHits(since: m - 86_400, account: "x:main").isEmpty)
            let readings = try l.postReadings(since: m - 86_400, platform: "youtube")
            #expect(readings.map(\.id) == [1, 2, 3, 4] && readings.last?.metrics.likes == 500 && readings.last?.readAt == m + 86_400 * 4)
            // Hours: the three Monday 09:xx posts in one hour, the x post at 01:xx.
            let hours = try l.hourly(hours: 24, now: m + 86_399)
            #expect(hours.first { $0.hour == Int(m / 3600) + 9 }?.published == 3)
            #expect(hours.first { $0.hour == Int(m / 3600) + 1 }?.published == 1)
            #expect(try l.outcomesByPlatform(since: m - 86_400)["youtube"]?.published == 4)
            #expect(try l.outcomesByPlatform(since: m - 86_400)["youtube"]?.failed == 1)
            #expect(try l.deliveries(in: [.failed]).map(\.id) == [5])
            #expect(try l.openDeliveries().isEmpty)
            #expect(try l.lastEventId() >= 0)
            // Sums of integers read back as integers on both (PostgreSQL's SUM of BIGINT is NUMERIC).
            try l.writeSQL { sql, _ in
                try sql.run("UPDATE attempts SET finished_at = started_at + 10, outcome = 'retry', bytes_sent = 1000 WHERE delivery_id = 1")
                try sql.run("INSERT INTO quota_spends(account, rule, at, units, delivery_id) VALUES ('youtube:main', 'upload_units', ?, 1600, NULL)", m)
                try sql.run("INSERT INTO quota_spends(account, rule, at, units, delivery_id) VALUES ('youtube:main', 'upload_units', ?, 1600, NULL)", m + 1)
            }
            let first = try #require(try l.hourly(hours: 1, now: m + 3599).first)
            #expect(first.bytes == 3000 && first.attemptsFailed == 3 && first.seconds == 30, "\(first)")
            #expect(try l.spentUnits(account: "youtube:main", rule: "upload_units", since: m - 1) == 3200)
            // The export, two rows a page.
            var cursor: Int64 = 0
            var metrics: [[Ledger.ExportValue]] = []
            while true {
                let page = try l.exportPage(.metrics, from: 0, to: 4e9, after: cursor, limit: 2)
                metrics += page.rows
                guard let next = page.next else { break }
                cursor = next
            }
            #expect(metrics.count == 8 && Set(metrics.map { "\($0[0])" }).count == 4)
            #expect(metrics.contains { $0[0] == .integer(4) && $0[4] == .integer(500) })
            let posts = try l.exportPage(.posts, from: 0, to: 4e9, after: 0, limit: 100)
            #expect(posts.rows.map { $0[0] } == [Int64(1), 2, 3, 4, 6].map { Ledger.ExportValue.integer($0) } && posts.next == nil)
            let attempts = try l.exportPage(.attempts, from: m + 1.5, to: 4e9, after: 0, limit: 100)
            #expect(attempts.rows.map { $0[7] } == [.text("rate_limited"), .text("network_error")])
        }
    }
}

import Foundation
import GRDB
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// `omnipost retry` (and the dashboard's and the API's, which are the same call) for every failure that
/// holds a platform session: the session is reconciled first, a failed one is replaced by a new upload,
/// published targets are never sent again, and a partly published drop says what went out.
@Suite struct RetryTests {
    /// Every platform whose sandbox can fail an upload's processing: the target's processing fails, the
    /// drop is `partial` (YouTube published), the retry brings it back, and the second run publishes the
    /// failed target with a new upload — one post per target on the platform, YouTube not sent again.
    @Test(.timeLimit(.minutes(5)), arguments: ["x", "linkedin", "instagram", "facebook", "threads", "bluesky", "reddit"])
    func aFailedProcessingIsUploadedAnewOnRetryAndPublishedTargetsAreSkipped(platform: String) async throws {
        let dir = try TempDir()
        let target = "\(platform):main"
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, \(target)]")
        let clip = try Clips.make(width: 720, height: 1280, seconds: 4)
        try TestPipelines.drop(clip, as: "a", sidecar: "title: once\ndescription: sent again only where it failed\nprivacy: public\n", into: config)
        let p = try await TestPipelines.runOnce(config, timeout: .seconds(120)) { p in
            await p.sandbox!.state.setFaults(.init(failProcessing: "the platform could not process the video"))
        }
        try await stopping(p) {
            let ledger = p.context.ledger, server = try #require(p.sandbox)
            let first = try #require(try ledger.drops().first)
            let failed = try #require(
                try ledger.deliveries(forDrop: first.id).first { $0.target == target },
                "\(first.state) \(first.reasonCode ?? "") \(first.reasonMessage ?? "")")
            let published = try #require(try ledger.deliveries(forDrop: first.id).first { $0.target == "youtube:main" })
            #expect(failed.state == .failed && failed.remoteSession != nil, "\(failed.state) \(failed.errorCode ?? "") \(failed.errorMessage ?? "")")
            #expect(published.state == .published)

            // Partly published: the originals are archived, the report says `partial` with a reason naming the target.
            #expect(first.state == .failed)
            #expect(first.reasonCode == failed.errorCode && first.reasonMessage?.contains("\(target) failed") == true)
            #expect(first.reasonMessage?.contains("published to youtube:main") == true)
            let result = try readJSON(config.paths.outbox.appendingPathComponent("\(first.id).result.json"))
            let failure = try readJSON(config.paths.outboxFailed.appendingPathComponent("\(first.id).failure.json"))
            #expect(result["state"] as? String == "partial" && failure["state"] as? String == "partial")
            let reason = try #require(result["reason"] as? [String: Any])
            #expect(reason["code"] as? String == failed.errorCode)
            #expect((reason["message"] as? String)?.contains(target) == true)
            #expect((result["originals"] as? String)?.hasPrefix("archive/") == true)
            #expect(result["sha256"] as? String == first.clipSha256 && first.clipSha256 != nil)

            let lines = try QueueControl(config: config, ledger: ledger).retry(first.id)
            let said = try #require(lines.last)
            #expect(said.contains("\(target) will be tried again") && said.contains("checked first") && said.contains("published targets are skipped (youtube:main)"), "\(said)")
            #expect(FileManager.default.fileExists(atPath: config.paths.inbox.appendingPathComponent("a.mp4").path))
            // Asked again before the files came in: refused, saying where they went — not a second "success".
            #expect(throws: OmniError.self) { try QueueControl(config: config, ledger: ledger).retry(first.id) }
            do { _ = try QueueControl(config: config, ledger: ledger).retry(first.id) } catch let e as OmniError {
                #expect(e.message.contains("already retried"))
            }

            let postsBefore = await server.state.allVideos().filter { $0.platform == platform }.count
            #expect(postsBefore == 0, "a failed processing is not a post")
            try await Self.runAgain(p)
            let second = try #require(try ledger.drops().first { $0.id != first.id })
            #expect(second.state == .archived, "\(second.state) \(second.reasonCode ?? "") \(second.reasonMessage ?? "")")
            let again = try ledger.deliveries(forDrop: second.id)
            let skipped = try #require(again.first { $0.target == "youtube:main" })
            #expect(skipped.state == .cancelled && skipped.errorCode == "duplicate" && skipped.errorMessage?.contains(first.id) == true)
            let redone = try #require(again.first { $0.target == target })
            #expect(redone.state == .published && redone.sessionPolicy == nil)
            let events = try ledger.events(forDrop: second.id).compactMap(\.detail)
            #expect(events.contains { $0.contains("uploaded anew") }, "\(events)")
            // On the platform: one post per target, ever.
            let videos = await server.state.allVideos()
            #expect(videos.filter { $0.platform == platform }.count == 1)
            #expect(videos.filter { $0.platform == "youtube" }.count == 1)
            // The old delivery gave its session away: it no longer counts as a possible post.
            let old = try #require(try ledger.delivery(failed.id!))
            #expect(old.remoteSession == nil && old.errorMessage?.contains("went to drop \(second.id)") == true)
        }
    }

    /// A delivery retried while its drop is in flight, from another process (the CLI writes the ledger):
    /// the daemon notices the change at once, reconciles the failed session, and uploads anew.
    @Test(.timeLimit(.minutes(4))) func aRetryFromAnotherProcessIsTakenUpAtOnce() async throws {
        let dir = try TempDir()
        // TikTok's one post a day is spent: its delivery is held by the quota, so the drop stays open while X fails.
        let config = try TestPipelines.config(
            root: dir.url, targets: "targets: [x:main, tiktok:main]",
            quotas: "quotas:\n  tiktok: [{name: posts, limit: 1, window: 24h}]")
        let clip = try Clips.make(width: 720, height: 1280, seconds: 4)
        try TestPipelines.drop(clip, as: "a", sidecar: "title: open\nprivacy: public\n", into: config)
        let p = try await Pipeline.open(
            config: config, logger: TestPipelines.logger, backoff: .init(base: .milliseconds(20), cap: .milliseconds(200)), embedding: TestPipelines.embedding)
        try p.context.ledger.write { db, _ in
            try db.execute(
                sql: "INSERT INTO quota_spends(account, rule, at, units, delivery_id) VALUES ('tiktok:main', 'posts', ?, 1, NULL)",
                arguments: [Date().timeIntervalSince1970])
        }
        await p.sandbox!.state.setFaults(.init(failProcessing: "the platform could not process the video"))
        try await running(p) {
            let ledger = p.context.ledger
            let x: DeliveryRecord
            do {
                x = try await Self.until(seconds: 90) { try ledger.allDeliveries().first { $0.target == "x:main" && $0.state == .failed } }
            } catch {
                Issue.record(
                    "\(try ledger.drops().map { "\($0.state) \($0.reasonMessage ?? "")" }) \(try ledger.allDeliveries().map { "\($0.target) \($0.state) \($0.gate ?? "") \($0.errorMessage ?? "")" })"
                )
                throw error
            }
            #expect(x.remoteSession != nil)
            #expect(try ledger.drop(x.dropId)?.state == .converted)

            // Another connection, as `omnipost retry` in its own process makes.
            let cli = try Ledger(path: config.paths.ledger.path)
            let lines = try QueueControl(config: config, ledger: cli).retry(String(x.id!))
            #expect(
                lines == ["delivery \(x.id!) (x:main) queued again; its upload session is checked first: a post found there is recorded, a failed one is replaced by a new upload"])
            // The daemon's idle sleep is 30 s; the ledger watch rings it within about a second.
            let done = try await Self.until(seconds: 20) { try ledger.delivery(x.id!).flatMap { $0.state == .published ? $0 : nil } }
            #expect(done.remoteSession != x.remoteSession)
            #expect(await p.sandbox!.state.allVideos().filter { $0.platform == "x" }.count == 1)
            #expect(try ledger.events(forDrop: x.dropId).contains { $0.detail?.contains("uploaded anew") == true })
        }
    }

    /// Holds set by the queue's own reading of a quota are read again when the pipeline starts (a raised
    /// limit takes effect); a hold that was the platform's answer keeps the platform's word; `retry`
    /// lets a held delivery go at once, saying what held it.
    @Test func quotaHoldsAreLookedAtAgainAtStartAndRetryReleasesAHold() throws {
        let dir = try TempDir()
        let clock = TestClock(QueueTests.iso("2026-11-21T07:00:00Z"))
        let l = try Ledger(path: dir.file("l.sqlite").path, clock: clock)
        let tight = QueueGate(quotas: ["tiktok": [QuotaRule(name: "posts", limit: 1, window: .rolling(seconds: 86400))]])
        for i in 0..<3 { try QueueTests().ready(l, drop: "d\(i)", target: "tiktok:main", platform: "tiktok") }
        let c = try #require(try l.claimDelivery(owner: "w", lease: 60, gate: tight))
        try l.transitionDelivery(c.delivery.id!, from: .uploading, to: .published, stage: "upload")
        #expect(try l.claimDelivery(owner: "w", lease: 60, gate: tight) == nil)
        var held = try l.allDeliveries().filter { $0.gate == "quota" }
        #expect(held.count == 2)
        // One of them was refused by the platform itself (a deferred attempt with quota_exhausted).
        let platformHeld = held[1].id!
        try l.write { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO attempts(delivery_id, number, owner, account, started_at, bytes_at_start, finished_at, outcome, error_code)
                    VALUES (?, 1, 'w', 'tiktok:main', 1, 0, 2, 'deferred', 'quota_exhausted')
                    """, arguments: [platformHeld])
        }
        // A restart with a raised quota: the queue's own hold goes, the platform's stays.
        #expect(try l.reevaluateQuotaHolds(reason: "test") == 1)
        held = try l.allDeliveries().filter { $0.gate == "quota" }
        #expect(held.map(\.id) == [platformHeld])
        let roomy = QueueGate(quotas: ["tiktok": [QuotaRule(name: "posts", limit: 10, window: .rolling(seconds: 86400))]])
        let next = try #require(try l.claimDelivery(owner: "w", lease: 60, gate: roomy))
        #expect(next.delivery.id != platformHeld)
        // `retry` on the platform-held one: let go now, and the line says what held it.
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [tiktok:main]")
        let lines = try QueueControl(config: config, ledger: l).retry(String(platformHeld))
        #expect(lines == ["delivery \(platformHeld) (tiktok:main) was held by quota; it is looked at again now (held again if that gate is still shut)"])
        let released = try #require(try l.delivery(platformHeld))
        #expect(released.gate == nil && released.notBefore == nil && released.errorCode == nil)
        // A schedule is the sidecar's wish, not a hold a retry lifts.
        try l.write { db, _ in
            try db.execute(sql: "UPDATE deliveries SET gate = 'schedule', not_before = ? WHERE id = ?", arguments: [clock.now().timeIntervalSince1970 + 3600, platformHeld])
        }
        #expect(throws: OmniError.self) { try QueueControl(config: config, ledger: l).retry(String(platformHeld)) }
    }

    /// A drop rejected at validation still names its clip by size and sha256 in its failure report.
    @Test(.timeLimit(.minutes(2))) func aRejectedDropsReportNamesTheClipBySizeAndSha256() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        let clip = try Clips.make(width: 640, height: 360, seconds: 2)
        try TestPipelines.drop(clip, as: "bad", sidecar: "titel: typo\n", into: config)
        let p = try await TestPipelines.runOnce(config, timeout: .seconds(60))
        try await stopping(p) {
            let drop = try #require(try p.context.ledger.drops().first)
            #expect(drop.state == .failed && drop.reasonCode == "unknown_key")
            let report = try readJSON(config.paths.outboxFailed.appendingPathComponent("\(drop.id).failure.json"))
            let size = try #require(try FileManager.default.attributesOfItem(atPath: clip.path)[.size] as? Int)
            #expect(report["bytes"] as? Int == size)
            #expect(report["sha256"] as? String == (try FileHashing.sha256(path: clip.path).hex))
            #expect(report["state"] as? String == "failed")
        }
    }

    static func runAgain(_ p: Pipeline) async throws {
        try await withThrowingTaskGroup(of: Void.self) { g in
            g.addTask { try await p.run(once: true) }
            g.addTask {
                try await Task.sleep(for: .seconds(120)); throw OmniError(.internalError, "second run did not finish")
            }
            try await g.next()
            g.cancelAll()
        }
    }

    /// Polls until `body` gives a value, or fails after `seconds`.
    static func until<T>(seconds: Double, _ body: () throws -> T?) async throws -> T {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if let v = try body() { return v }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw OmniError(.internalError, "not reached within \(seconds) s")
    }
}

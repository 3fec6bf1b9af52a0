import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostSandbox
import Testing

/// The folders as a two-way interface (issue 29): the status file beside the outbox's results, and the
/// markers a person touches in a file manager — CANCEL, RETRY — and a corrected sidecar moved back.
@Suite struct FolderInterfaceTests {
    static func status(_ config: PipelineConfig, _ drop: String) -> [String: Any]? {
        try? readJSON(config.paths.outbox.appendingPathComponent("\(drop).status.json"))
    }

    static func open(_ config: PipelineConfig) async throws -> Pipeline {
        try await Pipeline.open(
            config: config, logger: TestPipelines.logger, backoff: .init(base: .milliseconds(20), cap: .milliseconds(200)), embedding: TestPipelines.embedding)
    }

    @Test(.timeLimit(.minutes(4)))
    func theStatusFileFollowsADropAndACancelMarkerEndsWhatWasNotSent() async throws {
        let dir = try TempDir()
        // TikTok's one post a day is spent: its delivery waits on the quota, so the drop stays open.
        let config = try TestPipelines.config(
            root: dir.url, extra: "http: {listen: \"127.0.0.1:0\", loopback_reads: open}", targets: "targets: [x:main, tiktok:main]",
            quotas: "quotas:\n  tiktok: [{name: posts, limit: 1, window: 24h}]")
        try TestPipelines.drop(try Clips.make(width: 720, height: 1280, seconds: 4), as: "a", sidecar: "title: open\nprivacy: public\n", into: config)
        let p = try await Self.open(config)
        try p.context.ledger.write { db, _ in
            try db.execute(
                sql: "INSERT INTO quota_spends(account, rule, at, units, delivery_id) VALUES ('tiktok:main', 'posts', ?, 1, NULL)",
                arguments: [Date().timeIntervalSince1970])
        }
        try await running(p) {
            let ledger = p.context.ledger
            let drop = try await RetryTests.until(seconds: 90) { try ledger.drops().first }
            // X published, TikTok waiting for its quota: the status file says both, and what to touch.
            let waiting = try await RetryTests.until(seconds: 90) { () -> [String: Any]? in
                guard let s = Self.status(config, drop.id), let targets = s["targets"] as? [[String: Any]],
                    targets.contains(where: { $0["target"] as? String == "x:main" && $0["state"] as? String == "published" }),
                    targets.contains(where: { $0["target"] as? String == "tiktok:main" && $0["waiting_until"] != nil })
                else { return nil }
                return s
            }
            #expect(waiting["state"] as? String == "converted" && waiting["stage"] as? String == "queued")
            let targets = try #require(waiting["targets"] as? [[String: Any]])
            let x = try #require(targets.first { $0["target"] as? String == "x:main" })
            #expect(x["percent"] as? Int == 100 && (x["url"] as? String)?.isEmpty == false)
            let tiktok = try #require(targets.first { $0["target"] as? String == "tiktok:main" })
            #expect((tiktok["waiting_for"] as? String)?.hasPrefix("quota: tiktok:main quota: posts 1/1 used") == true, "\(tiktok)")
            #expect((waiting["markers"] as? [String: String])?["cancel"] == "touch outbox/\(drop.id).CANCEL")
            #expect(waiting["result"] == nil)
            // The dashboard's queue forecast says when TikTok's post is expected to go out, and why then.
            let (status, page) = try await OperatorAPITests.get("http://127.0.0.1:\(try #require(p.listener).port)/")
            let html = String(decoding: page, as: UTF8.self)
            #expect(status == 200 && html.contains("Expected to go out"), "\(status)")
            #expect(html.contains("tiktok:main") && html.contains("quota: tiktok:main quota: posts 1/1 used"), "\(html)")

            // The person cancels from the file manager: TikTok is cancelled, the drop finishes.
            let marker = config.paths.outbox.appendingPathComponent("\(drop.id).CANCEL")
            _ = FileManager.default.createFile(atPath: marker.path, contents: nil)
            let done = try await RetryTests.until(seconds: 60) { () -> [String: Any]? in
                guard let s = Self.status(config, drop.id), s["stage"] as? String == "done" else { return nil }
                return s
            }
            #expect(done["state"] as? String == "archived")
            #expect(done["result"] as? String == "\(drop.id).result.json")
            #expect(FileManager.default.fileExists(atPath: config.paths.outbox.appendingPathComponent("\(drop.id).result.json").path))
            #expect(!FileManager.default.fileExists(atPath: marker.path), "a marker acted on is removed")
            let after = try #require(done["targets"] as? [[String: Any]])
            #expect(after.first { $0["target"] as? String == "tiktok:main" }?["state"] as? String == "cancelled")
            #expect(try ledger.deliveries(forDrop: drop.id).first { $0.target == "tiktok:main" }?.state == .cancelled)
            #expect(try ledger.events(forDrop: drop.id).contains { $0.detail?.contains("a marker file") == true })
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aCorrectedSidecarMovedBackAndARetryMarkerRetryAFailedDrop() async throws {
        let dir = try TempDir()
        // The watcher takes a second to call a file settled, and a lone sidecar's grace is a tenth of
        // that: the originals the daemon moves back itself must pair without waiting for the watcher to
        // see them arrive (on a busy machine their events can lag the grace, and both failed alone).
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [x:main]", settle: "1s", grace: "100ms")
        // b: a typo in its sidecar. c: a good sidecar, but the platform refuses the video once.
        try TestPipelines.drop(try Clips.make(width: 720, height: 1280, seconds: 4), as: "b", sidecar: "title: b\nprivcy: public\n", into: config)
        let p = try await Self.open(config)
        await p.sandbox!.state.setFaults(.init(failProcessing: "the platform could not process the video"))
        try await running(p) {
            let ledger = p.context.ledger
            let b = try await RetryTests.until(seconds: 60) { try ledger.drops().first { $0.clipPath == "b.mp4" && $0.state == .failed } }
            let failedStatus = try await RetryTests.until(seconds: 10) { Self.status(config, b.id).flatMap { $0["stage"] as? String == "done" ? $0 : nil } }
            #expect(failedStatus["state"] as? String == "failed" && failedStatus["result"] as? String == "failed/\(b.id).failure.json")
            #expect((failedStatus["reason"] as? [String: Any])?["code"] as? String == "unknown_key")
            #expect((failedStatus["markers"] as? [String: String])?["retry"] == "touch failed/\(b.id)/RETRY")

            // The sidecar, corrected, moved back into the inbox: the clip comes back from failed/ to meet it.
            try Data("title: b fixed\nprivacy: public\n".utf8).write(to: config.paths.inbox.appendingPathComponent("b.yaml"))
            let again = try await Self.until(seconds: 90, ledger, config) { try ledger.drops().first { $0.clipPath == "b.mp4" && $0.id != b.id && $0.state.isTerminal } }
            #expect(again.state == .failed, "the platform refused it once")
            #expect(FileManager.default.fileExists(atPath: config.paths.failed.appendingPathComponent("\(b.id)/b.yaml").path), "the old sidecar stays where it was filed")
            #expect(try ledger.events(forDrop: b.id).contains { $0.toState == "retried" && $0.detail?.contains("a corrected sidecar") == true })

            // The platform takes it now: a RETRY marker in the failed drop's folder sends it again.
            await p.sandbox!.state.setFaults(.init())
            let marker = config.paths.failed.appendingPathComponent("\(again.id)/RETRY")
            #expect(FileManager.default.createFile(atPath: marker.path, contents: nil), "failed/\(again.id)/ is there to touch")
            let published = try await Self.until(seconds: 90, ledger, config, marker: marker) {
                try ledger.drops().first { $0.clipPath == "b.mp4" && $0.state == .archived }
            }
            #expect(try ledger.deliveries(forDrop: published.id).map(\.state) == [.published])
            #expect(try ledger.deliveries(forDrop: published.id).first.flatMap { try $0.metadata.title } == "b fixed")
            #expect(!FileManager.default.fileExists(atPath: marker.path))
            #expect(await p.sandbox!.state.allVideos().filter { $0.platform == "x" }.count == 1)

            // A marker that cannot be acted on says why beside it: that drop was retried already.
            _ = FileManager.default.createFile(atPath: marker.path, contents: nil)
            let refused = marker.appendingPathExtension("refused")
            let why = try await RetryTests.until(seconds: 30) { try? String(contentsOf: refused, encoding: .utf8) }
            #expect(why.contains("was already retried"), "\(why)")
            #expect(!FileManager.default.fileExists(atPath: marker.path))
        }
    }
    /// `RetryTests.until`, saying on a timeout what became of every drop and marker: a wait that runs out
    /// on a busy CI machine must leave the story behind, not only "not reached".
    static func until<T>(
        seconds: Double, _ ledger: Ledger, _ config: PipelineConfig, marker: URL? = nil, _ body: () throws -> T?
    ) async throws -> T {
        do {
            return try await RetryTests.until(seconds: seconds, body)
        } catch {
            var story: [String] = []
            for d in (try? ledger.drops()) ?? [] {
                let events = ((try? ledger.events(forDrop: d.id)) ?? []).map { "\($0.stage)/\($0.toState): \($0.detail ?? "")" }
                let deliveries = ((try? ledger.deliveries(forDrop: d.id)) ?? []).map { "\($0.target) \($0.state.rawValue) \($0.errorCode ?? "")" }
                story.append("drop \(d.id) \(d.clipPath ?? "-") \(d.state.rawValue) [\(deliveries.joined(separator: ", "))]: \(events.joined(separator: " | "))")
            }
            if let marker {
                let refused = try? String(contentsOf: marker.appendingPathExtension("refused"), encoding: .utf8)
                story.append("marker \(marker.lastPathComponent): present \(FileManager.default.fileExists(atPath: marker.path)), refused \(refused ?? "no")")
            }
            story.append("inbox: \((try? FileManager.default.contentsOfDirectory(atPath: config.paths.inbox.path).sorted()) ?? [])")
            let told = "\(error)\n" + story.joined(separator: "\n")
            Issue.record("\(told)")
            throw error
        }
    }

    /// Every state a drop and its targets pass through reads in the status file as a person would say
    /// it (written by the same function the daemon writes the file with): each drop state has a row, and
    /// an upload under way shows its bytes and percent, a held target what holds it and until when.
    @Test func everyStateOfADropAndItsTargetsReadsInItsStatusFile() throws {
        let now = Date(timeIntervalSince1970: 10_000)
        func delivery(_ target: String, _ state: DeliveryState, sent: Int64 = 0, until: Double? = nil, gate: String? = nil) -> DeliveryRecord {
            var d = DeliveryRecord(
                dropId: "d1", target: target, platform: String(target.split(separator: ":")[0]), account: "main", profile: "p",
                state: state, plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: "x", notBefore: until, now: 1)
            d.bytesSent = sent
            d.renditionBytes = 1_000
            d.gate = gate
            if gate != nil { d.errorMessage = "posts 1/1 used" }
            if state == .failed { d.errorCode = "auth_revoked"; d.errorMessage = "the token was revoked" }
            return d
        }
        func file(_ state: DropState, _ deliveries: [DeliveryRecord]) throws -> [String: Any] {
            var drop = DropRecord(id: "d1", pipeline: "p", stem: "a", clipPath: "a.mp4", sidecarPath: "a.yaml", now: 1)
            drop.state = state
            let data = try JSONCoding.encoder().encode(DropStatusFile(drop: drop, deliveries: deliveries, now: now))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        let rows: [(DropState, [DeliveryRecord], String, String?)] = [
            (.received, [], "validating", nil),
            (.validated, [delivery("youtube:main", .planned)], "converting", nil),
            (.validated, [delivery("youtube:main", .ready)], "queued", nil),
            (.converted, [delivery("youtube:main", .ready)], "queued", nil),
            (.converted, [delivery("youtube:main", .uploading, sent: 400), delivery("x:main", .ready)], "uploading", nil),
            (.converted, [delivery("youtube:main", .published, sent: 1_000), delivery("tiktok:main", .ready, until: 20_000, gate: "quota")], "queued", nil),
            (.converted, [delivery("youtube:main", .published, sent: 1_000), delivery("x:main", .failed)], "archiving", nil),
            (.rejected, [], "archiving", nil),
            (.archived, [delivery("youtube:main", .published, sent: 1_000)], "done", "d1.result.json"),
            (.failed, [delivery("x:main", .failed)], "done", "failed/d1.failure.json"),
            (.withdrawn, [], "done", nil)
        ]
        #expect(Set(rows.map(\.0)) == Set(DropState.allCases), "a row for every drop state")
        for (state, deliveries, stage, result) in rows {
            let s = try file(state, deliveries)
            #expect(s["state"] as? String == state.rawValue && s["stage"] as? String == stage, "\(state) \(deliveries.map(\.state)): \(s)")
            #expect(s["result"] as? String == result, "\(state): \(s["result"] ?? "none")")
        }
        let uploading = try file(.converted, [delivery("youtube:main", .uploading, sent: 400)])
        let target = try #require((uploading["targets"] as? [[String: Any]])?.first)
        #expect(target["state"] as? String == "uploading" && target["bytes_sent"] as? Int == 400 && target["percent"] as? Int == 40, "\(target)")
        let held = try #require(
            (try file(.converted, [delivery("tiktok:main", .ready, until: 20_000, gate: "quota")])["targets"] as? [[String: Any]])?.first)
        #expect(held["waiting_for"] as? String == "quota: posts 1/1 used" && (held["waiting_until"] as? String)?.hasPrefix("1970-01-01T05:33:20") == true, "\(held)")
        let failed = try #require((try file(.failed, [delivery("x:main", .failed)])["targets"] as? [[String: Any]])?.first)
        #expect((failed["error"] as? [String: Any])?["code"] as? String == "auth_revoked", "\(failed)")
    }
}

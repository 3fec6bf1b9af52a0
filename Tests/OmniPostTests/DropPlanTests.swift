import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// `omnipost plan` (issue 29): what the pipeline would do with a drop, decided by its own stages on a copy
/// of the ledger — and then, on the same input, what `run` does is what the plan said.
@Suite struct DropPlanTests {
    static let targets = """
        targets:
          - youtube:main
          - name: shorts:main
            platform: youtube
            profile: youtube_shorts
            account: main
          - instagram:main
        """

    /// Four clips, one of each plan kind somewhere among three targets: moov-first H.264/AAC passes, the
    /// same with moov at the end is remuxed where the profile wants it first, a silent clip gets an audio
    /// track where one is required (Instagram wants both), a landscape clip is transcoded into Shorts' frame.
    static func dropFour(into config: PipelineConfig) throws {
        let pass = try Clips.make(width: 1080, height: 1920, seconds: 4, extra: ["-movflags", "+faststart"])
        let remux = try Clips.make(width: 1080, height: 1920, seconds: 4)
        let silent = try Clips.make(width: 1080, height: 1920, seconds: 4, audio: false, extra: ["-movflags", "+faststart"])
        let wide = try Clips.make(width: 1920, height: 1080, seconds: 4, extra: ["-movflags", "+faststart"])
        for (clip, stem) in [(pass, "pass"), (remux, "remux"), (silent, "silent"), (wide, "wide")] {
            try TestPipelines.drop(
                clip, as: stem, sidecar: "title: \"{stem} clip\"\ndescription: \"{duration} s\"\ntags: [plan, \(stem)]\n", into: config)
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func thePlanIsWhatTheRunThenDoes() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, extra: "convert: {aspect: fit}\ndefaults: {privacy: public}", targets: Self.targets)
        try config.paths.createAll()
        try Self.dropFour(into: config)
        let inboxBefore = files(under: config.paths.inbox)

        let plan = try await DropPlanner(config: config).plan(config.paths.inbox.path)
        // Nothing was done: the inbox as it was, no ledger made, nothing in work/ or the outbox.
        #expect(files(under: config.paths.inbox) == inboxBefore)
        #expect(!FileManager.default.fileExists(atPath: config.paths.ledger.path))
        #expect(files(under: config.paths.work).isEmpty && files(under: config.paths.outbox).isEmpty)
        #expect(plan.ok, "\(plan.lines.joined(separator: "\n"))")
        #expect(plan.drops.count == 4)
        let kinds = Set(plan.drops.flatMap { $0.targets.map(\.plan) })
        #expect(kinds == ["pass", "remux", "audio", "transcode"], "\(kinds)")
        for d in plan.drops {
            #expect(d.targets.count == 3)
            for t in d.targets {
                #expect(t.goesAt == plan.at, "\(t.target): nothing holds it")
                #expect(t.text?.title == "\(d.clip!.replacingOccurrences(of: ".mp4", with: "")) clip")
            }
        }

        let p = try await TestPipelines.runOnce(config)
        let ledger = p.context.ledger
        for planned in plan.drops {
            let ran = try #require(try ledger.drops().first { $0.clipPath == planned.clip })
            #expect(ran.state == .archived, "\(ran.id): \(ran.state)")
            let deliveries = try ledger.deliveries(forDrop: ran.id)
            #expect(deliveries.map(\.target).sorted() == planned.targets.map(\.target).sorted())
            for d in deliveries {
                let t = try #require(planned.targets.first { $0.target == d.target })
                let meta = try d.metadata
                #expect(d.plan.rawValue == t.plan, "\(ran.clipPath ?? "") → \(d.target): ran \(d.plan), planned \(t.plan)")
                #expect(t.state == "planned")
                #expect(d.planDetail == t.why)
                #expect(meta.title == t.text?.title && meta.description == t.text?.description && meta.tags == t.text?.tags)
                #expect(meta.privacy.rawValue == t.text?.privacy)
                #expect(d.state == .published)
            }
        }
        await p.close()
    }

    @Test func aDropOverTheQuotaSaysWhenItGoesAndWhy() async throws {
        let dir = try TempDir()
        let quotas = """
            quotas:
              youtube: [{name: upload_units, limit: 4800, cost: 1600, window: day, zone: America/Los_Angeles}]
            """
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]", quotas: quotas)
        try config.paths.createAll()
        // Two posts went out today: one more fits, the one after waits for midnight in Los Angeles.
        let ledger = try Ledger(path: config.paths.ledger.path)
        let rule = QuotaRule(name: "upload_units", limit: 4800, cost: 1600, window: .calendarDay(zone: "America/Los_Angeles"))
        for _ in 0..<2 { #expect(try ledger.spendRequest(account: "youtube:main", rule: rule, deliveryId: nil) == nil) }
        let pass = try Clips.make(width: 1080, height: 1920, seconds: 4, extra: ["-movflags", "+faststart"])
        try TestPipelines.drop(pass, as: "one", sidecar: "title: one\n", into: config)
        try TestPipelines.drop(try Clips.make(width: 1080, height: 1920, seconds: 2.5), as: "two", sidecar: "title: two\npriority: -1\n", into: config)

        let plan = try await DropPlanner(config: config).plan(config.paths.inbox.path)
        #expect(plan.ok, "waiting for a quota is not a failure")
        let one = try #require(plan.drops.first { $0.clip == "one.mp4" }?.targets.first)
        let two = try #require(plan.drops.first { $0.clip == "two.mp4" }?.targets.first)
        #expect(one.goesAt == plan.at && one.quota.first?.used == 4800)
        let midnight = try #require(rule.wait(spends: [(plan.at, 4800)], now: plan.at))
        #expect(two.goesAt == midnight)
        #expect(two.waits.first?.contains("upload_units 4800/4800 used, a post costs 1600 — room again at") == true, "\(two.waits)")
        #expect(two.waits.first?.hasSuffix("00:00 America/Los_Angeles") == true, "\(two.waits)")
        #expect(plan.lines.contains { $0.contains("goes out at \(QueueForecast.stamp(midnight))") }, "\(plan.lines)")
        // The real ledger was only read: still two spends, no drop.
        #expect(try ledger.quotaUse(accounts: ["youtube:main"], rules: ["youtube": [rule]]).first?.used == 3200)
        #expect(try ledger.drops().isEmpty)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)))
    func theCommandExitsOneWithTheLineOfWhatWouldFailAndPrintsJSON() throws {
        let dir = try TempDir()
        let pipeline = try dir.write(
            "pipeline.yaml",
            """
            version: 1
            name: test
            root: \(dir.url.path)/state
            sandbox: embedded
            targets: [youtube:main]
            """)
        let edits = dir.file("edits")
        try FileManager.default.createDirectory(at: edits, withIntermediateDirectories: true)
        try Clips.copy(try Clips.make(width: 1080, height: 1920, seconds: 4), to: edits.appendingPathComponent("bad.mp4"))
        try Data("title: x\nprivcy: public\n".utf8).write(to: edits.appendingPathComponent("bad.yaml"))
        try Clips.copy(try Clips.make(width: 1080, height: 1920, seconds: 4), to: edits.appendingPathComponent("good.mp4"))
        try Data("title: good one\n".utf8).write(to: edits.appendingPathComponent("good.yaml"))

        let bad = try CheckCommandTests.run(["plan", pipeline.path, edits.appendingPathComponent("bad.yaml").path])
        #expect(bad.status == 1)
        #expect(bad.out.contains("bad.yaml:2:1: unknown_key: unknown key 'privcy'; did you mean 'privacy'?"), "\(bad.out)")
        let good = try CheckCommandTests.run(["plan", pipeline.path, edits.appendingPathComponent("good.mp4").path, "--json"])
        #expect(good.status == 0, "\(good.out)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(good.out.utf8)) as? [String: Any])
        let drops = try #require(json["drops"] as? [[String: Any]])
        #expect(drops.count == 1 && drops[0]["verdict"] as? String == "publishes")
        let target = try #require((drops[0]["targets"] as? [[String: Any]])?.first)
        #expect(target["target"] as? String == "youtube:main" && target["goes_at"] != nil)
        #expect((target["text"] as? [String: Any])?["title"] as? String == "good one")
        // Nothing the plan did stayed behind: no state folder, no ledger.
        #expect(!FileManager.default.fileExists(atPath: dir.url.path + "/state/ledger.sqlite"))
    }
}

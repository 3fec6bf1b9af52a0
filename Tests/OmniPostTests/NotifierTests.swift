import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Alerts through real receivers on loopback: a failed drop reaches a signed webhook (its signature
/// checked by the receiver), Slack, Discord and ntfy, each once and saying what to do; a receiver that
/// is down gets it when it comes back; a second notifier over the same ledger (a restart) doubles
/// nothing; past the hourly limit, what waits goes out as one grouped message.
@Suite struct NotifierTests {
    @Test func sinksAreCheckedAtTheirLines() throws {
        func problem(_ notify: String) -> OmniError? {
            do {
                _ = try PipelineConfig.parse(
                    text: "version: 1\nroot: /tmp/p\nsandbox: embedded\ntargets: [youtube:main]\n" + notify, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"));
                return nil
            } catch let e as OmniError { return e } catch { return OmniError(.internalError, "\(error)") }
        }
        #expect(problem("notify: {sinks: [{kind: pager, url: \"https://x\"}]}\n")?.location?.line == 5)
        #expect(problem("notify: {sinks: [{kind: slack, url: \"ftp://x\"}]}\n")?.message.contains("not an http(s) URL") == true)
        #expect(problem("notify: {sinks: [{kind: ntfy}]}\n")?.message.contains("needs `url:`") == true)
        #expect(problem("notify: {max_per_hour: 5}\n")?.message.contains("needs `sinks:`") == true)
        #expect(problem("notify: {sinks: [{kind: ntfy, url: \"https://ntfy.sh/t\"}], quota_threshold: 5}\n")?.message.contains("fraction") == true)
        #expect(problem("notify: {sinks: [{kind: ntfy, url: \"https://ntfy.sh/t\"}]}\n") == nil)
    }

    @Test(.timeLimit(.minutes(3))) func alertsReachEverySinkOnceEvenWhenOneWasDown() async throws {
        let dir = try TempDir()
        // The sinks point at the sandbox the pipeline starts; its address is known once it runs, so the
        // pipeline file names a placeholder port, filled in below.
        let s = SandboxServer(root: dir.file("receivers"))
        try await s.start()
        try await stopping(s) {
            await s.state.registerWebhook("alerts", secret: "alert-secret-0123456789")
            let b = s.baseURL
            let config = try TestPipelines.config(
                root: dir.url,
                extra: """
                    notify:
                      max_per_hour: 3
                      digest_hour: off
                      sinks:
                        - {kind: webhook, name: hook, url: "\(b)/sandbox/webhook/alerts", secret: alert-secret-0123456789}
                        - {kind: slack, name: slack, url: "\(b)/sandbox/capture/slack"}
                        - {kind: discord, name: discord, url: "\(b)/sandbox/capture/discord"}
                        - {kind: ntfy, name: ntfy, url: "\(b)/sandbox/capture/ntfy"}
                    """, targets: "targets: [youtube:main]")
            await s.state.setCaptureDown("ntfy", true)
            try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "bad", sidecar: "version: 1\ntitel: typo\n", into: config)
            let p = try await TestPipelines.runOnce(config)
            try await stopping(p) {
                let notifier = Notifier(ctx: p.context, config: try #require(config.notify), http: p.http)
                try notifier.produce()
                await notifier.send()
                let ledger = p.context.ledger
                #expect(try ledger.notifications().filter { $0.kind == "drop_failed" }.count == 4)
                // Delivered: the webhook (signed, checked by the receiver), Slack and Discord; ntfy is down and waits.
                let receipts = await s.state.webhookReceipts
                #expect(receipts.count == 1 && receipts[0].signed && receipts[0].document.contains("drop_failed"), "\(receipts)")
                // The facts as values a receiver acts on: the drop, the reason, where in the sidecar, and
                // when it failed (the failure's time, not the sending's).
                let hook = try #require(try JSONSerialization.jsonObject(with: Data(receipts[0].document.utf8)) as? [String: Any])
                let facts = try #require(hook["facts"] as? [String: Any], "\(hook)")
                let bad = try #require(try ledger.drops(in: [.failed]).first)
                let failedAt = try #require(try ledger.events(forDrop: bad.id).last { $0.toState == "failed" }?.at)
                #expect(facts["drop"] as? String == bad.id && facts["reason"] as? String == "unknown_key" && facts["location"] as? String == bad.reasonLocation)
                #expect(facts["at"] as? String == isoStamp(failedAt) && hook["at"] as? String == isoStamp(failedAt) && hook["sent_at"] != nil, "\(hook)")
                #expect((facts["published"] as? [String])?.isEmpty == true)
                let captured = await s.state.captured
                #expect(captured["slack"]?.first?.body.contains("unknown_key") == true && captured["slack"]?.first?.body.contains("omnipost retry") == true, "\(captured)")
                #expect(captured["discord"]?.count == 1 && captured["ntfy"] == nil)
                let waiting = try #require(try ledger.notifications(sink: "ntfy").first)
                #expect(waiting.sentAt == nil && waiting.lastError?.contains("503") == true && !waiting.givenUp)
                // A restart reads the same facts again: nothing is written or sent twice.
                let again = Notifier(ctx: p.context, config: try #require(config.notify), http: p.http)
                try ledger.setNotifyCursor(0)
                try again.produce()
                #expect(try ledger.notifications().count == 4)
                // ntfy comes back: its message goes (once its retry time has come).
                await s.state.setCaptureDown("ntfy", false)
                await again.send(now: Date().addingTimeInterval(120))
                let ntfy = await s.state.captured["ntfy"]
                #expect(ntfy?.count == 1 && ntfy?.first?.title?.contains("bad failed") == true, "\(String(describing: ntfy))")
                await again.send(now: Date().addingTimeInterval(240))
                let hooks = await s.state.webhookReceipts.count, slacks = await s.state.captured["slack"]?.count
                #expect(hooks == 1 && slacks == 1)
                // Past the hourly limit (3 a sink): the rest waits, then goes as one grouped message.
                for i in 0..<6 { try ledger.enqueueNotification(sink: "slack", key: "test:\(i)", kind: "test", title: "alert \(i)", body: "b") }
                await again.send(now: Date().addingTimeInterval(300))
                let slack = await s.state.captured["slack"] ?? []
                #expect(slack.count == 3 && slack.last?.body.contains("5 more alerts") == true, "\(slack.map(\.body))")
                #expect(try ledger.dueNotifications(sink: "slack", now: Date().addingTimeInterval(400).timeIntervalSince1970).isEmpty)
                // The day's digest (from its hour, UTC, on): what was published and failed, once a day.
                var daily = try #require(config.notify)
                daily.digestHour = 0
                let digest = try Notifier(ctx: p.context, config: daily, http: p.http).health(now: Date())
                let d = try #require(digest.first { $0.kind == "digest" })
                #expect(d.title.contains("0 published, 0 failed in 24 h") && d.key.hasPrefix("digest:"), "\(d.title)")
            }
        }
    }

    /// A platform's failure is one message (the target's, with the platform's reason and what did
    /// publish), not two; a refused reload is an alert; `omnipost notify test` sends through the same code.
    @Test(.timeLimit(.minutes(3))) func onePlatformFailureIsOneMessageAndARefusedReloadIsAnAlert() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("receivers"))
        try await s.start()
        try await stopping(s) {
            let b = s.baseURL
            let config = try TestPipelines.config(
                root: dir.url,
                extra: """
                    notify:
                      digest_hour: off
                      sinks: [{kind: slack, name: slack, url: "\(b)/sandbox/capture/slack"}, {kind: ntfy, name: ntfy, url: "\(b)/sandbox/capture/ntfy"}]
                    http: {listen: "127.0.0.1:0", public_url: "https://omnipost.example"}
                    """, targets: "targets: [youtube:main, x:main]")
            try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "half", sidecar: "title: half\nprivacy: public\n", into: config)
            // YouTube refuses the upload for good (400); X publishes.
            let p = try await TestPipelines.runOnce(config) { p in
                let sandbox = try #require(p.sandbox)
                await sandbox.state.setFaults(.init(failInits: [400]))
            }
            try await stopping(p) {
                let ledger = p.context.ledger
                #expect(try ledger.drops(in: [.failed]).count == 1)
                let notifier = Notifier(ctx: p.context, config: try #require(config.notify), http: p.http)
                try notifier.produce()
                let written = try ledger.notifications(sink: "slack")
                #expect(written.map(\.kind) == ["delivery_failed"], "one message, the target's: \(written.map(\.kind))")
                let facts = try #require(written.first?.facts)
                // The fault refuses whichever platform's upload starts first (both start at once): the
                // message is the refused target's, naming the one that did publish.
                let all = try ledger.allDeliveries()
                let refusedTarget = try #require(all.first { $0.state == .failed }?.target)
                let other = try #require(all.first { $0.state == .published }?.target)
                #expect(facts.target == refusedTarget && facts.published == [other] && facts.reasonCode != nil)
                #expect(facts.link == "https://omnipost.example/drops/\(facts.dropId ?? "")?pipeline=test")
                await notifier.send()
                let slack = await s.state.captured["slack"] ?? []
                #expect(slack.count == 1 && slack[0].body.contains("published to \(other)") && slack[0].body.contains("https://omnipost.example/drops/"), "\(slack)")

                // A reload that did not take is said, once.
                try ledger.note(.refused, stage: .reload, detail: "p.yaml: targets: youtube:mian is not a platform (p.yaml:7:12)")
                try notifier.produce()
                try notifier.produce()
                let refused = try ledger.notifications(sink: "slack").filter { $0.kind == "reload_refused" }
                #expect(refused.count == 1 && refused[0].body.contains("p.yaml:7:12") && refused[0].body.contains("runs on as it was"))

                // A sink that is down: the message waits, and /metrics shows it pending.
                await s.state.setCaptureDown("ntfy", true)
                await notifier.send(now: Date().addingTimeInterval(60))
                let metrics = try MetricsExport.text(config: p.context.config, ledger: ledger, profiles: p.context.profiles)
                #expect(OperatorAPITests.value(metrics, #"omnipost_alerts_pending{sink="ntfy"}"#) ?? 0 >= 1, "\(metrics)")
                // … and `status`, its JSON and the dashboard say it is down, with what it said; the other is not.
                let report = try StatusReport.gather(config: p.context.config, ledger: ledger, profiles: p.context.profiles)
                let ntfy = try #require(report.sinks.first { $0.sink == "ntfy" })
                #expect(ntfy.down && ntfy.pending >= 1 && ntfy.lastError != nil, "\(ntfy)")
                #expect(report.sinks.first { $0.sink == "slack" }?.down == false, "\(report.sinks)")
                let said = try report.text(ledger: ledger)
                #expect(said.contains("ntfy  DOWN"), "\(said)")
                let json = try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as? [String: Any]
                #expect((json?["sinks"] as? [[String: Any]])?.first { $0["sink"] as? String == "ntfy" }?["down"] as? Bool == true)
                let overview = try await DashboardTests.http("http://127.0.0.1:\(try #require(p.listener).port)/")
                #expect(overview.body.contains("class=\"sink down\"") && overview.body.contains("<strong class=\"bad\">down</strong>"), "\(overview.body)")
            }

            // `omnipost notify test`: through the daemon's own code, each sink's answer, exit 1 if one did not take it.
            if FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary) {
                let file = try dir.write(
                    "t.yaml",
                    """
                    version: 1
                    root: \(dir.url.path)/t
                    sandbox: embedded
                    targets: [youtube:main]
                    notify: {sinks: [{kind: slack, name: team, url: "\(b)/sandbox/capture/team"}, {kind: ntfy, name: phone, url: "\(b)/sandbox/capture/ntfy"}]}
                    """)
                let both = try CheckCommandTests.run(["notify", "test", file.path])
                #expect(both.status == 1 && both.out.contains("sent     team") && both.out.contains("not yet  phone"), "\(both.out)")
                let team = await s.state.captured["team"] ?? []
                #expect(team.count == 1 && team[0].body.contains("a test alert") && team[0].body.contains("notify test"), "\(team)")
                let one = try CheckCommandTests.run(["notify", "test", file.path, "team"])
                #expect(one.status == 0 && !one.out.contains("phone"), "\(one.out)")
                let none = try CheckCommandTests.run(["notify", "test", file.path, "pager"])
                #expect(none.status == 2 && none.out.contains("no sink named 'pager'"), "\(none.out)")
            }
        }
    }
}

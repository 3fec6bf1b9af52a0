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
            do { _ = try PipelineConfig.parse(text: "version: 1\nroot: /tmp/p\nsandbox: embedded\ntargets: [youtube:main]\n" + notify, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp")); return nil }
            catch let e as OmniError { return e } catch { return OmniError(.internalError, "\(error)") }
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
            let config = try TestPipelines.config(root: dir.url, extra: """
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
}

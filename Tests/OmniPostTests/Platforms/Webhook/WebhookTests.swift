import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import OmniPostWire
import Testing

/// The webhook target against the sandbox's receiver (which checks signatures and keeps idempotency
/// keys): signed JSON and multipart deliveries, a repeat dropped by its key, failures classified, the
/// signature checked by an independent HMAC (Python's), settings checked at their lines.
@Suite struct WebhookTests {
    static let meta = PublishMetadata(title: "launch", description: "d", tags: ["a"], privacy: .public, publishAt: nil, options: [:])
    static let secret = "0123456789abcdef-secret"

    static func adapter(_ url: String, extra: String = "", timeout: Duration = .seconds(30)) throws -> any PlatformAdapter {
        let text = "version: 1\nroot: /tmp/omnipost-wh\nsandbox: none\ntargets: [webhook:ops]\naccounts:\n  webhook:ops:\n    url: \"\(url)\"\n    secret: \(secret)\n\(extra)"
        let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        let account = try #require(config.accounts["webhook:ops"])
        let settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokenStore()),
            http: HTTPClient.shared, chunkSize: 1 << 20, maxAttempts: 3, requestTimeout: timeout,
            backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)))
        return PlatformRegistry.makeAdapter(platform: "webhook", settings: settings)!
    }

    static func job(_ dir: TempDir, session: String? = nil) throws -> UploadJob {
        let f = dir.file("clip.mp4")
        if !FileManager.default.fileExists(atPath: f.path) { try Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 11) }).write(to: f) }
        var j = UploadJob(deliveryId: 5, filePath: f.path, size: 3_000_000, metadata: meta, session: session, confirmedOffset: 0)
        j.expectedSha256 = try FileHashing.sha256(path: f.path).hex
        j.drop = DropFacts(dropId: "d-7", target: "webhook:ops", stem: "clip", source: "clip.mp4", takenAt: Date())
        return j
    }

    static func sandbox(_ dir: TempDir) async throws -> SandboxServer {
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        await s.state.registerWebhook("ops", secret: secret)
        return s
    }

    @Test func signedDeliveriesLandOnceEvenWhenSentTwice() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let a = try Self.adapter(s.baseURL + "/sandbox/webhook/ops", extra: "    headers: {X-Team: video}\n")
            let first = try await a.deliver(try Self.job(dir), checkpoint: { _ in }, progress: { _, _ in })
            #expect(first.remoteId.hasPrefix("wh-") && first.url.hasSuffix("/sandbox/webhook/ops/\(first.remoteId)"))
            // The reply was lost (a restart finds the checkpoint): sent again under the same key, dropped by the receiver.
            let again = try await a.deliver(try Self.job(dir, session: "d-7-5"), checkpoint: { _ in }, progress: { _, _ in })
            #expect(again.remoteId == first.remoteId)
            let receipts = await s.state.allWebhookReceipts()
            #expect(receipts.map(\.duplicate) == [false, true] && receipts.allSatisfy { $0.signed && $0.key == "d-7-5" })
            #expect(await s.state.allVideos().count == 1)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(receipts[0].document.utf8)) as? [String: Any])
            let want = try Self.job(dir).expectedSha256
            #expect(doc["drop_id"] as? String == "d-7" && doc["sha256"] as? String == want && doc["path"] == nil)
        }
    }

    @Test func theRenditionGoesAlongAsMultipartSignedOverEveryByte() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let a = try Self.adapter(s.baseURL + "/sandbox/webhook/ops", extra: "    include_media: true\n")
            let job = try Self.job(dir)
            let out = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            #expect(out.bytesSent > job.size)
            let r = try #require(await s.state.allWebhookReceipts().first)
            #expect(r.signed && r.mediaSha256 == job.expectedSha256)
            #expect(await s.state.postCount(sha256: job.expectedSha256!) == 1)
        }
    }

    /// The rendition is swapped for a link to another file after it was hashed: nothing is sent.
    @Test func aMediaFileSwappedForALinkIsNeverSent() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let a = try Self.adapter(s.baseURL + "/sandbox/webhook/ops", extra: "    include_media: true\n")
            let job = try Self.job(dir)
            let size = Int(job.size)
            let other = try dir.write("other.bin", String(repeating: "s", count: size))
            try FileManager.default.removeItem(atPath: job.filePath)
            try FileManager.default.createSymbolicLink(atPath: job.filePath, withDestinationPath: other.path)
            let e = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in }) }
            #expect(e?.code == .sourceChanged && e?.kind == .permanent, "\(String(describing: e))")
            #expect(await s.state.allWebhookReceipts().isEmpty)
        }
    }

    @Test func aWrongSecretAndNobodyListeningAreSaid() async throws {
        let dir = try TempDir()
        let s = try await Self.sandbox(dir)
        try await stopping(s) {
            let a = try Self.adapter(s.baseURL + "/sandbox/webhook/ops")
            // The wrong secret: the receiver refuses the signature.
            await s.state.registerWebhook("ops", secret: "a-different-secret-entirely")
            let e3 = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(try Self.job(dir), checkpoint: { _ in }, progress: { _, _ in }) }
            #expect(e3?.kind == .permanent && e3?.httpStatus == 401)
            // Nothing listening: a network error, tried again later.
            let dead = try Self.adapter("http://127.0.0.1:9/hook", timeout: .milliseconds(300))
            let e4 = await #expect(throws: DeliveryError.self) { _ = try await dead.deliver(try Self.job(dir), checkpoint: { _ in }, progress: { _, _ in }) }
            #expect(e4?.kind == .retryNow && e4?.code == .networkError)
        }
    }

    /// The documented scheme, checked by an HMAC that is not ours (Python's `hmac`), as a receiver would.
    @Test func anIndependentHMACVerifiesTheSignature() throws {
        let body = Data("{\"event\":\"delivery\",\"title\":\"é ✓\"}".utf8)
        let header = WebhookSignature.sign(body, secret: Self.secret, timestamp: 1_790_000_000)
        let dir = try TempDir()
        try body.write(to: dir.file("body"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", "-c",
            """
            import hmac, hashlib, sys
            body = open(sys.argv[1], 'rb').read()
            t, v1 = [kv.split('=', 1)[1] for kv in sys.argv[2].split(',')]
            mac = hmac.new(sys.argv[3].encode(), (t + '.').encode() + body, hashlib.sha256).hexdigest()
            print('ok' if hmac.compare_digest(mac, v1) else 'mismatch')
            """, dir.file("body").path, header, Self.secret
        ]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "ok\n")
        #expect(WebhookSignature.verify(header, body: body, secret: Self.secret, now: Date(timeIntervalSince1970: 1_790_000_100)))
        #expect(!WebhookSignature.verify(header, body: body, secret: Self.secret, now: Date(timeIntervalSince1970: 1_790_000_400)), "stale: a replay")
        #expect(!WebhookSignature.verify(header, body: body + Data(" ".utf8), secret: Self.secret, now: Date(timeIntervalSince1970: 1_790_000_000)))
    }

    @Test func settingsAreCheckedAtTheirLines() throws {
        func check(_ lines: String) -> OmniError? { AccountChecks.problem("webhook:ops", lines) }
        let url = check("    url: ftp://example.com/x\n")
        #expect(url?.message.contains("not an http(s) URL") == true && url?.location?.line == 7)
        #expect(check("    url: https://example.com/x\n    secret: short\n")?.message.contains("at least 16") == true)
        #expect(check("    url: https://example.com/x\n    headers: {Idempotency-Key: x}\n")?.message.contains("set by OmniPost itself") == true)
        #expect(check("    secret: 0123456789abcdef0\n")?.message.contains("needs `url`") == true)
        #expect(check("    url: https://hooks.example.com/omnipost\n    secret: 0123456789abcdef0\n    include_media: false\n    headers: {Authorization: Bearer x}\n") == nil)
    }

    /// In sandbox mode a webhook with its own URL keeps it, unsigned if the file gives no secret: a
    /// made-up secret would sign a real receiver's deliveries with a key it does not know.
    @Test func sandboxModeLeavesARealReceiverAlone() throws {
        let text = "version: 1\nroot: /tmp/omnipost-wh\nsandbox: embedded\ntargets: [webhook:ops, webhook:demo]\naccounts:\n  webhook:ops: {url: \"https://hooks.example.com/x\"}\n"
        let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        var real = try #require(config.accounts["webhook:ops"])
        #expect(WebhookPlatform.useSandbox(&real, base: "http://127.0.0.1:1", root: URL(fileURLWithPath: "/tmp")).isEmpty)
        #expect(try real.text("url") == "https://hooks.example.com/x" && real.setting("secret") == nil)
        var made = try #require(config.accounts["webhook:demo"])
        let grants = WebhookPlatform.useSandbox(&made, base: "http://127.0.0.1:1", root: URL(fileURLWithPath: "/tmp"))
        #expect(grants == [SandboxGrant(platform: "webhook", account: "webhook:demo", ["secret": "sandbox-webhook-secret-demo"])])
        #expect(try made.text("url") == "http://127.0.0.1:1/sandbox/webhook/demo")
    }

    /// Through the whole pipeline in sandbox mode: a webhook target with no settings reaches the sandbox's receiver, signed.
    @Test(.timeLimit(.minutes(3))) func aPipelineInSandboxModeCallsTheSandboxReceiver() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(dir, targets: "youtube:main, webhook:ops", sidecar: "title: a walk\n") { p, _ in
            let receipts = await p.sandbox!.state.allWebhookReceipts()
            #expect(receipts.count == 1 && receipts[0].signed)
        }
    }
}

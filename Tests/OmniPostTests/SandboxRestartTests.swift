import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostEmbedded
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// `sandbox: embedded` as someone trying OmniPost lives with it: restarts of the pipeline keep the
/// sandbox's port, its tokens (a rotated refresh token in the ledger is still known) and its upload
/// sessions (a checkpointed session resumes); `accounts check` and `accounts add` beside the daemon go to
/// its sandbox, and without a daemon to one started from the kept state — never to the real hosts.
@Suite(.serialized) struct SandboxRestartTests {
    static func config(_ dir: TempDir) throws -> PipelineConfig {
        try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, tiktok:main]")
    }

    @Test(.timeLimit(.minutes(2))) func restartsKeepThePortAndRotatedTokensAndChecksGoToTheSandbox() async throws {
        let dir = try TempDir()
        let config = try Self.config(dir)
        var ports: [Int] = []
        for round in 0..<3 {
            let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
            let sandbox = try #require(p.sandbox)
            ports.append(sandbox.port)
            let before = await sandbox.state.requestCounts["tiktok.token"] ?? 0
            // `accounts check` beside the running daemon: a refresh (TikTok rotates its refresh token) at the
            // daemon's own sandbox, which then knows the token the ledger holds.
            let health: [AccountHealth.Result]
            do { health = try await AccountHealth.check(config: config, http: HTTPClient.shared, embedding: TestPipelines.embedding) } catch {
                await p.close()
                throw error
            }
            let after = await sandbox.state.requestCounts["tiktok.token"] ?? 0
            await p.close()
            #expect(health.count == 2 && health.allSatisfy { $0.ok }, "round \(round): \(health)")
            #expect(after == before + 1, "round \(round): the check refreshed at the daemon's sandbox")
        }
        #expect(Set(ports).count == 1, "one port across restarts: \(ports)")
        // No daemon: the check starts the pipeline's sandbox from the state the daemon left, on its port.
        let alone = try await AccountHealth.check(config: config, http: HTTPClient.shared, embedding: TestPipelines.embedding)
        #expect(alone.allSatisfy { $0.ok }, "\(alone)")
        #expect(SandboxServer.Ports.remembered(root: EmbeddedSandbox.folder(config))?.http == ports[0])
        // What the ledger says of each account is the sandbox's answer.
        let ledger = try Ledger(path: config.paths.ledger.path)
        let summaries = try ledger.tokenSummaries()
        #expect(summaries.filter { $0.checkOK == true }.count == 2, "\(summaries.map { "\($0.account) \($0.checkDetail ?? "")" })")
        // And the daemon, started once more, refreshes with the token the lone check rotated.
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        let again = try await AccountHealth.check(config: config, only: ["tiktok:main"], http: HTTPClient.shared, embedding: TestPipelines.embedding)
        await p.close()
        #expect(again.first?.ok == true, "\(again)")
    }

    @Test(.timeLimit(.minutes(2))) func anUploadSessionCheckpointedBeforeARestartResumesAfterIt() async throws {
        let dir = try TempDir()
        let config = try Self.config(dir)
        let size = 3 * 1_048_576 + 17
        let f = dir.file("clip.mp4")
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 11) }).write(to: f)
        var job = UploadJob(
            deliveryId: 1, filePath: f.path, size: Int64(size),
            metadata: PublishMetadata(title: "across a restart", description: "", tags: [], privacy: .unlisted, publishAt: nil, options: [:]),
            session: nil, confirmedOffset: 0)
        job.expectedSha256 = try FileHashing.sha256(path: f.path).hex
        let p1 = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        let port = try #require(p1.sandbox?.port)
        let seen = CheckpointLog()
        await #expect(throws: CancellationError.self) {
            _ = try await p1.context.adapters["youtube:main"]!.deliver(
                job,
                checkpoint: { cp in
                    seen.add(cp)
                    if cp.confirmedOffset >= 1_048_576 { throw CancellationError() }
                }, progress: { _, _ in })
        }
        await p1.close()
        let cp = try #require(seen.all.last)
        let p2 = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        #expect(p2.sandbox?.port == port)
        job.session = cp.session
        job.confirmedOffset = cp.confirmedOffset
        let out: PublishOutcome
        do { out = try await p2.context.adapters["youtube:main"]!.deliver(job, checkpoint: { _ in }, progress: { _, _ in }) } catch {
            await p2.close()
            throw error
        }
        let posts = await p2.sandbox!.state.postCount(sha256: try #require(job.expectedSha256))
        await p2.close()
        #expect(out.bytesSent == Int64(size) - cp.confirmedOffset, "the session went on from \(cp.confirmedOffset): \(out.bytesSent) sent")
        #expect(posts == 1)
    }

    /// `accounts add` in sandbox mode: the sandbox's consent page with the sandbox's client, its token
    /// endpoint — the real platform's host is never named.
    @Test(.timeLimit(.minutes(2))) func accountsAddInSandboxModeConnectsThroughTheSandbox() async throws {
        let dir = try TempDir()
        let config = try Self.config(dir)
        let said = AccountConnectTests.Said()
        let who = try await AccountConnector(config: config, key: "tiktok:main", http: HTTPClient.shared, embedding: TestPipelines.embedding).connect(
            mode: .loopback(timeout: .seconds(20))
        ) { line in
            said.add(line)
            if let url = AccountConnectTests.Said.url(in: line) { Task { try? await AccountConnectTests.browse(url) } }
        }
        #expect(who != nil)
        let port = try #require(SandboxServer.Ports.remembered(root: EmbeddedSandbox.folder(config))?.http)
        let consent = try #require(AccountConnectTests.Said.url(in: said.text))
        #expect(consent.hasPrefix("http://127.0.0.1:\(port)/sandbox/oauth/tiktok/authorize?") && !said.text.contains("tiktok.com"), "\(consent)")
        // The connected account works in the daemon: checked at its sandbox.
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        let health = try await AccountHealth.check(config: config, only: ["tiktok:main"], http: HTTPClient.shared, embedding: TestPipelines.embedding)
        await p.close()
        #expect(health.first?.ok == true, "\(health)")
    }
}

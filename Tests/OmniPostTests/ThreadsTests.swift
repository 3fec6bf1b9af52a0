import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Threads through its sandbox: the rendition on the media host, Threads fetching it, publish, failures.
@Suite struct ThreadsTests {
    static let mib: Int64 = 1_048_576
    static let meta = PublishMetadata(title: "on threads", description: "a clip", tags: ["omnipost", "more"], privacy: .public, publishAt: nil, options: [:])

    func setUp(_ dir: TempDir, size: Int64, faults: SandboxState.Faults = .init(), secret: String = "s3-secret") async throws -> PlatformRig {
        var rig = try await PlatformRig.make(ThreadsPlatform.self, dir, size: size, faults: faults)
        await rig.state.registerS3(accessKeyID: "AKIDTHREADS", secret: "s3-secret")
        var settings = (rig.adapter as! ThreadsAdapter).settings
        settings.mediaHost = MediaHost(bucket: S3Bucket(.init(endpoint: rig.server.baseURL + "/s3", bucket: "media", region: "us-east-1",
                                                              accessKeyID: "AKIDTHREADS", secretAccessKey: secret, prefix: "omnipost/"),
                                                        http: HTTPClient.shared), linkTTL: 600)
        rig.adapter = ThreadsAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
        return rig
    }

    @Test func aGoodPostIsFetchedFromTheMediaHost() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 3 * Self.mib + 11)
        defer { Task { await rig.server.stop() } }
        let cps = UploadResumeTests.Checkpoints()
        let out = try await rig.deliver(Self.meta, checkpoint: { cps.add($0) })
        let videos = await rig.state.allVideos()
        let sha = try FileHashing.sha256(path: rig.file.path).hex
        #expect(videos.count == 1 && videos[0].platform == "threads" && videos[0].id == out.remoteId)
        #expect(videos[0].sha256 == sha)
        #expect(videos[0].title == "on threads\n\na clip #omnipost")
        // Stored once under its hash, fetched by Threads through the presigned link.
        #expect(await rig.state.object(bucket: "media", key: "omnipost/\(sha).bin") != nil)
        let counts = await rig.state.requestCounts
        #expect(counts["s3.put"] == 1 && counts["s3.get"] == 1)
        #expect(cps.all.map(\.confirmedOffset) == [rig.size, rig.size])
        #expect(rig.store.refreshToken?.hasPrefix("THAA") == true)
    }

    @Test func restartsAndTheUncertainWindowAreReconciled() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 2 * Self.mib)
        defer { Task { await rig.server.stop() } }
        // Killed right after the container was made: continued, not made again.
        struct Crash: Error {}
        let cps = UploadResumeTests.Checkpoints()
        await #expect(throws: Crash.self) {
            _ = try await rig.deliver(Self.meta, checkpoint: { cp in cps.add(cp); throw Crash() })
        }
        let saved = try #require(cps.all.last)
        _ = try await rig.deliver(Self.meta, session: saved.session, offset: saved.confirmedOffset)
        #expect(await rig.state.requestCounts["threads.container"] == 1)
        // Killed while threads_publish is answered: found PUBLISHED, not published again.
        await rig.state.setFaults(.init(finalReplyDelayMs: 3000))
        var m = Self.meta
        m.title = "second"
        let cps2 = UploadResumeTests.Checkpoints()
        let second = m
        let run = Task { try await rig.deliver(second, checkpoint: { cps2.add($0) }) }
        while await rig.state.stats.finalRepliesPending == 0 { try await Task.sleep(for: .milliseconds(20)) }
        run.cancel()
        _ = await run.result
        await rig.state.setFaults(.init())
        let last = try #require(cps2.all.last)
        let out = try await rig.deliver(m, session: last.session, offset: last.confirmedOffset)
        #expect(out.reconciled)
        #expect(await rig.state.requestCounts["threads.publish"] == 2)
        #expect(await rig.state.allVideos().count == 2)
    }

    @Test func failuresAreClassifiedAndAPipelineWithoutAMediaHostIsTold() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib, faults: .init(rateLimitInits: 1, rateLimitRetryAfterS: 180))
        defer { Task { await rig.server.stop() } }
        let t0 = Date()
        do {
            _ = try await rig.deliver(Self.meta)
            Issue.record("a rate limit went unnoticed")
        } catch let e as DeliveryError {
            guard case .retryAt(let when) = e.kind else { Issue.record("\(e)"); return }
            #expect(e.code == .rateLimited && waitIsAbout(when, 180, from: t0, to: Date()))
        }
        await rig.state.setFaults(.init(failProcessing: "INVALID_DURATION"))
        do {
            _ = try await rig.deliver(Self.meta)
            Issue.record("a failed container went unnoticed")
        } catch let e as DeliveryError {
            #expect(e.kind == .permanent && e.message.contains("INVALID_DURATION"))
        }
        // A media host that refuses the keys: said so, and no container is made.
        let badDir = try TempDir()
        let bad = try await setUp(badDir, size: 1 * Self.mib, secret: "wrong")
        defer { Task { await bad.server.stop() } }
        do {
            _ = try await bad.deliver(Self.meta)
            Issue.record("a refused media host went unnoticed")
        } catch let e as DeliveryError {
            #expect(e.kind == .permanent && e.message.contains("SignatureDoesNotMatch"))
        }
        #expect(await bad.state.requestCounts["threads.container"] == nil)
        // No media host at all: refused at validation with the reason.
        var settings = (rig.adapter as! ThreadsAdapter).settings
        settings.mediaHost = nil
        #expect(ThreadsAdapter(settings).preflight(Self.meta)?.message.contains("media_host") == true)
        var m = Self.meta
        m.description = String(repeating: "x", count: 500)
        #expect(rig.adapter.preflight(m)?.code == .textTooLong)
    }

    @Test func aPipelineInSandboxModeHostsTheMediaItself() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, threads:brand]")
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 3.3), to: config.paths.inbox.appendingPathComponent("t.mp4"))
        try dir.write("inbox/t.yaml", "title: threaded\nprivacy: public\n")
        let p = try await TestPipelines.runOnce(config)
        defer { Task { await p.close() } }
        let deliveries = try p.context.ledger.allDeliveries()
        let drops = try p.context.ledger.drops()
        #expect(deliveries.map(\.state) == [.published, .published], "\(deliveries.map { $0.errorMessage ?? "" }) \(drops.map { "\($0.state) \($0.reasonMessage ?? "")" })")
        #expect(Set(await p.sandbox!.state.allVideos().map(\.platform)) == ["youtube", "threads"])
    }
}

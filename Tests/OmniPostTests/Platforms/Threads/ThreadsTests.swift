import AsyncHTTPClient
import Foundation
import NIOCore
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Threads through its sandbox: the rendition on the media host, Threads fetching it, publish, failures.
@Suite struct ThreadsTests {
    static let mib: Int64 = 1_048_576
    static let meta = PublishMetadata(title: "on threads", description: "a clip", tags: ["omnipost", "more"], privacy: .public, publishAt: nil, options: [:])

    func setUp(
        _ dir: TempDir, size: Int64, faults: SandboxState.Faults = .init(), secret: String = "s3-secret", http: HTTPClient = HTTPClient.shared
    ) async throws -> PlatformRig {
        var rig = try await PlatformRig.make(ThreadsPlatform.self, dir, size: size, faults: faults)
        await rig.state.registerS3(accessKeyID: "AKIDTHREADS", secret: "s3-secret")
        var settings = (rig.adapter as! ThreadsAdapter).settings
        settings.mediaHost = MediaHost(
            bucket: S3Bucket(
                .init(
                    endpoint: rig.server.baseURL + "/s3", bucket: "media", region: "us-east-1",
                    accessKeyID: "AKIDTHREADS", secretAccessKey: secret, prefix: "omnipost/"),
                http: http), linkTTL: 600)
        rig.adapter = ThreadsAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
        return rig
    }

    @Test func aGoodPostIsFetchedFromTheMediaHost() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 3 * Self.mib + 11)
        try await stopping(rig.server) {
            let cps = CheckpointLog()
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
    }

    /// The media host's refusal says what to change once, under the settings it is in: a refused key and a
    /// bucket of another region each carry their own instruction (S3Bucket's), not a second generic
    /// "check media_host's bucket, region and keys" after it (a refusal that names nothing to change still
    /// gets that one). Always `config_invalid` (the pipeline's setup, not the account's), nothing made on Threads.
    @Test(arguments: ["keys", "region"])
    func aMediaHostsRefusalGivesOneInstruction(_ refusal: String) async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib, secret: refusal == "keys" ? "wrong" : "s3-secret")
        try await stopping(rig.server) {
            if refusal == "region" {
                // Through the sandbox's control route: the bucket lives in another region.
                var put = HTTPClientRequest(url: rig.server.baseURL + "/sandbox/s3/media/home")
                put.method = .PUT
                put.body = .bytes(ByteBuffer(string: #"{"region": "ap-southeast-2", "answer": "AuthorizationHeaderMalformed"}"#))
                #expect(try await HTTPClient.shared.execute(put, timeout: .seconds(10)).status == .ok)
            }
            let e = try await #require(throws: DeliveryError.self) { try await rig.deliver(Self.meta) }
            #expect(e.kind == .permanent && e.code == .configInvalid, "\(e)")
            let instructions = ["check ", "set `region:`"].map { e.message.components(separatedBy: $0).count - 1 }.reduce(0, +)
            #expect(instructions == 1, "one instruction: \(e.message)")
            if refusal == "keys" {
                #expect(e.message.contains("SignatureDoesNotMatch") && e.message.contains("check the access key, its secret and the bucket's policy under"), "\(e.message)")
            } else {
                #expect(e.message.contains("is in region ap-southeast-2") && e.message.contains("set `region:` to ap-southeast-2"), "\(e.message)")
            }
            #expect(await rig.state.requestCounts["threads.container"] == nil)
        }
    }

    @Test func aMediaHostThatRefusesTheKeysOrNoneAtAllIsTold() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib)
        try await stopping(rig.server) {
            // A media host that refuses the keys: said so, and no container is made.
            let badDir = try TempDir()
            let bad = try await setUp(badDir, size: 1 * Self.mib, secret: "wrong")
            try await stopping(bad.server) {
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
        }
    }

    /// Threads' fetch of the link cut (the serving daemon restarted mid-fetch), found FAILED_DOWNLOADING_VIDEO
    /// when resuming: a new container from the same bytes. (Failed while the attempt waits is the
    /// conformance suite's retryable processing case.)
    @Test func aFetchFoundFailedWhenResumingMakesANewContainer() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 2 * Self.mib, faults: .init(failFetches: 1))
        try await stopping(rig.server) {
            struct Crash: Error {}
            let cps = CheckpointLog()
            var m = Self.meta
            m.title = "again"
            await #expect(throws: Crash.self) {
                _ = try await rig.deliver(
                    m,
                    checkpoint: { cp in
                        cps.add(cp); throw Crash()
                    })
            }
            let saved = try #require(cps.all.last)
            _ = try await rig.deliver(m, session: saved.session, offset: saved.confirmedOffset)
            #expect(await rig.state.requestCounts["threads.container"] == 2)
            #expect(await rig.state.requestCounts["threads.publish"] == 1)
            #expect(await rig.state.allVideos().first?.sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
        }
    }

    @Test func textIsCountedAsThreadsCountsItWithEmojiAsTheirBytes() async throws {
        #expect(ThreadsText.length("hello") == 5)
        #expect(ThreadsText.length("日本語") == 3)
        #expect(ThreadsText.length("👍") == 4)
        #expect(ThreadsText.length("👍🏽") == 8)
        #expect(ThreadsText.length("👨‍👩‍👧") == 18)
        #expect(ThreadsText.length("❤️") == 6)
        #expect(ThreadsText.length("café #1") == 7)
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib)
        try await stopping(rig.server) {
            // 450 characters with 20 emoji: 450 as characters, 510 as Threads counts — refused at validation.
            var m = Self.meta
            m.title = String(repeating: "a", count: 430) + String(repeating: "🎬", count: 20)
            m.description = ""
            m.tags = []
            #expect(m.title.count == 450)
            #expect(rig.adapter.preflight(m)?.code == .textTooLong)
            // And Threads itself refuses it, had validation let it through.
            do {
                _ = try await rig.deliver(m)
                Issue.record("Threads took 510 of its 500")
            } catch let e as DeliveryError {
                #expect(e.kind == .permanent && e.httpStatus == 400)
            }
            m.title = String(repeating: "a", count: 420) + String(repeating: "🎬", count: 20)
            #expect(rig.adapter.preflight(m) == nil)
            _ = try await rig.deliver(m)
            #expect(await rig.state.allVideos().count == 1)
        }
    }

    @Test func theLongLivedTokenIsRefreshedOnlyNearItsEndAndTooNewIsNotRevoked() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib)
        try await stopping(rig.server) {
            // The first use: the configured token (old enough) is refreshed into a new 60-day one.
            _ = try await rig.deliver(Self.meta)
            #expect(await rig.state.requestCounts["threads.token"] == 1)
            let adapter = rig.adapter as! ThreadsAdapter
            let account = adapter.settings.account
            // A daemon start and its account check: the stored token has 60 days left, so it is not refreshed.
            let restarted = TokenProvider(account: account, http: HTTPClient.shared, store: rig.store)
            await restarted.invalidate()
            let kept = try await restarted.accessToken()
            #expect(kept == rig.store.refreshToken)
            #expect(await rig.state.requestCounts["threads.token"] == 1)
            // Near its end (as the store says) but less than a day old (as Threads says): the account check
            // asks for a refresh, Threads refuses it — and the token, still valid, goes on posting; nothing
            // is called revoked.
            let stored = try await rig.store.load(account: account.key)
            try await rig.store.save(account: account.key, accessToken: stored.accessToken!, expiresAt: Date().addingTimeInterval(2 * 86400), refreshToken: stored.refreshToken)
            var settings = adapter.settings
            settings.tokens = TokenProvider(account: account, http: HTTPClient.shared, store: rig.store)
            await settings.tokens.invalidate()
            #expect(try await settings.tokens.accessToken() == stored.accessToken)
            let nearEnd = ThreadsAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
            var m = Self.meta
            m.title = "near its end"
            _ = try await nearEnd.deliver(rig.job(m), checkpoint: { _ in }, progress: { _, _ in })
            #expect(await rig.state.requestCounts["threads.token"] == 2)
            #expect(rig.store.refreshToken == stored.refreshToken)
            // A day later it is old enough: refreshed into a new one, stored.
            await rig.state.ageThreadsTokens(by: 86400 + 60)
            settings.tokens = TokenProvider(account: account, http: HTTPClient.shared, store: rig.store)
            await settings.tokens.invalidate()
            _ = try await settings.tokens.accessToken()
            #expect(await rig.state.requestCounts["threads.token"] == 3)
            #expect(rig.store.refreshToken != stored.refreshToken && rig.store.refreshToken?.hasPrefix("THAA") == true)
            // A token really revoked is said so by the API: auth_revoked.
            await rig.state.revoke(account: "threads:brand")
            m.title = "revoked"
            do {
                _ = try await ThreadsAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
                    .deliver(rig.job(m), checkpoint: { _ in }, progress: { _, _ in })
                Issue.record("a revoked token went unnoticed")
            } catch let e as DeliveryError {
                #expect(e.kind == .reauthenticate && e.code == .authRevoked, "\(e)")
            }
            #expect(await rig.state.allVideos().count == 2)
        }
    }

    @Test func aPipelineInSandboxModeHostsTheMediaItself() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, threads:brand", clip: try Clips.make(width: 540, height: 960, seconds: 3.3), stem: "t", sidecar: "title: threaded\nprivacy: public\n"
        ) { p, _ in
            #expect(Set(await p.sandbox!.state.allVideos().map(\.platform)) == ["youtube", "threads"])
        }
    }

    /// A load balancer in front of the media host's bucket answers its PUT with a redirect: nothing goes
    /// where it points. A 303/308 is the pipeline's setup to fix (`config_invalid`), in one sentence whose
    /// one instruction is media_host's endpoint — not the account's, not "bucket, region and keys" beside
    /// it; a 307 is tried again (`retry_now`, as the PUT streams the file and is not sent twice at once).
    /// Threads is never asked for a container.
    @Test(arguments: [303, 307, 308])
    func aRedirectedMediaHostPutSaysToCheckMediaHostsEndpoint(_ status: Int) async throws {
        let dir = try TempDir()
        let elsewhere = try CountingListener()
        let target = "http://127.0.0.1:\(elsewhere.port)/moved"
        let rig = try await setUp(dir, size: 2 * Self.mib, faults: .init(redirectChunks: ["\(status) \(target)?sig=secret"]), http: UploadRedirect.shared)
        try await stopping(rig.server) {
            let e = try await #require(throws: DeliveryError.self) { try await rig.deliver(Self.meta) }
            if status == 307 {
                #expect(e.kind == .retryNow && e.code == .platformError, "\(e)")
            } else {
                #expect(e.kind == .permanent && e.code == .configInvalid, "\(e)")
            }
            #expect(e.httpStatus == status && e.message.contains("redirecting it to \(target)") && !e.message.contains("secret"), "\(e.message)")
            #expect(e.message.contains("check media_host's endpoint"), "\(e.message)")
            #expect(
                !e.message.contains("the endpoint the account names") && !e.message.contains("account's endpoint")
                    && !e.message.contains("bucket, region and keys"), "\(e.message)")
            #expect(await rig.state.requestCounts["s3.put", default: 0] == 1)
            #expect(await rig.state.requestCounts["threads.container", default: 0] == 0)
        }
        #expect(elsewhere.connections == 0, "the media host's PUT went where the redirect pointed")
    }
}

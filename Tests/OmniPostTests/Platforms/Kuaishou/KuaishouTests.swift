import AsyncHTTPClient
import Foundation
import NIOCore
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Kuaishou through its sandbox: what is particular to it (the shared scenarios are `ConformanceTests`).
@Suite struct KuaishouTests {
    static let mib: Int64 = 1_048_576
    static let meta = PublishMetadata(title: "快手第一条", description: "由 OmniPost 发布", tags: ["测试"], privacy: .public, publishAt: nil, options: [:])

    func setUp(_ dir: TempDir, size: Int64, chunk: Int64 = 4 * 1_048_576) async throws -> (PlatformRig, URL) {
        let rig = try await PlatformRig.make(KuaishouPlatform.self, dir, size: size, chunkSize: chunk)
        let cover = dir.file("cover.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 3, count: 2000)).write(to: cover)
        return (rig, cover)
    }

    func job(_ rig: PlatformRig, _ cover: URL, _ meta: PublishMetadata = Self.meta) -> UploadJob {
        var j = rig.job(meta)
        j.coverPath = cover.path
        return j
    }

    @Test func aSmallFileGoesInOneRequestAndTheWorkCarriesItsCaptionAndCover() async throws {
        let dir = try TempDir()
        let (rig, cover) = try await setUp(dir, size: 3 * Self.mib)
        try await stopping(rig.server) {
            let out = try await rig.adapter.deliver(job(rig, cover), checkpoint: { _ in }, progress: { _, _ in })
            let counts = await rig.state.requestCounts
            #expect(counts["kuaishou.upload"] == 1 && counts["kuaishou.fragment"] == nil && counts["kuaishou.complete"] == nil)
            let w = try #require(await rig.state.kuaishouWorks(of: "kuaishou:brand").first)
            // The caption as the profile makes it: title, description, then the tags as #topics.
            #expect(w.caption == "快手第一条\n由 OmniPost 发布\n#测试", "\(w.caption)")
            // The publish is asynchronous: the list shows the work a moment later, read until it does.
            #expect(out.remoteId == w.id && counts["kuaishou.publish"] == 1 && (1...3).contains(counts["kuaishou.list"] ?? 0), "\(counts)")
            #expect(await rig.state.allVideos().first?.sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
        }
    }

    @Test func aLargerFileGoesInFragmentsFromZeroCompletedWithTheirCount() async throws {
        let dir = try TempDir()
        let (rig, cover) = try await setUp(dir, size: 9 * Self.mib + 5)
        try await stopping(rig.server) {
            _ = try await rig.adapter.deliver(job(rig, cover), checkpoint: { _ in }, progress: { _, _ in })
            let counts = await rig.state.requestCounts
            #expect(counts["kuaishou.fragment"] == 3 && counts["kuaishou.complete"] == 1 && counts["kuaishou.publish"] == 1)
            #expect(await rig.state.allVideos().first?.sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
        }
    }

    /// After a restart the gateway is asked (断点续传) which fragments it holds, in order from 0: a gap
    /// means the fragments after it are sent again, whatever the ledger remembered.
    @Test func aRestartAsksTheGatewayWhichFragmentsItHolds() async throws {
        let dir = try TempDir()
        let (rig, cover) = try await setUp(dir, size: 9 * Self.mib + 5)
        try await stopping(rig.server) {
            let a = try #require(rig.adapter as? KuaishouAdapter)
            let j = job(rig, cover)
            let s = try await a.start(j, ())
            guard case .partial(let none) = try await a.reconcile(s, j) else { Issue.record("a fresh upload is not partial"); return }
            #expect(none == 0)
            for id in [0, 1, 3] { try await rig.state.storeKuaishouFragment(s.uploadToken, id: id, bytes: Data(count: Int(s.partSize))) }
            guard case .partial(let held) = try await a.reconcile(s, j) else { Issue.record("an upload under way is not partial"); return }
            #expect(held == 2 * s.partSize)
            #expect(await rig.state.requestCounts["kuaishou.resume"] == 2)
            // An upload token the gateway forgot never became a work: started afresh.
            await rig.state.forgetKuaishouUploads()
            guard case .notStarted = try await a.reconcile(s, j) else { Issue.record("a forgotten upload token is not notStarted"); return }
        }
    }

    @Test func theSandboxHoldsTheGatewayAndPublishRulesAsKuaishouDocumentsThem() async throws {
        let dir = try TempDir()
        let state = SandboxState(root: dir.url)
        let u = try await state.startKuaishouUpload(account: "kuaishou:brand")
        try await state.storeKuaishouFragment(u.token, id: 0, bytes: Data(count: 100))
        try await state.storeKuaishouFragment(u.token, id: 2, bytes: Data(count: 10))
        #expect(try await state.completeKuaishouUpload(u.token, count: 3)?.contains("fragments 1 are missing") == true)
        #expect(try await state.completeKuaishouUpload(u.token, count: 1)?.contains("is not the 2 fragments") == true)
        #expect(await state.kuaishouResumeIndex(u.token) == 0)
        // A publish before the upload is whole is Kuaishou's 120002; a second publish of one token is refused.
        guard case .failure(.invalid(let early, _)) = try await state.publishKuaishou(account: "kuaishou:brand", token: u.token, caption: "c", cover: "x")
        else { Issue.record("a publish before complete was taken"); return }
        #expect(early == 120_002)
        try await state.storeKuaishouFragment(u.token, id: 1, bytes: Data(count: 100))
        #expect(try await state.completeKuaishouUpload(u.token, count: 3) == nil)
        guard case .success = try await state.publishKuaishou(account: "kuaishou:brand", token: u.token, caption: "c", cover: "x") else {
            Issue.record("a complete upload was not published"); return
        }
        guard case .failure(.invalid(let twice, _)) = try await state.publishKuaishou(account: "kuaishou:brand", token: u.token, caption: "c", cover: "x")
        else { Issue.record("an upload token made two works"); return }
        let works = await state.kuaishouWorks(of: "kuaishou:brand")
        #expect(twice == 100_400 && works.count == 1)
    }

    /// A rig whose adapter looks for a work (`listWindow`) and settles a lost publish (`settleWindow`) briefly.
    func quickRig(_ dir: TempDir, faults: SandboxState.Faults = .init(), list: Duration = .milliseconds(300)) async throws -> (PlatformRig, URL) {
        let rig = try await PlatformRig.make(KuaishouPlatform.self, dir, size: 2 * Self.mib, faults: faults) {
            var a = KuaishouAdapter($0)
            a.listWindow = list
            a.settleWindow = .milliseconds(400)
            a.poll = PollPolicy(first: .milliseconds(50), max: .milliseconds(100), perMinute: 6000)
            return a
        }
        let cover = dir.file("cover.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 3, count: 2000)).write(to: cover)
        return (rig, cover)
    }

    /// The publish answered with a work the list does not show yet (Kuaishou publishes asynchronously): the
    /// work is recorded by its id, published once — never retried into a second publish of the spent token,
    /// which Kuaishou refuses (and which failed a work that existed). A restart from its checkpoint finds it
    /// by that id without publishing.
    @Test func aWorkTheListDoesNotShowYetIsRecordedByItsIdAndNeverPublishedAgain() async throws {
        let dir = try TempDir()
        let (rig, cover) = try await quickRig(dir, faults: .init(processingMs: 60_000))
        try await stopping(rig.server) {
            let cps = CheckpointLog()
            let out = try await rig.adapter.deliver(job(rig, cover), checkpoint: { cps.add($0) }, progress: { _, _ in })
            let w = try #require(await rig.state.kuaishouWorks(of: "kuaishou:brand").first)
            #expect(out.remoteId == w.id && out.url.hasSuffix("/kuaishou/work/\(w.id)"))
            #expect(await rig.state.requestCounts["kuaishou.publish"] == 1)
            let sent = try #require(cps.all.compactMap { KuaishouAdapter.Session(persisted: $0.session) }.first { $0.publishSentAt != nil })
            #expect(sent.photoId == nil, "that the publish left is durable before it leaves")
            let answered = try #require(cps.all.last.flatMap { KuaishouAdapter.Session(persisted: $0.session) })
            #expect(answered.photoId == w.id, "the work's id is durable once answered")
            let again = try await rig.adapter.deliver(
                rig.job(Self.meta, session: cps.all.last?.session, offset: rig.size), checkpoint: { _ in }, progress: { _, _ in })
            #expect(again.remoteId == w.id && again.reconciled)
            #expect(await rig.state.requestCounts["kuaishou.publish"] == 1)
        }
    }

    /// A publish that left and never arrived (its answer lost): the list is read for its caption until the
    /// settle window passes, then a person is asked — no second publish. The person's retry, having looked,
    /// uploads and publishes it anew, once (settling the same session again would be a retry that goes nowhere).
    @Test func aLostPublishAsksAPersonAndTheirRetryPublishesOnce() async throws {
        let dir = try TempDir()
        let (rig, cover) = try await quickRig(dir)
        try await stopping(rig.server) {
            struct Crash: Error {}
            let cps = CheckpointLog()
            await #expect(throws: Crash.self) {
                _ = try await rig.adapter.deliver(
                    job(rig, cover),
                    checkpoint: { cp in
                        cps.add(cp)
                        // Killed as the publish leaves: it never reached Kuaishou.
                        if KuaishouAdapter.Session(persisted: cp.session)?.publishSentAt != nil { throw Crash() }
                    }, progress: { _, _ in })
            }
            let lost = try #require(cps.all.last?.session)
            var resumed = job(rig, cover)
            resumed.session = lost
            resumed.confirmedOffset = rig.size
            let e = await #expect(throws: DeliveryError.self) { _ = try await rig.adapter.deliver(resumed, checkpoint: { _ in }, progress: { _, _ in }) }
            #expect(e?.kind == .permanent && e?.code == .uncertainPost, "\(String(describing: e))")
            #expect(await rig.state.requestCounts["kuaishou.publish"] == nil, "not published again")
            var retried = resumed
            retried.sessionReuse = .replaceIfFailed
            let out = try await rig.adapter.deliver(retried, checkpoint: { _ in }, progress: { _, _ in })
            let counts = await rig.state.requestCounts
            #expect(counts["kuaishou.publish"] == 1 && counts["kuaishou.start"] == 2, "\(counts)")
            #expect(out.replacedSession?.contains("uncertain_post") == true && !out.reconciled, "\(out)")
            #expect(await rig.state.kuaishouWorks(of: "kuaishou:brand").count == 1)
        }
    }

    /// Over HTTP: `api/upload` takes the bytes as the body, never a multipart form (the docs' warning),
    /// and a publish without a cover is refused before anything is made.
    @Test func aMultipartBodyAtApiUploadAndAPublishWithoutACoverAreRefused() async throws {
        let dir = try TempDir()
        let (rig, _) = try await setUp(dir, size: 1 * Self.mib)
        try await stopping(rig.server) {
            let a = try #require(rig.adapter as? KuaishouAdapter)
            let s = try await a.start(rig.job(Self.meta), ())
            var form = MultipartForm()
            form.file("file", filename: "v.mp4", contentType: "video/mp4", ByteBuffer(string: "bytes"))
            let r = try await a.api.send(url: a.gateway(s, nil), method: .POST, headers: [("Content-Type", form.contentType)], body: form.body, authorize: false)
            #expect(KuaishouErrors.code(r) == 100_400 && KuaishouAdapter.message(r).contains("no multipart"))
            var bare = MultipartForm()
            bare.field("caption", "no cover")
            let p = try await a.api.send(
                url: a.url("photo/publish", [("upload_token", s.uploadToken)]), method: .POST, headers: [("Content-Type", bare.contentType)], body: bare.body)
            #expect(KuaishouErrors.code(p) == 100_400 && KuaishouAdapter.message(p).contains("cover is required"))
            #expect(await rig.state.kuaishouWorks(of: "kuaishou:brand").isEmpty)
        }
    }

    /// `result` decides, not HTTP's 200: each row of the table leads where Kuaishou says.
    @Test func resultCodesAreClassifiedFromTheTable() throws {
        func reply(_ code: Int, status: Int = 200) -> AuthorizedHTTP.Reply {
            AuthorizedHTTP.Reply(status: status, headers: [:], body: Data(#"{"result":\#(code),"error_msg":"m"}"#.utf8))
        }
        #expect(KuaishouErrors.refusesToken(reply(100_200_108)) && KuaishouErrors.refusesToken(reply(100_200_102)))
        #expect(!KuaishouErrors.refusesToken(reply(1)) && KuaishouErrors.code(reply(1)) == nil)
        #expect(KuaishouAdapter.classify(reply(100_200_109), during: "t").code == .authRevoked)
        #expect(KuaishouAdapter.classify(reply(100_200_500), during: "t").kind == .retryNow)
        #expect(KuaishouAdapter.classify(reply(120_003), during: "t").kind == .retryNow)
        let bad = KuaishouAdapter.classify(reply(120_002), during: "publishing")
        #expect(bad.kind == .permanent && bad.message.contains("120002") && bad.message.contains("not uploaded successfully"))
        #expect(KuaishouAdapter.classify(reply(0, status: 503), during: "t").kind == .retryNow)
        #expect(KuaishouErrors.deadGrants.isSuperset(of: ["100200113", "100200109", "100200102"]) && !KuaishouErrors.deadGrants.contains("100200500"))
    }

    /// `accounts add kuaishou:main`: the code exchanged by a GET with app_id and app_secret in the query,
    /// the grant's open_id shown and used; the refresh (a GET too) hands out a new refresh token.
    @Test(.timeLimit(.minutes(2))) func anAccountConnectsWithTheCodeInAQueryAndItsOpenIdIsShown() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        try await stopping(s) {
            await s.registerAccount(platform: "kuaishou", name: "console", clientID: "ks-app", clientSecret: "ks-secret", refreshToken: "console-ks")
            let text =
                "version: 1\nroot: \(dir.url.path)/p\ntargets: [kuaishou:main]\naccounts:\n"
                + "  kuaishou:main: {client_id: ks-app, client_secret: ks-secret, endpoint: \"\(s.baseURL)\", token_url: \"\(s.baseURL)/kuaishou/oauth2/access_token\", authorize_url: \"\(s.baseURL)/sandbox/oauth/kuaishou/authorize\"}\n"
            let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: dir.url)
            let said = AccountConnectTests.Said()
            let c = AccountConnector(config: config, key: "kuaishou:main", http: HTTPClient.shared, embedding: TestPipelines.embedding)
            let who = try await c.connect(mode: .loopback(timeout: .seconds(20))) { line in
                said.add(line)
                if let url = AccountConnectTests.Said.url(in: line) { Task { try? await AccountConnectTests.browse(url) } }
            }
            #expect(said.text.contains("app_id=ks-app") && said.text.contains("scope=user_info%2Cuser_video_publish%2Cuser_video_info"))
            #expect(who?.id == "ks-open-sandbox-user" && said.text.contains("open_id ks-open-sandbox-user"), "\(said.text)")
            #expect(await s.state.requestCounts["kuaishou.token"] == 1)
            // The daemon's refresh: a GET, and the rotated refresh token kept.
            let ledger = try Ledger(path: config.paths.ledger.path)
            let account = try #require(config.accounts["kuaishou:main"])
            let store = LedgerTokenStore(ledger: ledger, sealer: try Pipeline.sealer(config))
            let before = try await store.load(account: "kuaishou:main").refreshToken
            let tokens = TokenProvider(account: account, http: HTTPClient.shared, store: store)
            await tokens.invalidate()
            _ = try await tokens.accessToken()
            #expect(await s.state.requestCounts["kuaishou.refresh"] == 1)
            let after = try await store.load(account: "kuaishou:main").refreshToken
            #expect(after != nil && after != before)
        }
    }

    @Test func aPipelinePublishesToKuaishouWithAFrameAsItsCover() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "kuaishou:brand", clip: try Clips.make(width: 540, height: 960, seconds: 2), stem: "ks",
            sidecar: "title: 快手第一条\nprivacy: public\ntags: [omnipost]\n"
        ) { p, deliveries in
            let w = try #require(await p.sandbox!.state.kuaishouWorks(of: "kuaishou:brand").first)
            #expect(w.caption == "快手第一条\n#omnipost" && deliveries.first?.remoteId == w.id)
        }
    }
}

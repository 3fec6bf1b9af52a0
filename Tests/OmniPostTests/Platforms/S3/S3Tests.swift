import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostLedger
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// The S3 target against moto's S3 server (an implementation independent of ours) and against the
/// sandbox's S3 (for faults moto cannot inject): multipart parts sized from the file, a cut resumed
/// by ListParts without re-sending a part, an uncertain completion settled by HEAD, abort, refusals
/// classified, settings checked at their lines.
@Suite(.serialized) struct S3Tests {
    static let meta = PublishMetadata(title: "t", description: "d", tags: [], privacy: .private, publishAt: nil, options: [:])

    static func adapter(
        endpoint: String, bucket: String, extra: String = "", chunk: Int64 = 5 << 20, sandbox: Bool = false, http: HTTPClient = .shared
    ) throws -> any PlatformAdapter {
        let text = """
            version: 1
            root: /tmp/omnipost-s3-unused
            sandbox: none
            targets: [s3:archive]
            accounts:
              s3:archive: {endpoint: "\(endpoint)", bucket: \(bucket), region: us-east-1, access_key_id: \(sandbox ? "AKIDS3" : "moto"), secret_access_key: \(sandbox ? "s3-secret" : "moto")\(extra)}
            """
        let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        let account = try #require(config.accounts["s3:archive"])
        let settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: http, store: MemoryTokenStore()),
            http: http, uploads: TestTLS.uploads(beside: http), chunkSize: chunk, backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)))
        return PlatformRegistry.makeAdapter(platform: "s3", settings: settings)!
    }

    static func file(_ dir: TempDir, size: Int, seed: Int = 5) throws -> URL {
        let f = dir.file("clip-\(seed).mp4")
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 12 &+ seed) }).write(to: f)
        return f
    }

    static func job(_ f: URL, session: String? = nil, offset: Int64 = 0) throws -> UploadJob {
        let size = try #require(try FileManager.default.attributesOfItem(atPath: f.path)[.size] as? Int64)
        var j = UploadJob(deliveryId: 3, filePath: f.path, size: size, metadata: meta, session: session, confirmedOffset: offset)
        j.expectedSha256 = try FileHashing.sha256(path: f.path).hex
        j.drop = DropFacts(dropId: "drop-9", target: "s3:archive", stem: "walk", source: "walk.mp4", takenAt: Date(timeIntervalSince1970: 1_790_000_000))
        return j
    }

    static func bucketName() -> String { "omni-" + UUID().uuidString.prefix(8).lowercased() }

    @Test(.enabled(if: MotoServer.available), .timeLimit(.minutes(3)))
    func aGoodUploadLandsWithItsKeyClassAndMetadata() async throws {
        let moto = try MotoServer.shared()
        let name = Self.bucketName()
        let b = try await moto.bucket(name)
        let dir = try TempDir()
        let f = try Self.file(dir, size: 12 << 20 + 4321)
        let a = try Self.adapter(
            endpoint: moto.endpoint, bucket: name,
            extra: ", key: \"clips/{year}/{stem}-{sha8}.{ext}\", storage_class: STANDARD_IA, metadata: {team: video, source-tool: omnipost}")
        let job = try Self.job(f)
        let parts = CheckpointLog()
        let out = try await a.deliver(job, checkpoint: { parts.add($0) }, progress: { _, _ in })
        let year = Calendar.current.component(.year, from: job.drop!.takenAt)
        #expect(out.remoteId == "clips/\(year)/walk-\(job.expectedSha256!.prefix(8)).mp4")
        #expect(out.url == "\(moto.endpoint)/\(name)/\(out.remoteId)")
        #expect(out.bytesSent == job.size)
        // 5 MiB parts: 3 of them, each checkpointed after S3 confirmed it.
        #expect(parts.all.map(\.confirmedOffset) == [0, 5 << 20, 10 << 20, job.size])
        let h = try #require(try await b.head(out.remoteId))
        #expect(h.first(name: "x-amz-meta-omnipost-sha256") == job.expectedSha256)
        #expect(h.first(name: "x-amz-meta-team") == "video" && h.first(name: "x-amz-meta-source-tool") == "omnipost")
        #expect(h.first(name: "x-amz-meta-omnipost-drop") == "drop-9")
        #expect(h.first(name: "x-amz-storage-class") == "STANDARD_IA")
        #expect(h.first(name: "content-type") == "video/mp4")
        #expect(FileHashing.sha256(data: try await b.get(out.remoteId)) == job.expectedSha256)
        // The same rendition again (a re-dropped clip): found, nothing sent.
        let again = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in })
        #expect(again.reconciled && again.bytesSent == 0 && again.remoteId == out.remoteId)
        #expect(try await b.keys().count == 1)
    }

    /// Against moto, an independent S3: a completion whose reply was lost (every part sent, moto made the
    /// object) is found by HEAD; and a key another rendition holds is never overwritten.
    @Test(.enabled(if: MotoServer.available), .timeLimit(.minutes(3)))
    func anUncertainCompletionIsFoundByHeadAndATakenKeyIsNeverOverwritten() async throws {
        let moto = try MotoServer.shared()
        let name = Self.bucketName()
        let b = try await moto.bucket(name)
        let dir = try TempDir()
        let a = try Self.adapter(endpoint: moto.endpoint, bucket: name)
        _ = try await a.deliver(try Self.job(try Self.file(dir, size: 1 << 20)), checkpoint: { _ in }, progress: { _, _ in })
        // Every part sent, CompleteMultipartUpload reached S3, its reply was lost.
        let f2 = try Self.file(dir, size: 6 << 20, seed: 8)
        let seen2 = try await interrupted {
            try await a.deliver(try Self.job(f2), checkpoint: $0, progress: { _, _ in })
        } at: {
            $0.confirmedOffset == 6 << 20
        }
        let s = try JSONDecoder().decode(S3Adapter.Session.self, from: Data(try #require(seen2.last?.session).utf8))
        let held = try #require(try await b.listParts(s.key, uploadId: s.uploadId))
        _ = try await b.completeMultipartUpload(s.key, uploadId: s.uploadId, parts: held)
        let settled = try await a.deliver(try Self.job(f2, session: seen2.last?.session, offset: 6 << 20), checkpoint: { _ in }, progress: { _, _ in })
        #expect(settled.reconciled && settled.bytesSent == 0)
        #expect(settled.remoteId == "walk-\((try Self.job(f2)).expectedSha256!.prefix(8)).mp4", "the first file's key was taken by other bytes")
        #expect(Set(try await b.keys()) == ["walk.mp4", settled.remoteId], "one object per rendition, none overwritten")
    }

    @Test(.enabled(if: MotoServer.available), .timeLimit(.minutes(3)))
    func aCancelAbortsAndRefusalsAreClassified() async throws {
        let moto = try MotoServer.shared()
        let name = Self.bucketName()
        let b = try await moto.bucket(name)
        let dir = try TempDir()
        let f = try Self.file(dir, size: 11 << 20)
        let a = try Self.adapter(endpoint: moto.endpoint, bucket: name)
        let seen = try await interrupted {
            try await a.deliver(try Self.job(f), checkpoint: $0, progress: { _, _ in })
        } at: {
            $0.confirmedOffset > 0
        }
        let session = try #require(seen.last?.session)
        let s = try JSONDecoder().decode(S3Adapter.Session.self, from: Data(session.utf8))
        #expect(try await b.listParts(s.key, uploadId: s.uploadId)?.count == 1)
        #expect(try await a.abandon(try Self.job(f, session: session, offset: 5 << 20)) == true)
        #expect(try await b.listParts(s.key, uploadId: s.uploadId) == nil, "the upload and its parts are gone")
        #expect(try await b.keys().isEmpty)
        // A bucket that does not exist: permanent, said so.
        let missing = try Self.adapter(endpoint: moto.endpoint, bucket: "no-such-bucket-\(UUID().uuidString.prefix(6).lowercased())")
        let e = await #expect(throws: DeliveryError.self) { _ = try await missing.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in }) }
        #expect(e?.kind == .permanent && e?.message.contains("does not exist") == true, "\(String(describing: e))")
    }

    /// `omnipost cancel` on a delivery whose S3 upload is half done: the upload is aborted (its parts
    /// freed) and the delivery cancelled; on YouTube, whose session may be a post, it is still refused.
    @Test(.enabled(if: MotoServer.available), .timeLimit(.minutes(3)))
    func cancellingAHalfDoneUploadAbortsIt() async throws {
        let moto = try MotoServer.shared()
        let name = Self.bucketName()
        let b = try await moto.bucket(name)
        let dir = try TempDir()
        let f = try Self.file(dir, size: 11 << 20)
        let config = try PlatformRegistry.parse(
            text: """
                version: 1
                root: \(dir.url.path)/p
                sandbox: none
                targets: [s3:archive, youtube:main]
                accounts:
                  s3:archive: {endpoint: "\(moto.endpoint)", bucket: \(name), region: us-east-1, access_key_id: moto, secret_access_key: moto}
                  youtube:main: {client_id: c, client_secret: s, refresh_token: r, endpoint: "http://127.0.0.1:9"}
                """, file: "p.yaml", baseDirectory: dir.url)
        try config.paths.createAll()
        let ledger = try Ledger(path: config.paths.ledger.path)
        let adapters = try Pipeline.makeAdapters(config: config, ledger: ledger, http: HTTPClient.shared)
        // Half an upload, as a killed daemon leaves it: the session checkpointed, one part held by S3.
        let s3Adapter = try #require(adapters["s3:archive"])
        let seen = try await interrupted {
            try await s3Adapter.deliver(try Self.job(f), checkpoint: $0, progress: { _, _ in })
        } at: {
            $0.confirmedOffset > 0
        }
        let session = try #require(seen.last?.session)
        let metaJSON = String(decoding: try JSONCoding.encoder().encode(Self.meta), as: UTF8.self)
        let sha = try FileHashing.sha256(path: f.path).hex
        try ledger.write { db, _ in
            var drop = DropRecord(id: "d1", pipeline: "p", stem: "walk", clipPath: "walk.mp4", sidecarPath: nil, now: 1)
            drop.state = .converted
            try drop.insert(db)
            for (target, platform) in [("s3:archive", "s3"), ("youtube:main", "youtube")] {
                var d = DeliveryRecord(
                    dropId: "d1", target: target, platform: platform, account: String(target.split(separator: ":")[1]), profile: "any",
                    state: .ready, plan: .pass, planDetail: nil, specKey: nil, metadataJson: metaJSON, contentSha256: sha, notBefore: nil, now: 1)
                d.renditionPath = f.path
                d.renditionBytes = 11 << 20
                d.renditionSha256 = sha
                d.remoteSession = platform == "s3" ? session : "https://upload.example/session"
                d.confirmedOffset = 5 << 20
                try d.insert(db)
            }
        }
        let control = QueueControl(config: config, ledger: ledger)
        let s3 = try #require(try ledger.deliveries(forDrop: "d1").first { $0.platform == "s3" })
        let lines = try await control.cancel(String(s3.id!), adapters: adapters)
        #expect(lines == ["delivery \(s3.id!) (s3:archive) cancelled; its upload on the platform was abandoned"])
        let s = try JSONDecoder().decode(S3Adapter.Session.self, from: Data(session.utf8))
        #expect(try await b.listParts(s.key, uploadId: s.uploadId) == nil, "aborted: its parts are freed")
        let after = try #require(try ledger.delivery(s3.id!))
        #expect(after.state == .cancelled && after.remoteSession == nil)
        // YouTube's adapter cannot say its session never became a video: refused, and not left held.
        let yt = try #require(try ledger.deliveries(forDrop: "d1").first { $0.platform == "youtube" })
        let e = await #expect(throws: OmniError.self) { _ = try await control.cancel(String(yt.id!), adapters: adapters) }
        #expect(e?.message.contains("may already be a post") == true)
        let ytAfter = try #require(try ledger.delivery(yt.id!))
        #expect(ytAfter.state == .ready && ytAfter.gate == nil && ytAfter.notBefore == nil)
    }

    /// A sidecar's `overrides: {s3: {key: …}}` names the object; a bad one is refused at validation.
    @Test func aSidecarsKeyOverrideNamesTheObject() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        try await stopping(s) {
            await s.state.registerS3(accessKeyID: "AKIDS3", secret: "s3-secret")
            let a = try Self.adapter(endpoint: s.baseURL + "/s3", bucket: "clips", sandbox: true)
            var job = try Self.job(try Self.file(dir, size: 2000))
            job.metadata.options["key"] = "specials/{year}/{stem}-final.{ext}"
            #expect(a.preflight(job.metadata) == nil)
            let out = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            #expect(out.remoteId == "specials/\(Calendar.current.component(.year, from: job.drop!.takenAt))/walk-final.mp4")
            var bad = Self.meta
            bad.options["key"] = "../{stem}.mp4"
            #expect(a.preflight(bad)?.message.contains("overrides.s3.key") == true)
        }
    }

    @Test func virtualHostAndPathStyleAddressTheSameObject() throws {
        var c = MediaHostConfig.S3(
            endpoint: "https://s3.eu-central-1.amazonaws.com", bucket: "clips", region: "eu-central-1",
            accessKeyID: "k", secretAccessKey: "s", prefix: "")
        #expect(S3Bucket(c, http: .shared).objectURL("a b/c.mp4") == "https://s3.eu-central-1.amazonaws.com/clips/a%20b/c.mp4")
        c.pathStyle = false
        #expect(S3Bucket(c, http: .shared).objectURL("a b/c.mp4") == "https://clips.s3.eu-central-1.amazonaws.com/a%20b/c.mp4")
        // AWS is addressed virtual-host style unless `path_style: true`; others path style.
        let aws = try Self.adapter(endpoint: "https://s3.eu-central-1.amazonaws.com", bucket: "clips") as! S3Adapter
        #expect(aws.bucket.config.pathStyle == false)
        let minio = try Self.adapter(endpoint: "http://nas.local:9000", bucket: "clips") as! S3Adapter
        #expect(minio.bucket.config.pathStyle == true)
        // Parts: 8 MiB asked, at least 5 MiB, never more than 10,000 of them.
        #expect(minio.partSize(100 << 20) == 5 << 20)
        #expect(minio.partSize(100 << 30) == 11 << 20)
    }

    /// The chunk loop reads the part after the one travelling (`partAfter`): for S3, whose parts are
    /// named by what it holds, that is the next part it does not hold whole — never the travelling part
    /// again (no read-ahead at all, each part read only after the one before was answered).
    @Test func thePartReadAheadIsTheNextOneS3DoesNotHold() throws {
        let minio = try Self.adapter(endpoint: "http://nas.local:9000", bucket: "clips") as! S3Adapter
        let parts = minio.transport
        let mib: Int64 = 1 << 20
        let size = 5 * 5 * mib + 1234
        var s = S3Adapter.Session(key: "k", uploadId: "u", partSize: 5 * mib)
        let first = try #require(parts.nextPart(of: s, confirmed: 0, size: size))
        #expect(first.index == 0)
        #expect(parts.partAfter(first, of: s, size: size) == Part(index: 1, offset: 5 * mib, length: 5 * mib))
        // Parts 2 and 3 held (a resume): after part 1 comes part 4; the last part is the rest; none after it.
        s.parts = [S3Bucket.Part(number: 3, etag: "c", size: 5 * mib), S3Bucket.Part(number: 2, etag: "b", size: 5 * mib)]
        #expect(parts.partAfter(first, of: s, size: size) == Part(index: 3, offset: 15 * mib, length: 5 * mib))
        let last = Part(index: 5, offset: 25 * mib, length: 1234)
        #expect(parts.partAfter(Part(index: 4, offset: 20 * mib, length: 5 * mib), of: s, size: size) == last)
        #expect(parts.partAfter(last, of: s, size: size) == nil)
    }

    @Test func settingsAreCheckedAtTheirLines() throws {
        func check(_ lines: String, sandbox: String = "none") -> OmniError? { AccountChecks.problem("s3:archive", lines, sandbox: sandbox) }
        let keys = "    access_key_id: k\n    secret_access_key: s\n"
        #expect(check("    bucket: Clips_2026\n    region: us-east-1\n" + keys)?.message.contains("only lowercase letters") == true)
        #expect(check("    bucket: ab\n    region: us-east-1\n" + keys)?.message.contains("3 to 63") == true)
        #expect(check("    bucket: 192.168.1.10\n    region: us-east-1\n" + keys)?.message.contains("IP address") == true)
        let sc = check("    bucket: clips\n    region: us-east-1\n    storage_class: STANDARD_AI\n" + keys)
        #expect(sc?.message.contains("did you mean 'STANDARD_IA'?") == true && sc?.location?.line == 9, "\(String(describing: sc))")
        #expect(check("    bucket: clips\n" + keys)?.message.contains("needs `region`") == true)
        #expect(check("    bucket: clips\n    region: us-east-1\n")?.message.contains("needs `access_key_id`") == true)
        #expect(check("    bucket: clips\n    endpoint: nas:9000\n" + keys)?.message.contains("not an http(s) URL") == true)
        #expect(check("    bucket: clips\n    region: us-east-1\n    metadata: {\"bad key\": x}\n" + keys)?.message.contains("metadata key") == true)
        let typo = check("    buckt: clips\n    region: us-east-1\n" + keys)
        #expect(typo?.code == .unknownKey && typo?.message.contains("did you mean 'bucket'?") == true)
        #expect(check("    bucket: clips\n    region: auto\n    endpoint: https://acct.r2.cloudflarestorage.com\n    key: \"{date}/{stem}.{ext}\"\n" + keys) == nil)
        // In sandbox mode nothing is needed: the sandbox's S3 takes it.
        #expect(check("    {}\n", sandbox: "embedded") == nil)
    }

    /// Through the whole pipeline in sandbox mode: an `s3:` target with no settings stores into the
    /// sandbox's own S3.
    @Test(.timeLimit(.minutes(3))) func aPipelineInSandboxModeStoresIntoTheSandboxBucket() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(dir, targets: "youtube:main, s3:archive", sidecar: "title: a walk\n") { p, deliveries in
            let s3 = try #require(deliveries.first { $0.platform == "s3" })
            #expect(s3.remoteId == "walk.mp4" && s3.remoteUrl?.hasSuffix("/s3/omnipost-archive/walk.mp4") == true, "\(s3.remoteUrl ?? "")")
            #expect(await p.sandbox!.state.postCount(sha256: try #require(s3.renditionSha256)) == 2)  // YouTube's post and the stored copy
            // A bucket has keys, not a refresh token: `status` lists credentials for YouTube's account only.
            #expect(try p.context.ledger.tokenSummaries().map(\.account) == ["youtube:main"])
        }
    }
}

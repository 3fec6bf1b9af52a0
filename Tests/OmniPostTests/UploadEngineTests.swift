import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Synchronization
import Testing

/// The upload engine's own rules, through real adapters against their sandboxes: what every platform on
/// it gets without writing it again.
@Suite struct UploadEngineTests {
    static let mib: Int64 = 1_048_576
    static let meta = PublishMetadata(title: "engine", description: "one loop", tags: [], privacy: .public, publishAt: nil, options: [:])

    struct Crash: Error {}

    /// Every part held by an earlier attempt, then the file changed: a platform that assembles the
    /// object from parts held (LinkedIn's finalizeUpload, X's FINALIZE) is never asked to make it.
    @Test(arguments: ["linkedin", "x"])
    func aFileChangedAfterItsPartsWereHeldIsNeverFinalized(_ platform: String) async throws {
        let dir = try TempDir()
        let module: any PlatformModule.Type = platform == "x" ? XPlatform.self : LinkedInPlatform.self
        let rig = try await PlatformRig.make(module, dir, size: 9 * Self.mib) { settings in
            platform == "x"
                ? XAdapter(settings, defaultPollWait: .milliseconds(50)) as any PlatformAdapter
                : LinkedInAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
        }
        try await stopping(rig.server) {
            let sha = try FileHashing.sha256(path: rig.file.path).hex
            var job = rig.job(Self.meta)
            job.expectedSha256 = sha
            let cps = CheckpointLog()
            // The process dies right after the last part was confirmed, before the object was made.
            await #expect(throws: Crash.self) {
                _ = try await rig.adapter.deliver(
                    job,
                    checkpoint: { cp in
                        cps.add(cp); if cp.confirmedOffset == rig.size { throw Crash() }
                    }, progress: { _, _ in })
            }
            let saved = try #require(cps.all.last)
            #expect(saved.confirmedOffset == rig.size)
            // The clip is rewritten in place, same size, one byte different.
            let h = try FileHandle(forWritingTo: rig.file)
            try h.seek(toOffset: UInt64(4 * Self.mib + 3))
            try h.write(contentsOf: Data([0xEE]))
            try h.close()
            job.session = saved.session
            job.confirmedOffset = saved.confirmedOffset
            let e = try await #require(throws: DeliveryError.self) {
                _ = try await rig.adapter.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            }
            #expect(e.code == .sourceChanged && e.kind == .permanent, "\(e)")
            #expect(await rig.state.requestCounts["\(platform).finalize", default: 0] == 0)
            #expect(await rig.state.allVideos().isEmpty)
        }
    }

    /// Every confirmed offset is on record before the next part is sent, in order, the last one before the
    /// platform is asked to make anything of the parts: TikTok takes chunks strictly in order and cannot be
    /// asked where an upload stands, so a resume is exact only if the ledger never lags the platform by more
    /// than the part in flight (r17 made the checkpoint beside the next part, and the conformance suite's
    /// restarts failed). Each checkpoint waits a moment before it counts the parts the sandbox has, so a
    /// next part already on its way would be counted.
    @Test func eachConfirmedPartIsOnRecordBeforeTheNextIsSent() async throws {
        let dir = try TempDir()
        let rig = try await PlatformRig.make(LinkedInPlatform.self, dir, size: 9 * Self.mib) { settings in
            LinkedInAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
        }
        try await stopping(rig.server) {
            let cps = CheckpointLog()
            let seen = CheckpointLog()
            let counts = Mutex<[(puts: Int, finalized: Int)]>([])
            let state = rig.state
            _ = try await rig.adapter.deliver(
                rig.job(Self.meta),
                checkpoint: { cp in
                    cps.add(cp)
                    guard !cp.durable else { return }
                    try await Task.sleep(for: .milliseconds(150))
                    let puts = await state.requestCounts["linkedin.put", default: 0]
                    let finalized = await state.requestCounts["linkedin.finalize", default: 0]
                    counts.withLock { $0.append((puts, finalized)) }
                    seen.add(cp)
                }, progress: { _, _ in })
            #expect(seen.all.map(\.confirmedOffset) == [4 * Self.mib, 8 * Self.mib, 9 * Self.mib], "every part's offset, once, in order")
            let c = counts.withLock { $0 }
            #expect(c.map(\.puts) == [1, 2, 3], "each part on record before the next is sent: \(c.map(\.puts))")
            #expect(c.allSatisfy { $0.finalized == 0 }, "the last part on record before finalizeUpload")
            #expect(await rig.state.allVideos().count == 1)
        }
    }

    /// A checkpoint that fails (the process dies there, or the ledger refuses it) ends the attempt there: no
    /// part goes out after a part that is not on record.
    @Test func aFailedCheckpointSendsNoPartAfterIt() async throws {
        let dir = try TempDir()
        let rig = try await PlatformRig.make(LinkedInPlatform.self, dir, size: 17 * Self.mib) { settings in
            LinkedInAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
        }
        try await stopping(rig.server) {
            let cps = try await interrupted({ checkpoint in
                try await rig.adapter.deliver(rig.job(Self.meta), checkpoint: checkpoint, progress: { _, _ in })
            }, at: { !$0.durable && $0.confirmedOffset == 4 * Self.mib })
            #expect(cps.last?.confirmedOffset == 4 * Self.mib)
            // Long enough for a part already on its way to have been counted.
            try await Task.sleep(for: .milliseconds(200))
            #expect(await rig.state.requestCounts["linkedin.put", default: 0] == 1)
            #expect(await rig.state.requestCounts["linkedin.finalize", default: 0] == 0)
        }
    }

    /// Sessions the ledger holds from before the engine read as they were written, and are written back
    /// the same: an upgrade never turns an in-flight session into "never started" (which would post twice).
    @Test func sessionsWrittenBeforeTheEngineStillResume() throws {
        let x = #"{"mediaID":"m1","mediaKey":"7_m1","segmentSize":4194304,"userID":"u","username":"n","phase":"posting","expiresAt":1700000000}"#
        #expect(XAdapter.Session(persisted: x)?.phase == .posting)
        let li = #"{"video":"urn:li:video:1","uploadToken":"t","owner":"urn:li:person:a","parts":[{"url":"u","first":0,"last":9,"etag":"e"}],"phase":"finalized"}"#
        #expect(LinkedInAdapter.Session(persisted: li)?.confirmed == 10)
        let ig = #"{"container":"c1","igUser":"17","phase":"processing"}"#
        let igSession = try #require(InstagramAdapter.Session(persisted: ig))
        #expect(igSession.phase == .finalized && igSession.persisted.contains(#""phase":"processing""#))
        #expect(InstagramAdapter.Session(persisted: #"{"container":"c1","igUser":"17","phase":"publishing"}"#)?.phase == .posting)
        #expect(InstagramAdapter.Session(persisted: #"{"container":"c1","igUser":"17","phase":"uploading"}"#)?.phase == .uploading)
        let th = #"{"container":"c2","phase":"publishing","user":"9"}"#
        let thSession = try #require(ThreadsAdapter.Session(persisted: th))
        #expect(thSession.phase == .posting && thSession.persisted.contains(#""phase":"publishing""#))
        let fb = try #require(FacebookAdapter.Session(persisted: #"{"video":"v","page":"p","phase":"finished"}"#))
        #expect(fb.phase == .posting && fb.persisted.contains(#""phase":"finishing""#) && !fb.persisted.contains("token"))
        let s3 = try #require(S3Adapter.Session(persisted: #"{"key":"a.mp4","uploadId":"u","partSize":5242880}"#))
        #expect(s3.parts == nil && s3.key == "a.mp4")
        #expect(YouTubeResumable.Session(persisted: "https://upload.example/session?id=1")?.persisted == "https://upload.example/session?id=1")
        #expect(TikTokAdapter.Session(persisted: #"{"publishID":"p","uploadURL":"u","chunkSize":5242880,"chunkCount":2}"#)?.chunkCount == 2)
        // Not a session of the platform: nothing to resume, never a crash.
        #expect(XAdapter.Session(persisted: "started") == nil)
    }

    /// Middleware runs in order around the verb, the first outermost, and can refuse it.
    @Test func middlewareWrapsEveryVerbInOrder() async throws {
        final class Trail: @unchecked Sendable {
            let lock = NSLock()
            var lines: [String] = []
            func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
        }
        struct Note: UploadMiddleware {
            let name: String
            let trail: Trail
            func handle<T: Sendable>(_ verb: UploadVerb, _ job: UploadJob, next: @Sendable () async throws -> T) async throws -> T {
                trail.add("\(name)>\(verb.rawValue)")
                defer { trail.add("\(name)<\(verb.rawValue)") }
                return try await next()
            }
        }
        let trail = Trail()
        let metered = Trail()
        var job = UploadJob(deliveryId: 1, filePath: "/dev/null", size: 0, metadata: Self.meta, session: nil, confirmedOffset: 0)
        job.beforeRequest = { metered.add($0) }
        let chain = MiddlewareChain(items: [Note(name: "a", trail: trail), MeterStart(), Note(name: "b", trail: trail)])
        let v = try await chain.run(.start, job) {
            trail.add("start"); return 7
        }
        #expect(v == 7)
        #expect(trail.lines == ["a>start", "b>start", "start", "b<start", "a<start"])
        #expect(metered.lines == ["init"])
        _ = try await chain.run(.part, job) { 0 }
        #expect(metered.lines == ["init"])
    }
}

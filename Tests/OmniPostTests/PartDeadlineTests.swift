import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// A part's time limit, kept by the process's one `DeadlineWatch` rather than a timer task per part
/// (docs/performance.md, r16): a stalled part is still stopped at its limit and reported as before, a
/// limit is a part's and not the upload's, cancelling the upload mid-part stops it at once, and the watch
/// itself cancels only what passed its deadline.
@Suite struct PartDeadlineTests {
    static let meta = PublishMetadata(title: "deadline", description: "", tags: [], privacy: .private, publishAt: nil, options: [:])
    /// YouTube's parts are multiples of 256 KiB: three parts.
    static let part: Int64 = 262_144

    static func rig(_ dir: TempDir, limit: Duration, attempts: Int = 10) async throws -> PlatformRig {
        try await PlatformRig.make(YouTubePlatform.self, dir, size: part * 3, chunkSize: part) { settings in
            var s = settings
            s.requestTimeout = .seconds(60)
            s.verbTimeout = limit
            s.maxAttempts = attempts
            return YouTubeAdapter(s)
        }
    }

    /// Every part answered only after 4 s, the verb limited to 1 s (one try): the part is stopped long
    /// before its answer would come and reported as `network_error` naming the platform, the verb and the
    /// limit; nothing past the session was confirmed.
    @Test(.timeLimit(.minutes(1))) func aStalledPartIsStoppedAtItsLimitAndReportedAsBefore() async throws {
        let dir = try TempDir()
        let rig = try await Self.rig(dir, limit: .seconds(1), attempts: 1)
        try await stopping(rig.server) {
            await rig.state.setFaults(.init(youtubePutDelayMs: 4000))
            let offsets = Offsets()
            let t0 = ContinuousClock.now
            let e = try await #require(throws: DeliveryError.self) {
                _ = try await rig.deliver(Self.meta, checkpoint: { cp in offsets.add(cp.confirmedOffset) })
            }
            let took = ContinuousClock.now - t0
            #expect(e.kind == .retryNow && e.code == .networkError, "\(e)")
            #expect(e.message.contains("YouTube did not finish part within 1 s; it was stopped and is tried again"), "\(e.message)")
            // Stopped, not answered: the sandbox's answer was 4 s away.
            #expect(took < .seconds(3.5), "\(took)")
            #expect(offsets.all.allSatisfy { $0 == 0 }, "\(offsets.all)")
        }
    }

    /// Each part takes 1.2 s against a 3 s limit, the three of them more than the limit together: the
    /// limit is each part's, so the upload completes, every part confirmed once. (1.8 s of room a verb:
    /// the limit is every verb's, the token's and the session's too, on a loaded machine.)
    @Test(.timeLimit(.minutes(1))) func aLimitIsEachPartsNotTheUploads() async throws {
        let dir = try TempDir()
        let rig = try await Self.rig(dir, limit: .seconds(3), attempts: 1)
        try await stopping(rig.server) {
            await rig.state.setFaults(.init(youtubePutDelayMs: 1200))
            let offsets = Offsets()
            let t0 = ContinuousClock.now
            let out = try await rig.deliver(Self.meta, checkpoint: { cp in offsets.add(cp.confirmedOffset) })
            #expect(!out.remoteId.isEmpty)
            #expect(ContinuousClock.now - t0 > .seconds(3), "the parts together outlasted one limit")
            #expect(offsets.all.filter { $0 > 0 && $0 < Self.part * 3 } == [Self.part, Self.part * 2], "\(offsets.all)")
        }
    }

    /// A part stopped by its limit is a cut part like any other: the chunk loop's own task (never the one
    /// the limit cancelled) asks where the upload stands and sends it again, and the upload completes with
    /// each byte stored once. The sandbox answers every PUT 3 s late (limit 1 s) until the first part has
    /// been stopped, then at once.
    @Test(.timeLimit(.minutes(1))) func aPartStoppedByItsLimitIsSentAgainAndTheUploadCompletes() async throws {
        let dir = try TempDir()
        let rig = try await Self.rig(dir, limit: .seconds(1), attempts: 5)
        try await stopping(rig.server) {
            await rig.state.setFaults(.init(youtubePutDelayMs: 3000))
            let state = rig.state
            let clear = Task {
                while (await state.requestCounts["youtube.put"] ?? 0) == 0 { try await Task.sleep(for: .milliseconds(10)) }
                // The first PUT is in; its limit stops it at 1 s.
                try await Task.sleep(for: .milliseconds(1300))
                await state.setFaults(.init())
            }
            let offsets = Offsets()
            let out = try await rig.deliver(Self.meta, checkpoint: { cp in offsets.add(cp.confirmedOffset) })
            try await clear.value
            #expect(!out.remoteId.isEmpty)
            // One video, made of the file's bytes exactly (its sha256), once.
            let sha = try FileHashing.sha256(path: rig.file.path).hex
            #expect(await state.postCount(sha256: sha) == 1)
            #expect(await state.allVideos().count == 1)
            // The first PUT was stopped, not answered, and what followed asked and sent again: more PUTs than parts.
            #expect((await state.requestCounts["youtube.put"] ?? 0) > 3)
            #expect(offsets.all.filter { $0 > 0 && $0 < Self.part * 3 } == [Self.part, Self.part * 2], "\(offsets.all)")
        }
    }

    /// The upload's task cancelled while a part waits for its answer (5 s away, limit 30 s): it ends at
    /// once, by cancellation, not by the limit.
    @Test(.timeLimit(.minutes(1))) func cancellingMidPartStopsAtOnceNotAtTheLimit() async throws {
        let dir = try TempDir()
        let rig = try await Self.rig(dir, limit: .seconds(30))
        try await stopping(rig.server) {
            await rig.state.setFaults(.init(youtubePutDelayMs: 5000))
            let sessionSaved = Offsets()
            let adapter = rig.adapter, job = rig.job(Self.meta)
            let upload = Task {
                try await adapter.deliver(job, checkpoint: { cp in sessionSaved.add(cp.confirmedOffset) }, progress: { _, _ in })
            }
            // The session is checkpointed right before the first part leaves; then the part is in flight.
            while sessionSaved.all.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(300))
            let t0 = ContinuousClock.now
            upload.cancel()
            let result = await upload.result
            #expect(ContinuousClock.now - t0 < .seconds(3), "ended by cancellation, not the part's answer or its limit")
            guard case .failure(let error) = result else {
                Issue.record("a cancelled upload published")
                return
            }
            #expect(!"\(error)".contains("did not finish"), "\(error)")
            #expect(sessionSaved.all.allSatisfy { $0 == 0 }, "\(sessionSaved.all)")
        }
    }

    /// The watch itself: a body past its deadline is cancelled and reported expired; one that ends in
    /// time is not, and keeps its value; an earlier deadline registered after a far one still fires (the
    /// watcher re-armed), the far one untouched; nothing is left watched.
    @Test(.timeLimit(.minutes(1))) func theWatchCancelsOnlyWhatPassedItsDeadline() async throws {
        let watch = DeadlineWatch()
        let far = Task {
            await watch.guarding(.now + .seconds(600)) {
                try await Task.sleep(for: .seconds(600))
                return "far"
            }
        }
        while watch.watching == 0 { try await Task.sleep(for: .milliseconds(5)) }
        // On a task of its own: the watch cancels the task it guards for good, and this test's goes on.
        let stalled = await Task {
            await watch.guarding(.now + .milliseconds(200)) {
                try await Task.sleep(for: .seconds(30))
                return "stalled"
            }
        }.value
        #expect(stalled.expired)
        guard case .failure(let e) = stalled.result else {
            Issue.record("the stalled body was not stopped")
            return
        }
        #expect(e is CancellationError, "\(e)")
        let quick = await watch.guarding(.now + .seconds(5)) { "quick" }
        #expect(!quick.expired)
        #expect((try? quick.result.get()) == "quick")
        // The far one is still running and unexpired; cancelled by its owner, it ends without expiring.
        #expect(watch.watching == 1)
        far.cancel()
        let farEnd = await far.value
        #expect(!farEnd.expired)
        #expect(watch.watching == 0)
    }

    final class Offsets: @unchecked Sendable {  // guarded by its lock
        private let lock = NSLock()
        private var values: [Int64] = []
        func add(_ v: Int64) { lock.withLock { values.append(v) } }
        var all: [Int64] { lock.withLock { values } }
    }
}

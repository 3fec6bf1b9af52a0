import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// The class behind Kuaishou's asynchronous publish, for every platform whose post is one request with no
/// idempotency key read back from the account's list (`ListedPost`: Kuaishou, Douyin, Bilibili). A post its
/// list shows only later is the post the answer named — recorded by its id, its request sent once, a
/// restart finding it by that id; a request that left and never arrived asks a person, never sends again;
/// and that person's retry uploads and posts anew, once.
@Suite struct ConformanceListedPostTests {
    static let fixtures = ConformanceFixture.all.filter { ["kuaishou", "douyin", "bilibili"].contains($0.name) }

    /// The platform's adapter as the rig makes it, with windows of a test's length.
    static func quick(_ rig: ConformanceRig) throws -> any PlatformAdapter {
        var s = rig.settings
        s.tokens = TokenProvider(account: rig.account, http: rig.settings.http, store: rig.store)
        let (list, settle) = (Duration.milliseconds(300), Duration.milliseconds(400))
        let poll = PollPolicy(first: .milliseconds(50), max: .milliseconds(100), perMinute: 6000)
        switch rig.fixture.name {
        case "kuaishou":
            var a = KuaishouAdapter(s)
            (a.listWindow, a.settleWindow, a.poll) = (list, settle, poll)
            return a
        case "douyin":
            var a = DouyinAdapter(s)
            (a.listWindow, a.settleWindow, a.poll) = (list, settle, poll)
            return a
        case "bilibili":
            var a = BilibiliAdapter(s)
            (a.listWindow, a.settleWindow, a.poll) = (list, settle, poll)
            return a
        default: throw OmniError(.internalError, "\(rig.fixture.name) posts no ListedPost")
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: fixtures)
    func aPostTheListShowsLaterIsRecordedByItsIdAndSentOnce(_ f: ConformanceFixture) async throws {
        try await ConformanceRig.with(f, faults: .init(processingMs: 60_000)) { rig in
            let cps = CheckpointLog()
            let out = try await rig.deliver(with: try Self.quick(rig), checkpoint: { cps.add($0) })
            let posts = try await rig.posts()
            #expect(posts.count == 1 && out.remoteId == posts.first?.id, "\(out.remoteId) against \(posts.map(\.id))")
            #expect(await rig.count(f.postRoute) == 1)
            // A restart from the last checkpoint (the id recorded) finds it by that id: nothing sent.
            let again = try await rig.deliver(with: try Self.quick(rig), session: cps.last?.session, offset: rig.size)
            #expect(again.remoteId == out.remoteId && again.reconciled)
            #expect(await rig.count(f.postRoute) == 1)
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: fixtures)
    func aPostRequestThatNeverArrivedAsksAPersonAndTheirRetryPostsOnce(_ f: ConformanceFixture) async throws {
        try await ConformanceRig.with(f) { rig in
            struct Crash: Error {}
            @Sendable func sent(_ cp: UploadCheckpoint) -> Bool {
                guard let o = try? JSONSerialization.jsonObject(with: Data(cp.session.utf8)) as? [String: Any] else { return false }
                return o.keys.contains { $0.hasSuffix("SentAt") }
            }
            let cps = CheckpointLog()
            // Killed as the post request leaves: it never reached the platform.
            await #expect(throws: Crash.self) {
                try await rig.deliver(with: try Self.quick(rig)) { cp in
                    cps.add(cp)
                    if sent(cp) { throw Crash() }
                }
            }
            let lost = try #require(cps.last).session
            let e = await #expect(throws: DeliveryError.self) { try await rig.deliver(with: try Self.quick(rig), session: lost, offset: rig.size) }
            #expect(e?.kind == .permanent && e?.code == .uncertainPost, "\(String(describing: e))")
            #expect(await rig.count(f.postRoute) == 0, "not sent again")
            var retried = try rig.job(session: lost, offset: rig.size)
            retried.sessionReuse = .replaceIfFailed
            let out = try await Self.quick(rig).deliver(retried, checkpoint: { _ in }, progress: { _, _ in })
            let (posted, started) = (await rig.count(f.postRoute), await rig.count(f.startRoute))
            #expect(posted == 1 && started == 2 * f.starts, "\(posted) posts, \(started) starts")
            #expect(out.replacedSession?.contains("uncertain_post") == true, "\(out)")
            #expect(try await rig.posts().count == 1)
        }
    }
}

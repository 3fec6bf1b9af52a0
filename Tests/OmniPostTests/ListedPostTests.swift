import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
import Testing

/// `ListedPost`'s decisions, one by one, against a list the test controls: which failures of the post
/// request mean it made nothing (sent again later) and which may have made a post (never sent again), and
/// what a restart or a person's retry finds. The platforms' runs are `ConformanceListedPostTests`.
@Suite struct ListedPostTests {
    struct Session: Codable, PersistedSession, Equatable {
        var sentAt: Double?
        var postedID: String?
    }

    /// The list: ids it shows, and whether reading it fails (and how).
    final class List: @unchecked Sendable {  // under `lock`
        let lock = NSLock()
        var shown: [String] = []
        var failure: DeliveryError?
        var saved: [Session] = []
        func read() throws -> [String] {
            try lock.withLock {
                if let failure { throw failure }
                return shown
            }
        }
    }

    static func listed(_ list: List, settle: Duration = .milliseconds(200)) -> ListedPost<Session, String> {
        ListedPost(
            platform: "Test", noun: "post", listWindow: .milliseconds(100), settleWindow: settle,
            poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(40), perMinute: 6000), retry: PartRetry(maxAttempts: 3, backoff: Backoff(base: .milliseconds(5), cap: .milliseconds(10))),
            sentAt: \.sentAt, postedID: \.postedID,
            find: { _, id in
                let ids = try list.read()
                return id.map { ids.contains($0) ? $0 : nil } ?? ids.last
            },
            id: { $0 }, outcome: { PublishOutcome(remoteId: $0, url: "listed/\($0)", bytesSent: 0) },
            outcomeForID: { PublishOutcome(remoteId: $0, url: "answered/\($0)", bytesSent: 0) })
    }

    static func save(_ list: List) -> SessionSave<Session> { SessionSave { s in list.lock.withLock { list.saved.append(s) } } }

    @Test func aRefusalMadeNothingAndMayBeSentAgainButALostAnswerIsNever() async throws {
        let list = List()
        let post = Self.listed(list)
        // The platform's refusal: `sentAt` is taken back, and the error is the delivery's.
        await #expect(throws: DeliveryError.self) {
            _ = try await post.post(Session(), save: Self.save(list)) { throw DeliveryError(.permanent, .rejectedByPlatform, "caption too long") }
        }
        #expect(list.saved.last == Session(sentAt: nil, postedID: nil), "\(list.saved)")
        // A lost answer (a cut connection): the post is looked for, and found, without a second request.
        list.shown = ["p1"]
        var sends = 0
        let found = try await post.post(Session(), save: Self.save(list)) {
            sends += 1
            throw DeliveryError(.retryNow, .networkError, "connection reset")
        }
        #expect(found.remoteId == "p1" && found.reconciled && sends == 1)
        #expect(list.saved.last?.postedID == "p1" && list.saved.last?.sentAt != nil)
        // A session that sent its request is never sent again: it settles (here: nothing shows, a person is asked).
        list.shown = []
        let e = await #expect(throws: DeliveryError.self) {
            _ = try await post.post(Session(sentAt: Date().timeIntervalSince1970, postedID: nil), save: Self.save(list)) {
                Issue.record("sent again")
                return .made("twice")
            }
        }
        #expect(e?.code == .uncertainPost)
    }

    @Test func anAnsweredPostIsRecordedByItsIdWhetherOrNotTheListShowsIt() async throws {
        let list = List()
        let post = Self.listed(list)
        let answered = try await post.post(Session(), save: Self.save(list)) { .made("p7") }
        #expect(answered.remoteId == "p7" && answered.url == "answered/p7")
        list.shown = ["p7"]
        let listed = try await post.post(Session(), save: Self.save(list)) { .made("p7") }
        #expect(listed.url == "listed/p7")
    }

    @Test func aRestartOrARetryFindsWhatTheSessionSays() async throws {
        let list = List()
        let post = Self.listed(list, settle: .seconds(600))
        // The id known: published by it, even when reading the list is refused for good.
        list.failure = DeliveryError(.permanent, .rejectedByPlatform, "403 on the list")
        guard case .published(let o) = try await post.reconcile(Session(sentAt: 1, postedID: "p3"), reuse: .replaceIfFailed) else {
            Issue.record("a known id not published"); return
        }
        #expect(o.remoteId == "p3")
        // Sent, the list refused: tried again later, never a dead session the engine would replace.
        let e = await #expect(throws: DeliveryError.self) { _ = try await post.reconcile(Session(sentAt: Date().timeIntervalSince1970), reuse: .replaceIfFailed) }
        #expect(e?.kind == .retryNow, "\(String(describing: e))")
        list.failure = nil
        // A person's retry within the settle window: the settling goes on (`processing`), no fresh upload.
        guard case .processing = try await post.reconcile(Session(sentAt: Date().timeIntervalSince1970), reuse: .replaceIfFailed) else {
            Issue.record("a retry inside the window gave the session up"); return
        }
        // …and once the window is over: given up (the engine uploads and posts anew).
        let over = await #expect(throws: DeliveryError.self) {
            _ = try await post.reconcile(Session(sentAt: Date().timeIntervalSince1970 - 601), reuse: .replaceIfFailed)
        }
        #expect(over?.code == .uncertainPost && over?.kind == .permanent)
        // A restart (no person): never given up.
        guard case .processing = try await post.reconcile(Session(sentAt: Date().timeIntervalSince1970 - 601), reuse: .resume) else {
            Issue.record("a restart gave the session up"); return
        }
        // Not recorded as sent (or written before `sentAt` was kept): looked for all the same, else sent.
        guard case .processing = try await post.reconcile(Session(), reuse: .replaceIfFailed) else { Issue.record("an unsent session"); return }
        list.shown = ["older"]
        guard case .published(let legacy) = try await post.reconcile(Session(), reuse: .resume), legacy.remoteId == "older" else {
            Issue.record("an earlier version's session not looked for"); return
        }
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Every platform whose upload is started by a request of ours (a session, a container, a lease, tus's
/// creation) held to the redirect class on that request (`redirect_starts`): it carries the account's
/// token and the post's words, so a 3xx to a listener elsewhere must never see a connection either. A
/// `307` is that request's only: the start is sent again to its own URL and the delivery completes, one
/// post. A `303` or `308` is not retried: the delivery fails `rejected_by_platform` naming where it
/// pointed, its query (a signature's place) left out, before any part is sent or any post made.
@Suite struct ConformanceStartRedirectTests {
    static let fixtures = ConformanceFixture.all.filter { $0.startRedirectCase.value != nil }
    /// Where a start's 307 leaves the attempt (`retryNow`) rather than being sent again within it: none
    /// now. Every start is sent again at once, once — `UploadRedirect.execute` under `AuthorizedHTTP`,
    /// Vimeo's API calls, `TusClient`'s creation and `S3Bucket.send`'s body-less requests (the multipart
    /// start), or the adapter's own retry for Bluesky and Reddit. Kept as a set so a platform that must
    /// leave the attempt is named here with its reason, not tolerated silently.
    static let leaveTheAttempt: Set<String> = []

    @Test(.timeLimit(.minutes(5)), arguments: fixtures)
    func aTemporaryRedirectOfTheStartIsNotFollowedAndTheStartIsSentAgain(_ f: ConformanceFixture) async throws {
        let route = try #require(f.startRedirectCase.value)
        let elsewhere = try CountingListener()
        let target = "http://127.0.0.1:\(elsewhere.port)/moved"
        let faults = SandboxState.Faults(redirectStarts: ["\(target)?sig=secret"])
        try await ConformanceRig.with(f, faults: faults) { rig in
            do {
                try await rig.deliver()
            } catch let e as DeliveryError where e.kind == .retryNow {
                // A start's 307 leaving the attempt as `retryNow` (the upload stage's next attempt would send
                // it again, after its backoff) is a failure unless the platform is named in `leaveTheAttempt`
                // with its reason — none is now; printed, so a reader of the run sees which.
                #expect(Self.leaveTheAttempt.contains(f.name), "\(f.name): the start's 307 was not sent again within the attempt")
                #expect(e.code == .platformError && e.httpStatus == 307, "\(e)")
                #expect(e.message.contains("redirecting it to \(target)") && !e.message.contains("secret"), "\(e.message)")
                print("conformance \(f.name) startRedirect: the 307 left the attempt (retryNow); the next attempt started again")
                try await rig.deliver()
            }
            #expect(await rig.state.faults.redirectStarts.isEmpty, "\(route) never met the redirect")
            // One more start than a post takes: the redirected one, answered before anything was done for it.
            let asked = await rig.count(route)
            #expect(asked == f.starts + 1, "\(asked) requests to \(route)")
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256, "\(posts.map(\.id))")
            let posted = await rig.count(f.postRoute)
            if f.postRoute != nil { #expect(posted == 1, "posted \(posted) times") }
            if f.countsBytes { #expect(await rig.state.bytesReceived == rig.size + f.extraBytes) }
        }
        #expect(elsewhere.connections == 0, "\(f.name): the start (its token, its words) went where the redirect pointed")
    }

    @Test(.timeLimit(.minutes(5)), arguments: fixtures, [303, 308])
    func aRedirectForGoodOfTheStartFailsTheDeliveryNamingWhereItPointed(_ f: ConformanceFixture, status: Int) async throws {
        let route = try #require(f.startRedirectCase.value)
        let elsewhere = try CountingListener()
        let target = "http://127.0.0.1:\(elsewhere.port)/moved"
        try await ConformanceRig.with(f, faults: .init(redirectStarts: ["\(status) \(target)?sig=secret"])) { rig in
            let e = try await #require(throws: DeliveryError.self) { try await rig.deliver() }
            #expect(e.kind == .permanent && e.code == .rejectedByPlatform && e.httpStatus == status, "\(e)")
            #expect(e.message.contains("redirecting it to \(target)") && !e.message.contains("secret"), "\(e.message)")
            // Asked once: the same request would meet the same answer.
            let asked = await rig.count(route)
            #expect(asked == 1, "asked \(asked) times")
            #expect(await rig.count(f.postRoute) == 0, "a post was asked for")
            #expect(try await rig.posts().isEmpty)
        }
        #expect(elsewhere.connections == 0, "\(f.name): a \(status) was followed")
    }
}

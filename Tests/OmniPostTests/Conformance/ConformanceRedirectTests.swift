import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Every platform whose request carries an upload's bytes held to the redirect class (`UploadRedirect`):
/// the first such request is answered a 3xx to a listener elsewhere (`redirect_chunks`), which must never
/// see a connection — no bytes, no token. A `307` is that request's only: the part is sent again to its
/// own URL and the delivery completes, one post of the whole file. A `303` or `308` is not retried: the
/// delivery fails `rejected_by_platform` naming where it pointed, its query (a signature's place) left out.
@Suite struct ConformanceRedirectTests {
    static let fixtures = ConformanceFixture.all.filter { $0.redirectCase.value != nil }

    @Test(.timeLimit(.minutes(5)), arguments: fixtures)
    func aTemporaryRedirectOfAPartIsNotFollowedAndThePartIsSentAgain(_ f: ConformanceFixture) async throws {
        let redirect = try #require(f.redirectCase.value)
        let elsewhere = try CountingListener()
        let faults = SandboxState.Faults(redirectChunks: ["http://127.0.0.1:\(elsewhere.port)/moved?sig=secret"])
        try await ConformanceRig.with(f, faults: faults) { rig in
            try await rig.deliver()
            #expect(await rig.state.faults.redirectChunks.isEmpty, "\(redirect.route) never met the redirect")
            let requests = await rig.count(redirect.route)
            #expect(requests == redirect.requests, "\(requests) requests to \(redirect.route)")
            let posts = try await rig.posts()
            #expect(posts.count == 1 && posts.first?.sha256 == rig.sha256, "\(posts.map(\.id))")
            // The redirected request kept nothing: every byte arrived once, at the session's own URL.
            if f.countsBytes { #expect(await rig.state.bytesReceived == rig.size + f.extraBytes) }
        }
        #expect(elsewhere.connections == 0, "\(f.name): the part (its bytes, its token) went where the redirect pointed")
    }

    @Test(.timeLimit(.minutes(5)), arguments: fixtures, [303, 308])
    func aRedirectForGoodFailsTheDeliveryNamingWhereItPointed(_ f: ConformanceFixture, status: Int) async throws {
        let redirect = try #require(f.redirectCase.value)
        let elsewhere = try CountingListener()
        let target = "http://127.0.0.1:\(elsewhere.port)/moved"
        try await ConformanceRig.with(f, faults: .init(redirectChunks: ["\(status) \(target)?sig=secret"])) { rig in
            let e = try await #require(throws: DeliveryError.self) { try await rig.deliver() }
            #expect(e.kind == .permanent && e.code == .rejectedByPlatform && e.httpStatus == status, "\(e)")
            #expect(e.message.contains("redirecting it to \(target)") && !e.message.contains("secret"), "\(e.message)")
            // Asked once: the same request would meet the same answer.
            let asked = await rig.count(redirect.route)
            #expect(asked == 1, "asked \(asked) times")
            #expect(try await rig.posts().isEmpty)
        }
        #expect(elsewhere.connections == 0, "\(f.name): a \(status) was followed")
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Webhook's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension WebhookPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: WebhookPlatform.self, size: 300_000,
            adapter: { WebhookPlatform.makeAdapter($0) },
            // One request is the whole delivery; a repeat carries the same Idempotency-Key and is not taken twice.
            countsBytes: false,
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "webhook.post", requests: 2)),
            redirect: .notApplicable("the webhook's POST follows redirects by design: a receiver may answer 303 See Other as its normal reply, and the URL is the user's own"),
            startRedirect: .notApplicable("one POST carries the whole delivery, on the client that follows redirects by design (the redirect row says why): there is no start request apart from it"),
            restart: .notApplicable("one request carries the document: there is no confirmed part to resume from"),
            forget: .notApplicable("a receiver keeps no session"),
            rateLimit: .fixture(.init(faults: .init(failChunks: [429])) { at, t0, t1 in waitIsAbout(at, 7, from: t0, to: t1) }),
            expireTokens: .notApplicable("a webhook signs with a shared secret that does not expire"),
            revocation: .notApplicable("a webhook signs with a shared secret: a changed one is a 401 the receiver says (WebhookTests)"),
            refusal: .fixture(.init(faults: .init(failChunks: [422]), route: "webhook.post", says: "422")),
            lapse: .notApplicable("a receiver keeps no session"),
            processing: .notApplicable("a receiver does not process"),
            pipelineFailure: .fixture(.init(failChunks: [422])))
    }
}

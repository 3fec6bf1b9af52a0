import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Facebook's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension FacebookPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: FacebookPlatform.self, size: 9 * ConformanceFixture.mib + 9,
            adapter: { FacebookAdapter($0, poll: ConformanceFixture.quick) },
            startRoute: "facebook.start", postRoute: "facebook.finish", tokenRoute: "meta.token",
            followUpRoutes: [.subtitles: "facebook.captions", .firstComment: "facebook.comments"],
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "facebook.rupload", requests: 4)),
            forget: ConformanceFixture.forgets,
            rateLimit: .fixture(.graphMinute),
            expireTokens: .notApplicable(
                "a Page token made from a long-lived user token does not expire; a 401/190 on the upload host is an invalidated session, auth_revoked (FacebookTests)"),
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "facebook.start", says: "400")),
            lapse: .notApplicable("an upload session is answered for by the Graph API when it lapsed — the forgotten case (expiredSession) is that one"),
            // The Video API's error table: 1363019 "There was a problem uploading your video. Please try
            // uploading it again." — Retry upload. Other processing errors are final.
            processing: .fixture(
                .init(
                    retryable: .fixture(.init(failProcessing: "1363019 There was a problem uploading your video. Please try uploading it again.")),
                    final: .init(failProcessing: "the video could not be processed"), says: "could not be processed")),
            pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")),
            readBack: .init(
                hidden: .notApplicable("the reel's publish is confirmed by reading the same video object the read-back reads: a reel published there was shown"),
                mismatch: .fixture("SELF")))
    }
}

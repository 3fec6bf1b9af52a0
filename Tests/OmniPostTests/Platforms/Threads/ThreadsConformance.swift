import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Threads's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension ThreadsPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: ThreadsPlatform.self, size: 2 * ConformanceFixture.mib + 3,
            adapter: { ThreadsAdapter($0, poll: ConformanceFixture.quick) },
            startRoute: "threads.container", postRoute: "threads.publish", tokenRoute: "threads.token",
            // The bytes go to the media host and Threads fetches them: the sandbox counts both.
            countsBytes: false,
            followUpRoutes: [.firstComment: "threads.reply"],
            cut: .notApplicable("Threads fetches the video itself: a fetch cut mid-transfer is its retryable processing case (FAILED_DOWNLOADING_VIDEO)"),
            redirect: .notApplicable(
                "Threads fetches the video from a link: the bytes go to the media host, whose PUT is the S3 client's (the s3 row; a redirected media host PUT: ThreadsTests)"),
            forget: .notApplicable("Threads fetches the video itself from the media host: there is no upload session on Threads to forget"),
            rateLimit: .fixture(.graphMinute),
            expireTokens: .notApplicable("a Threads long-lived token lasts 60 days and is refreshed in its last 7 (ThreadsTests)"),
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "threads.container", says: "400")),
            lapse: .notApplicable("a container lasts 24 h; the fetch happens at once — ThreadsTests covers a container made again"),
            processing: .fixture(
                .init(
                    retryable: .fixture(.init(failFetches: 1)),
                    final: .init(failProcessing: "the video could not be processed"), says: "could not be processed")),
            pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")))
    }
}

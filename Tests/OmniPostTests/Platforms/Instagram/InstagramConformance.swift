import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Instagram's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension InstagramPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: InstagramPlatform.self, size: 9 * ConformanceFixture.mib + 5,
            adapter: { InstagramAdapter($0, poll: ConformanceFixture.quick) },
            startRoute: "instagram.container", postRoute: "instagram.publish", tokenRoute: "meta.token",
            followUpRoutes: [.firstComment: "instagram.comments"],
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "instagram.rupload", requests: 4)),
            forget: ConformanceFixture.forgets,
            rateLimit: .fixture(.graphMinute),
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "instagram.container", says: "400")),
            lapse: .notApplicable(
                "a container lasts 24 h and its status then says EXPIRED; the session keeps no creation time, and the forgotten case (expiredSession) makes the sandbox's containers EXPIRED"
            ),
            // Instagram's error-code table: 2207053 "unknown upload error" says make a new container; 2207026 (format) is the media's.
            processing: .fixture(
                .init(
                    retryable: .fixture(.init(failProcessing: "Error: Media upload has failed with error code 2207053")),
                    final: .init(failProcessing: "Error: Media upload has failed with error code 2207026"), says: "2207026")),
            pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")),
            readBack: .init(counts: true))
    }
}

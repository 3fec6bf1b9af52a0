import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How LinkedIn's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension LinkedInPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: LinkedInPlatform.self, size: 9 * ConformanceFixture.mib + 77,
            adapter: { LinkedInAdapter($0, poll: ConformanceFixture.quick) },
            startRoute: "linkedin.init", postRoute: "linkedin.post", tokenRoute: "linkedin.token",
            followUpRoutes: [.firstComment: "linkedin.comment"],
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "linkedin.put", requests: 4)),
            forget: ConformanceFixture.forgets,
            rateLimit: .fixture(.nextMidnightUTC),
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "linkedin.init", says: "400")),
            lapse: .fixture({ rig, saved in
                // initializeUpload's uploadUrlsExpireAt is kept with the session; the sandbox's clock passes it
                // too (a PUT to a lapsed URL is refused 403): the resume starts afresh without sending to it.
                await rig.state.expireLinkedInUploads()
                guard var s = LinkedInAdapter.Session(persisted: saved) else { return saved }
                #expect(s.expiresAt != nil, "initializeUpload's uploadUrlsExpireAt is kept with the session")
                s.expiresAt = Date().timeIntervalSince1970 - 1
                return s.persisted
            }),
            processing: .fixture(
                .init(
                    retryable: .notApplicable("LinkedIn documents PROCESSING_FAILED as final"),
                    final: .init(failProcessing: "the video could not be processed"), says: "could not be processed")),
            pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")),
            readBack: .init(mismatch: .fixture("CONNECTIONS")))
    }
}

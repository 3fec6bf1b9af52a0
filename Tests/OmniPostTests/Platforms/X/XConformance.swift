import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How X's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension XPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: XPlatform.self, size: 9 * ConformanceFixture.mib + 123,
            adapter: { XAdapter($0, defaultPollWait: .milliseconds(200)) },
            startRoute: "x.init", postRoute: "x.tweet", tokenRoute: "x.token",
            followUpRoutes: [.firstComment: "x.reply"],
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "x.append", requests: 4)),
            forget: ConformanceFixture.forgets,
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "x.init", says: "400")),
            lapse: .fixture({ _, saved in
                // INIT's expires_after_secs is kept with the session: the resume comes after it.
                guard var s = XAdapter.Session(persisted: saved) else { return saved }
                #expect(s.expiresAt != nil, "INIT's expires_after_secs is kept with the session")
                s.expiresAt = Date().timeIntervalSince1970 - 1
                return s.persisted
            }),
            processing: .fixture(
                .init(
                    retryable: .notApplicable("X documents no transient processing state: a failed media id is final"),
                    final: .init(failProcessing: "Unsupported video codec: prores"), says: "Unsupported video codec")),
            pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")),
            readBack: .init(counts: true))
    }
}

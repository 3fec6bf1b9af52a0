import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Douyin's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension DouyinPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: DouyinPlatform.self, size: 12 * ConformanceFixture.mib + 12_345, chunkSize: 5 * ConformanceFixture.mib,
            adapter: { DouyinAdapter($0) },
            startRoute: "douyin.init", postRoute: "douyin.create", tokenRoute: "douyin.refresh",
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "douyin.part", requests: 4)),
            forget: ConformanceFixture.forgets,
            // "请求频率过高" (28003018) carries no wait: a minute, as the adapter's table says.
            rateLimit: .fixture(
                .init(faults: .init(rateLimitInits: 1)) { at, t0, t1 in waitIsAbout(at, 60, from: t0, to: t1) }),
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "douyin.init", says: "2100005")),
            // The upload id lives two hours: the session kept says it started three hours ago.
            lapse: .fixture({ _, saved in
                guard var s = DouyinAdapter.Session(persisted: saved) else { return saved }
                #expect(s.uploadID != nil, "a part upload keeps its upload id")
                s.startedAt = Date().timeIntervalSince1970 - 3 * 3600
                return s.persisted
            }),
            processing: .notApplicable(
                "Douyin documents no processing between upload and create: the video_id is used at once, and the review after create is the item's own state"
            ),
            pipelineFailure: .fixture(.init(failInits: [400])),
            readBack: .init(counts: true))
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Bilibili's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension BilibiliPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: BilibiliPlatform.self, size: 9 * ConformanceFixture.mib + 123,
            // An archive needs at least one tag (add-by-utoken's `tag` is required).
            sidecarExtra: "tags: [conformance]\n",
            adapter: { BilibiliAdapter($0) },
            // An archive needs a cover: the convert stage gives one; here a JPEG of our own.
            prepare: { job, dir in
                let cover = dir.file("cover.jpg")
                if !FileManager.default.fileExists(atPath: cover.path) { try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 500)).write(to: cover) }
                job.coverPath = cover.path
            },
            startRoute: "bilibili.init", postRoute: "bilibili.submit", tokenRoute: "bilibili.refresh",
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "bilibili.part", requests: 4)),
            forget: ConformanceFixture.forgets,
            // -509 ("请求过于频繁") carries no wait: a minute, as the adapter's table says.
            rateLimit: .fixture(.init(faults: .init(rateLimitInits: 1)) { at, t0, t1 in waitIsAbout(at, 60, from: t0, to: t1) }),
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "bilibili.init", says: "-400")),
            lapse: .notApplicable("Bilibili documents no lifetime for an upload_token"),
            processing: .notApplicable(
                "Bilibili documents no processing between the merge and the submit; its review after the submit is the archive's own state"),
            pipelineFailure: .fixture(.init(failInits: [400])))
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Kuaishou's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension KuaishouPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: KuaishouPlatform.self, size: 9 * ConformanceFixture.mib + 321,
            adapter: { KuaishouAdapter($0) },
            // A work needs a cover: the convert stage gives one; here a JPEG of our own.
            prepare: { job, dir in
                let cover = dir.file("cover.jpg")
                if !FileManager.default.fileExists(atPath: cover.path) { try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 5, count: 500)).write(to: cover) }
                job.coverPath = cover.path
            },
            startRoute: "kuaishou.start", postRoute: "kuaishou.publish", tokenRoute: "kuaishou.refresh",
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "kuaishou.fragment", requests: 4)),
            forget: ConformanceFixture.forgets,
            rateLimit: .notApplicable("Kuaishou documents no rate-limit code for its content API (错误码: OAuth's and 120001–120003, 100400)"),
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "kuaishou.start", says: "100400")),
            lapse: .notApplicable("Kuaishou documents no lifetime for an upload_token"),
            processing: .notApplicable(
                "Kuaishou processes after the publish (the work is `pending`), not between the upload and the publish"),
            pipelineFailure: .fixture(.init(failInits: [400])),
            readBack: .init(
                hidden: .notApplicable("a publish counts once photo/list shows the work, the list the read-back reads: a work published there was shown"),
                counts: true))
    }
}

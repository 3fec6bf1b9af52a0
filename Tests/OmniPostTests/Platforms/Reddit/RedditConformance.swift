import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Reddit's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension RedditPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: RedditPlatform.self, size: 300_000,
            meta: PublishMetadata(
                title: "Conformance clip", description: "sent exactly once", tags: ["conformance"], privacy: .public, publishAt: nil,
                options: ["subreddit": "r/oceans"]),
            // The subreddit the sandbox's retry scenario posts to.
            sidecarExtra: "overrides: {reddit: {subreddit: r/oceans}}\n",
            adapter: { RedditAdapter($0, resultTimeout: .seconds(10), settleWindow: .seconds(5), poll: ConformanceFixture.quick) },
            prepare: { job, dir in
                let poster = dir.file("poster.jpg")
                if !FileManager.default.fileExists(atPath: poster.path) { try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 500)).write(to: poster) }
                job.coverPath = poster.path
            },
            startRoute: "reddit.lease", startsPerPost: 2, tokenRoute: "reddit.token", extraBytes: 504,
            followUpRoutes: [.firstComment: "reddit.comment"],
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "reddit.media", requests: 3)),
            forget: .notApplicable("an uploaded asset is Reddit's to keep; a restart after the upload only submits (RedditTests)"),
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "reddit.lease", says: "400")),
            lapse: .notApplicable("the upload lease is used at once; a restart after it only submits"),
            processing: .fixture(
                .init(
                    retryable: .notApplicable("Reddit documents a failed media as final"),
                    final: .init(failProcessing: "the video could not be processed"), says: "could not be processed")),
            pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")),
            readBack: .init(counts: true))
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How YouTube's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension YouTubePlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: YouTubePlatform.self, size: 262_144 * 3 + 131_072, chunkSize: 262_144,
            adapter: { YouTubeAdapter($0) },
            startRoute: "youtube.init", tokenRoute: "oauth.token",
            followUpRoutes: [.subtitles: "youtube.captions.insert", .playlist: "youtube.playlistItems.insert", .firstComment: "youtube.commentThreads.insert"],
            cut: .fixture(.init(faults: .init(youtubeCutAfterBytes: 262_144 * 2 + 100 * 1024), route: "youtube.init", requests: 1, keepsWhatArrived: true)),
            // The redirected PUT, sent again at once to the session's URL (a 307 is that request's only:
            // `AuthorizedHTTP`), then the other three: four of 256 KiB, 256 KiB, 256 KiB and 128 KiB.
            redirect: .fixture(.init(route: "youtube.put", requests: 5)),
            forget: ConformanceFixture.forgets,
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "youtube.init", says: "400")),
            lapse: .notApplicable("a resumable session URI is good for about a week and YouTube answers 404 for one it forgot — the forgotten case (expiredSession) is that one"),
            // videos.insert's reply to the last chunk is the video: the delivery ends there, and YouTube's processing
            // (status.uploadStatus failed/rejected with failureReason codec, conversion, emptyFile, invalidFile,
            // tooSmall, uploadAborted) comes after it, unread. The docs call none of those reasons retryable;
            // waiting for processing before a YouTube delivery counts as published is a change of behaviour.
            processing: .notApplicable(
                "the delivery ends at the video the last chunk made; YouTube's processing (uploadStatus failed/rejected) is not waited for, and its docs call no failureReason retryable"
            ),
            pipelineFailure: .fixture(.init(failInits: [400])),
            readBack: .init(locked: .fixture(()), mismatch: .fixture("unlisted"), counts: true))
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Vimeo's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension VimeoPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: VimeoPlatform.self, size: 9 * ConformanceFixture.mib + 1,
            adapter: { VimeoAdapter($0, poll: ConformanceFixture.quick, transcodeTimeout: .seconds(20)) },
            startRoute: "vimeo.create",
            // The cut PATCH keeps half its 4 MiB; the remaining 7 MiB go in two more.
            followUpRoutes: [.subtitles: "vimeo.texttracks"],
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "tus.patch", requests: 3, keepsWhatArrived: true)),
            // The redirected PATCH kept nothing: it and the three of the file (4 MiB, 4 MiB, 1 MiB + 1).
            redirect: .fixture(.init(route: "tus.patch", requests: 4)),
            forget: ConformanceFixture.forgets,
            expireTokens: .notApplicable("Vimeo's access tokens do not expire: there is nothing to refresh"),
            revocation: .fixture(
                .init(
                    revoke: { rig in await rig.state.revoke(account: rig.accountKey) },
                    restore: { rig in await rig.state.registerStaticToken(try rig.account.text("access_token") ?? "", account: rig.accountKey) })),
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "vimeo.create", says: "400")),
            lapse: .notApplicable("a Vimeo upload link lasts 24 h and tus answers 404/410 for one past it — the forgotten case (expiredSession) is that one"),
            processing: .fixture(
                .init(
                    retryable: .notApplicable("Vimeo documents a failed transcode as final"),
                    final: .init(failProcessing: "the video could not be transcoded"), says: "could not transcode")),
            pipelineFailure: .fixture(.init(failInits: [400])),
            readBack: .init(
                hidden: .notApplicable("the upload waits for the transcode by reading the same video the read-back reads: a video made available there was shown"),
                mismatch: .fixture("nobody"), counts: true))
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Tus's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension TusPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: TusPlatform.self, size: 3 * ConformanceFixture.mib + 512 * 1024, chunkSize: ConformanceFixture.mib,
            adapter: { TusPlatform.makeAdapter($0) },
            startRoute: "tus.create",
            // The cut PATCH keeps half its 1 MiB; the remaining 3 MiB go in three more.
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "tus.patch", requests: 4, keepsWhatArrived: true)),
            // The redirected PATCH kept nothing: it and the four of the file.
            redirect: .fixture(.init(route: "tus.patch", requests: 5)),
            forget: ConformanceFixture.forgets,
            expireTokens: .notApplicable("a tus server here takes no credentials"),
            revocation: .notApplicable("a tus server here takes no credentials"),
            refusal: .fixture(.init(faults: .init(failInits: [413]), route: "tus.create", says: "413")),
            lapse: .notApplicable(
                "tus's expiration extension may say Upload-Expires, but the session persists as the bare upload URL (no expiry kept to act on); past it the server answers 410, which the forgotten case (expiredSession) makes the sandbox answer"
            ),
            processing: .notApplicable("a tus server does not process"),
            pipelineFailure: .fixture(.init(failInits: [413])),
            readBack: .init(
                takeDown: { rig, out in
                    // The server removed the finished upload (termination, its own expiry).
                    await rig.state.takeDown(platform: "tus", id: URL(string: out.remoteId)?.lastPathComponent ?? out.remoteId)
                },
                hidden: .notApplicable("a tus server's HEAD is the upload's own state: a finished upload is there at once")))
    }
}

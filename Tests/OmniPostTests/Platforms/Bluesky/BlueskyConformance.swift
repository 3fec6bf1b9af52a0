import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How Bluesky's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension BlueskyPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: BlueskyPlatform.self, size: 300_000,
            meta: PublishMetadata(
                title: "Conformance clip", description: "sent exactly once", tags: ["conformance"], privacy: .public, publishAt: nil,
                options: ["alt": "a test pattern"]),
            adapter: { BlueskyAdapter($0, poll: ConformanceFixture.quick, pollTimeout: .seconds(10)) },
            startRoute: "bluesky.uploadVideo", startCarriesTheFile: true, postRoute: "bluesky.createRecord", tokenRoute: "bluesky.refreshSession",
            followUpRoutes: [.firstComment: "bluesky.reply"],
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "bluesky.uploadVideo", requests: 2)),
            forget: .notApplicable("the video service keeps the blob; a job it forgot is published from the same record key (BlueskyTests)"),
            expireTokens: .fixture({ await $0.expireBlueskyAccessTokens() }),
            revocation: .fixture(
                .init(
                    revoke: { rig in await rig.state.revokeBlueskyAppPassword(account: rig.accountKey) },
                    restore: { rig in
                        await rig.state.registerBluesky(
                            account: rig.accountKey, handle: try rig.account.text("handle") ?? "",
                            appPassword: try rig.account.text("app_password") ?? "")
                    })),
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "bluesky.createRecord", says: "400")),
            lapse: .notApplicable("an uploaded blob is kept by the PDS for as long as a record may reference it"),
            // app.bsky.video.defs#jobStatus failureCode pds_upload_failure: the service could not store the
            // video on the account's PDS (the lexicon calls no code retryable; Bluesky's app says try again).
            processing: .fixture(
                .init(
                    retryable: .fixture(.init(failProcessing: "pds_upload_failure")),
                    final: .init(failProcessing: "the video could not be processed"), says: "could not be processed")),
            pipelineFailure: .fixture(.init(failProcessing: "the platform could not process the video")),
            readBack: .init(counts: true))
    }
}

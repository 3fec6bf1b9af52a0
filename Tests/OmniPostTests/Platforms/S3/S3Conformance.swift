import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How S3's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension S3Platform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: S3Platform.self, size: 11 * ConformanceFixture.mib + 11, chunkSize: 5 * ConformanceFixture.mib,
            says: "conformance",
            adapter: { S3Platform.makeAdapter($0) },
            startRoute: "s3.create",
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "s3.part", requests: 4)),
            forget: ConformanceFixture.forgets,
            expireTokens: .notApplicable("S3 keys do not expire: every request is signed afresh"),
            // The bucket's owner makes the access key inactive while a multipart upload is held, then active again.
            revocation: .fixture(
                .init(
                    revoke: { rig in await rig.state.revokeS3(accessKeyID: try rig.account.text("access_key_id") ?? "") },
                    restore: { rig in
                        await rig.state.registerS3(
                            accessKeyID: try rig.account.text("access_key_id") ?? "",
                            secret: try rig.account.text("secret_access_key") ?? "")
                    })),
            refusal: .fixture(.init(faults: .init(failInits: [403]), route: "s3.create", says: "403")),
            lapse: .notApplicable("a multipart upload lives until it is aborted or a lifecycle rule removes it — that is the forgotten case (expiredSession)"),
            processing: .notApplicable("a bucket does not process what it stores"),
            pipelineFailure: .fixture(.init(failInits: [403])),
            readBack: .init(
                takeDown: { rig, out in
                    // The bucket's own lifecycle or a person deleted the object.
                    await rig.state.takeDown(platform: "s3", id: "\((try? rig.account.text("bucket")) ?? "")/\(out.remoteId)")
                },
                hidden: .notApplicable("S3 is read-after-write consistent (since December 2020): a stored object is there at once")))
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How TikTok's sandbox shows each conformance scenario (`ConformanceTests`), or why a case does not exist for it.
extension TikTokPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: TikTokPlatform.self, size: 12 * ConformanceFixture.mib + 12_345, chunkSize: 5 * ConformanceFixture.mib,
            adapter: { TikTokAdapter($0, poll: ConformanceFixture.quick) },
            startRoute: "tiktok.init", tokenRoute: "tiktok.token",
            cut: .fixture(.init(faults: .init(failChunks: [503]), route: "tiktok.put", requests: 3)),
            forget: ConformanceFixture.forgets,
            refusal: .fixture(.init(faults: .init(failInits: [400]), route: "tiktok.init", says: "400")),
            // The upload_url is valid for an hour (Media Transfer Guide): the sandbox's clock passes it, status
            // still knows the publish id, a chunk PUT is answered 403 url_expired — a new init.
            lapse: .fixture({ rig, saved in
                await rig.state.lapseTikTokUploads()
                return saved
            }),
            // Get Post Status: fail_reason `internal` is "a retryable error"; the file's checks are final.
            processing: .fixture(
                .init(
                    retryable: .fixture(.init(failProcessing: "internal")),
                    final: .init(failProcessing: "file_format_check_failed"), says: "file_format_check_failed")),
            pipelineFailure: .fixture(.init(failInits: [400])),
            readBack: .init(counts: true))
    }
}

import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
import Testing

/// The S3 inbox (issue 27) against moto's S3 server, an implementation that is not ours: a pair listed
/// in the bucket is posted once and its originals filed under `archive/` in the bucket; a sidecar whose
/// clip is not there yet waits; a bad sidecar fails the drop with its reason at the sidecar's line and
/// column, the originals and the failure report under `failed/`; a daemon stopped between the copy and
/// the delete finishes the delete when it starts again — nothing lost, no second drop of an object that
/// is listed again.
@Suite(.serialized) struct S3InboxTests {
    static let keyEnv = "OMNIPOST_TEST_S3_INBOX_KEY", secretEnv = "OMNIPOST_TEST_S3_INBOX_SECRET"

    static func config(_ dir: TempDir, bucket: String) throws -> PipelineConfig {
        // moto takes any keys; the inbox reads them from the environment as a real one would.
        setenv(keyEnv, "moto", 1)
        setenv(secretEnv, "moto", 1)
        let endpoint = try MotoServer.shared().endpoint
        return try TestPipelines.config(
            root: dir.url,
            extra: """
                inbox:
                  s3: {endpoint: "\(endpoint)", bucket: \(bucket), prefix: incoming/, access_key_env: \(keyEnv), secret_key_env: \(secretEnv), archive_prefix: archive/, failed_prefix: failed/, poll_seconds: 1}
                """, targets: "targets: [youtube:main]")
    }

    /// A bucket holding `incoming/walk.mp4` (a real 1 s clip) and, when given, `incoming/walk.yaml`.
    static func bucket(clip: Bool = true, sidecar: String?) async throws -> (S3Bucket, Data) {
        let b = try await MotoServer.shared().bucket("inbox-" + UUID().uuidString.prefix(8).lowercased())
        let bytes = try Data(contentsOf: try Clips.make(width: 320, height: 240, seconds: 1))
        if clip { try await b.put(data: bytes, key: "incoming/walk.mp4", contentType: "video/mp4") }
        if let sidecar { try await b.put(data: Data(sidecar.utf8), key: "incoming/walk.yaml", contentType: "application/yaml") }
        return (b, bytes)
    }

    @Test(.enabled(if: MotoServer.available), .timeLimit(.minutes(4)))
    func aPairIsPostedOnceAndItsOriginalsFiledInTheBucket() async throws {
        let dir = try TempDir()
        let (b, bytes) = try await Self.bucket(sidecar: "title: a walk by the sea\nprivacy: public\n")
        let config = try Self.config(dir, bucket: b.config.bucket)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let deliveries = try p.context.ledger.allDeliveries()
            #expect(deliveries.count == 1 && deliveries.allSatisfy { $0.state == .published }, "\(deliveries.map { "\($0.state) \($0.errorMessage ?? "")" })")
            #expect(try await b.keys().sorted() == ["archive/walk.mp4", "archive/walk.yaml"])
            #expect(try await b.get("archive/walk.mp4") == bytes, "the archived original is the object that was listed")
            let row = try #require(try p.context.ledger.s3Objects(bucket: b.config.bucket, in: S3InboxObject.State.allCases).first)
            #expect(row.state == .archived && row.key == "incoming/walk.mp4" && row.sidecarKey == "incoming/walk.yaml" && row.dropId != nil, "\(row)")
            let drop = try #require(try p.context.ledger.drops().first)
            #expect(drop.state == .archived && drop.stem == "walk")
            // The same bytes put back under the same key: the same ETag, so the same object — never a
            // second drop, however often it is listed.
            try await b.put(data: bytes, key: "incoming/walk.mp4", contentType: "video/mp4")
            let inbox = S3Inbox(ctx: p.context, config: try #require(config.s3Inbox), bucket: b)
            #expect(try await inbox.step() == false)
            #expect(!FileManager.default.fileExists(atPath: config.paths.inbox.appendingPathComponent("walk.mp4").path))
            #expect(try p.context.ledger.s3Objects(bucket: b.config.bucket, in: S3InboxObject.State.allCases).count == 1)
            #expect(try p.context.ledger.drops().count == 1)
        }
    }

    @Test(.enabled(if: MotoServer.available), .timeLimit(.minutes(3)))
    func aSidecarWaitsForItsClip() async throws {
        let dir = try TempDir()
        let (b, bytes) = try await Self.bucket(clip: false, sidecar: "title: later\n")
        var config = try Self.config(dir, bucket: b.config.bucket)
        let s3 = try #require(config.s3Inbox)
        config.s3Inbox = nil
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        try await stopping(p) {
            let inbox = S3Inbox(ctx: p.context, config: s3, bucket: b)
            #expect(try await inbox.step() == false)
            #expect(files(under: config.paths.inbox).isEmpty, "a sidecar alone is not handed over")
            #expect(try p.context.ledger.s3Objects(bucket: b.config.bucket, in: S3InboxObject.State.allCases).isEmpty)
            try await b.put(data: bytes, key: "incoming/walk.mp4", contentType: "video/mp4")
            #expect(try await inbox.step())
            #expect(files(under: config.paths.inbox).sorted() == ["walk.mp4", "walk.yaml"], "\(files(under: config.paths.inbox))")
            #expect(try Data(contentsOf: config.paths.inbox.appendingPathComponent("walk.mp4")) == bytes)
            let row = try #require(try p.context.ledger.s3Objects(bucket: b.config.bucket, in: [.handed]).first)
            #expect(row.sidecarKey == "incoming/walk.yaml" && row.localPath == "walk.mp4")
            #expect(files(under: config.paths.work.appendingPathComponent("s3-inbox")).isEmpty, "nothing half-downloaded is left")
            // Nothing filed yet, nothing deleted in the bucket.
            #expect(try await b.keys().sorted() == ["incoming/walk.mp4", "incoming/walk.yaml"])
            // Stopped after the pair was moved in and before the ledger said `handed`: the next poll finds
            // it there and hands nothing twice.
            try p.context.ledger.setS3Object(bucket: row.bucket, key: row.key, etag: row.etag, state: .waiting)
            #expect(try await inbox.step())
            #expect(try p.context.ledger.s3Objects(bucket: b.config.bucket, in: [.handed]).count == 1)
            #expect(files(under: config.paths.work.appendingPathComponent("s3-inbox")).isEmpty, "nothing downloaded again")
        }
    }

    @Test(.enabled(if: MotoServer.available), .timeLimit(.minutes(3)))
    func aBadSidecarFailsWithItsReasonAndTheOriginalsGoToFailed() async throws {
        let dir = try TempDir()
        let (b, bytes) = try await Self.bucket(sidecar: "title: a walk\nprivacy: [public\n")
        let config = try Self.config(dir, bucket: b.config.bucket)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            #expect(try await b.keys().sorted() == ["failed/walk.failure.json", "failed/walk.mp4", "failed/walk.yaml"])
            #expect(try await b.get("failed/walk.mp4") == bytes)
            let report = try #require(try JSONSerialization.jsonObject(with: try await b.get("failed/walk.failure.json")) as? [String: Any])
            let drop = try #require(try p.context.ledger.drops().first)
            #expect(drop.state == .failed && drop.reasonCode != nil)
            let text = String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self)
            #expect(text.contains(drop.reasonCode ?? "?") && text.contains("walk.yaml:2:"), "\(report)")
            #expect(try p.context.ledger.s3Objects(bucket: b.config.bucket, in: [.failed]).count == 1)
            #expect(try p.context.ledger.allDeliveries().isEmpty, "nothing was posted")
        }
    }

    /// The daemon stopped after copying the originals to archive/ and before deleting them (what
    /// `S3Inbox.finish` writes to the ledger and does in the bucket up to that point, done here, then the
    /// pipeline closed): started again, it finds the copies verified, deletes the originals, and the
    /// originals it lists once more are no second drop.
    @Test(.enabled(if: MotoServer.available), .timeLimit(.minutes(4)))
    func aRestartBetweenCopyAndDeleteLosesNothingAndPostsOnce() async throws {
        let dir = try TempDir()
        let (b, bytes) = try await Self.bucket(sidecar: "title: once\nprivacy: public\n")
        var config = try Self.config(dir, bucket: b.config.bucket)
        let s3 = try #require(config.s3Inbox)
        config.s3Inbox = nil
        let first = try await TestPipelines.runOnce(config) { p in
            let handed = try await S3Inbox(ctx: p.context, config: s3, bucket: b).step()
            #expect(handed)
        }
        let dropId = try await stopping(first) {
            let drop = try #require(try first.context.ledger.drops().first)
            #expect(drop.state == .archived)
            let row = try #require(try first.context.ledger.s3Objects(bucket: b.config.bucket, in: [.handed]).first)
            try first.context.ledger.setS3Object(bucket: row.bucket, key: row.key, etag: row.etag, state: .archiving, dropId: drop.id)
            try await b.copy("incoming/walk.mp4", to: "archive/walk.mp4")
            try await b.copy("incoming/walk.yaml", to: "archive/walk.yaml")
            return drop.id
        }
        #expect(try await b.keys().sorted() == ["archive/walk.mp4", "archive/walk.yaml", "incoming/walk.mp4", "incoming/walk.yaml"])
        let again = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        try await stopping(again) {
            #expect(try await S3Inbox(ctx: again.context, config: s3, bucket: b).step())
            #expect(try await b.keys().sorted() == ["archive/walk.mp4", "archive/walk.yaml"])
            #expect(try await b.get("archive/walk.mp4") == bytes)
            let rows = try again.context.ledger.s3Objects(bucket: b.config.bucket, in: S3InboxObject.State.allCases)
            #expect(rows.count == 1 && rows[0].state == .archived && rows[0].dropId == dropId, "\(rows)")
            #expect(try again.context.ledger.drops().count == 1)
            #expect(try again.context.ledger.allDeliveries().count == 1)
            #expect(files(under: config.paths.inbox).isEmpty)
        }
    }
}

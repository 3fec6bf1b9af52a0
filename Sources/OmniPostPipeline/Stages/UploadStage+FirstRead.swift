import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

extension UploadStage {
    /// The post's first read-back, made here as the post is recorded when it asks nobody — a folder's file
    /// looked at (`ReadBack.local`), or a target with nothing to read (`not_applicable`). The verify stage
    /// makes a post's first read as soon as it enters it (`enrolPublishedPosts`: due at once), so this is
    /// the same read a moment sooner. It is committed with the post (`transitionDelivery(… firstRead:)`), so the archive, which may file the
    /// drop the moment that commits, writes `result.json` once with `verified` settled in it. Made by the
    /// verify stage a moment later, it settled after the filing in most drops, and the result was written
    /// a second time: two fsyncs, a new inode, a JSON decode and encode a drop (issue 30). Nil — left to
    /// the verify stage as before — for a platform's read, or a look that failed.
    func firstRead(
        _ d: DeliveryRecord, id: Int64, result: PublishOutcome, metadata: PublishMetadata, adapter: any PlatformAdapter, publishedAt: Double
    ) async -> (read: PostRead, line: String?)? {
        guard let descriptor = PlatformRegistry.descriptor(d.platform), descriptor.readBack.settlesAtPublish else { return nil }
        let check = PostCheckRecord(
            deliveryId: id, target: d.target, platform: d.platform, account: d.account, remoteId: result.remoteId, publishedAt: publishedAt)
        if let why = descriptor.readBack.reason { return (PostRead(check: VerifyStage.notApplicable(check, why: why)), nil) }
        let ref = PostRef(remoteId: result.remoteId, url: result.url, asked: metadata.privacy, publishAt: metadata.publishAt)
        guard let seen = try? await adapter.readBack([ref]) else { return nil }
        let now = ctx.now.timeIntervalSince1970
        return VerifyStage.verification(
            check, ref: ref, seen[ref.remoteId] ?? .absent("the read did not mention \(ref.remoteId)"), platform: descriptor.displayName,
            afterPost: ctx.config.afterPost, now: now)
    }
}

import Foundation
import NIOCore
import OmniPostCore

/// Douyin's `create_video` (the text, the cover time, @-mentions, a POI, a mini app) through `ListedPost`:
/// it spends the `video_id` and has no idempotency key, and the item it makes is read back from `video_list`.
extension DouyinAdapter {
    var listed: ListedPost<Session, DouyinWire.Item> {
        listedPost(
            noun: "post", sentAt: \.createSentAt, postedID: \.itemID, find: { s, id in try await findItem(s, id: id) }, id: { $0.item_id },
            outcome: { outcome($0) }, outcomeForID: { outcome(id: $0) })
    }

    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded, save: SessionSave<Session>) async throws -> PublishOutcome {
        guard let video = s.videoID else { throw DeliveryError(.retryNow, .platformError, "no video_id to create the Douyin post with") }
        // A token that cannot be had fails here, before the create is recorded as having left.
        _ = try await settings.tokens.accessToken()
        return try await listed.post(s, save: save) {
            let m = job.metadata
            let atUsers = m.options["at_users"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            let body = DouyinWire.Create(
                video_id: video, text: s.text, cover_tsp: m.coverAtMs.map { Double($0) / 1000 }, at_users: atUsers,
                poi_id: m.options["poi_id"], micro_app_id: m.options["micro_app_id"])
            let r = try await api.send(url: url("create_video/"), json: body)
            // Only Douyin's own refusal (a non-zero error code) or a 4xx made no post: a 5xx, or a success (or a
            // 2xx saying nothing) without an item id, leaves the create uncertain.
            if r.status >= 500 { return .uncertain }
            let code = DouyinWire.errorCode(r)
            guard (200..<300).contains(r.status), code == 0 || code == nil else { throw Self.classify(r, during: "creating the post") }
            guard let item = r.decoded(DouyinWire.Envelope<DouyinWire.Created>.self)?.data?.item_id, !item.isEmpty else { return .uncertain }
            return .made(item)
        }
    }
}

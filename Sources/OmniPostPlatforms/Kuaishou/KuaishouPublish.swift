import Foundation
import NIOCore
import OmniPostCore

/// Kuaishou's publish (发布视频: `photo/publish?upload_token`, multipart `caption` and `cover`) through
/// `ListedPost`: it has no idempotency key, spends the upload token, and is asynchronous — "该接口返回结果后，
/// 不代表视频已经同步发布到用户P页" (the answer does not mean the work is on the profile yet).
extension KuaishouAdapter {
    var listed: ListedPost<Session, KuaishouWire.Work> {
        listedPost(
            noun: "work", sentAt: \.publishSentAt, postedID: \.photoId, find: { s, id in try await findWork(s, id: id) }, id: { $0.photo_id },
            outcome: { outcome($0) }, outcomeForID: { outcome(id: $0) })
    }

    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded, save: SessionSave<Session>) async throws -> PublishOutcome {
        // A token that cannot be had fails here, before the publish is recorded as having left.
        _ = try await settings.tokens.accessToken()
        return try await listed.post(s, save: save) {
            guard let path = job.coverPath, let cover = FileManager.default.contents(atPath: path) else {
                throw DeliveryError(.retryNow, .internalError, "no cover image for the Kuaishou work (the convert stage takes a frame)")
            }
            var form = MultipartForm()
            form.field("caption", s.caption)
            if let stereo = job.metadata.options["stereo_type"] { form.field("stereo_type", stereo) }
            form.file("cover", filename: "cover.jpg", contentType: "image/jpeg", ByteBuffer(data: cover))
            let r = try await api.send(
                url: url("photo/publish", [("upload_token", s.uploadToken)]), method: .POST, headers: [("Content-Type", form.contentType)], body: form.body)
            // Only Kuaishou's own refusal (a `result` other than 1) or a 4xx made no work: a 5xx, or a success
            // (or a 2xx saying nothing) without an id it can be read by, leaves the publish uncertain.
            if r.status >= 500 { return .uncertain }
            // `KuaishouErrors.code` is nil for a success (result 1) and for a body that says nothing.
            guard (200..<300).contains(r.status), KuaishouErrors.code(r) == nil else { throw Self.classify(r, during: "publishing the work") }
            guard let id = r.decoded(KuaishouWire.Published.self)?.video_info?.photo_id, !id.isEmpty else { return .uncertain }
            return .made(id)
        }
    }
}

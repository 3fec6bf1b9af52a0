import Foundation
import NIOCore
import OmniPostCore

/// Kuaishou's publish and how it ended. `photo/publish` has no idempotency key and is asynchronous (发布视频:
/// "该接口返回结果后，不代表视频已经同步发布到用户P页" — the answer does not mean the work is on the
/// profile yet), so every step that decides what a restart may do is checkpointed first (`SessionSave`):
/// `publishSentAt` before the publish leaves, `photoId` once it is answered. A session that sent its
/// publish never sends it again: an answered one is its work (looked for in `photo/list` a while, recorded
/// by its id either way); one whose answer was lost is looked for by its caption until `settleWindow`
/// passes, then a person is asked (`uncertain_post`) — a second work is worse than none.
extension KuaishouAdapter {
    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        try await post(s, job, uploaded: uploaded, save: SessionSave { _ in })
    }

    package func post(_ session: Session, _ job: UploadJob, uploaded: Uploaded, save: SessionSave<Session>) async throws -> PublishOutcome {
        var s = session
        if let id = s.photoId { return try await shown(s, id: id) }
        if s.publishSentAt != nil { return try await settle(s, save: save) }
        guard let path = job.coverPath, let cover = FileManager.default.contents(atPath: path) else {
            throw DeliveryError(.retryNow, .internalError, "no cover image for the Kuaishou work (the convert stage takes a frame)")
        }
        var form = MultipartForm()
        form.field("caption", s.caption)
        if let stereo = job.metadata.options["stereo_type"] { form.field("stereo_type", stereo) }
        form.file("cover", filename: "cover.jpg", contentType: "image/jpeg", ByteBuffer(data: cover))
        s.publishSentAt = Date().timeIntervalSince1970
        try await save(s)
        let r: AuthorizedHTTP.Reply
        do {
            r = try await api.send(
                url: url("photo/publish", [("upload_token", s.uploadToken)]), method: .POST, headers: [("Content-Type", form.contentType)], body: form.body)
        } catch let e as DeliveryError where e.code == .networkError {
            // The answer was lost: the work may exist, or be on its way to the list.
            return try await settle(s, save: save)
        }
        // A 5xx leaves the publish uncertain just the same; Kuaishou's own refusal (its `result`) made no work.
        if r.status >= 500 { return try await settle(s, save: save) }
        let published: KuaishouWire.Published
        do { published = try Self.answer(r, KuaishouWire.Published.self, during: "publishing the work") } catch {
            s.publishSentAt = nil
            try await save(s)
            throw error
        }
        guard let id = published.video_info?.photo_id, !id.isEmpty else {
            // Taken, but no id to know its work by: looked for by its caption, as a lost answer is.
            return try await settle(s, save: save)
        }
        s.photoId = id
        try await save(s)
        return try await shown(s, id: id)
    }

    /// The work Kuaishou answered for, as `photo/list` shows it once processed — looked for within
    /// `listWindow`, else recorded by its id (the read-back follows it from there).
    func shown(_ s: Session, id: String) async throws -> PublishOutcome {
        let until = ContinuousClock.now + listWindow
        var pacer = poll.pacer()
        repeat {
            try await pacer.pace()
            if let w = try? await findWork(s, id: id) { return outcome(w) }
        } while ContinuousClock.now < until
        return outcome(id: id)
    }

    /// A publish whose answer was lost: its work looked for by our caption, made since the bytes were all in,
    /// until `settleWindow` has passed since it left; then a person is asked.
    func settle(_ session: Session, save: SessionSave<Session>) async throws -> PublishOutcome {
        var s = session
        let until = Date(timeIntervalSince1970: (s.publishSentAt ?? Date().timeIntervalSince1970) + settleWindow.seconds)
        var pacer = poll.pacer()
        // Reading the list is safe to repeat: a failure for now is tried again at the poll's pace.
        var retry = PartRetry(settings)
        repeat {
            try await pacer.pace()
            do {
                if let w = try await findWork(s, id: nil) {
                    s.photoId = w.photo_id
                    try await save(s)
                    // Found, not made: nothing was published this time.
                    var found = outcome(w)
                    found.reconciled = true
                    return found
                }
                retry.succeeded()
            } catch let e as DeliveryError where e.kind == .retryNow {
                try await retry.again(after: e)
            }
        } while Date() < until
        throw uncertain(s)
    }

    /// A publish that left, whose work never showed: not published again.
    func uncertain(_ s: Session) -> DeliveryError {
        let since = Date(timeIntervalSince1970: s.publishSentAt ?? s.finishedAt ?? s.startedAt)
        return DeliveryError(
            .permanent, .uncertainPost,
            "Kuaishou's publish at \(ISO8601DateFormatter().string(from: since)) lost its answer, and no work with its caption showed in the account's works within \(DurationText.format(settleWindow.seconds)); it was not published again (a second work is worse than none). Look at the account's works; `omnipost retry` uploads and publishes it again"
        )
    }
}

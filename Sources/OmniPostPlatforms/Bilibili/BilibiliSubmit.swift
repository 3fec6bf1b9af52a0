import Foundation
import NIOCore
import OmniPostCore

/// Bilibili's submit (`add-by-utoken`: the title, category, tags, description, copyright, the cover's URL)
/// through `ListedPost`: it spends the upload token and has no idempotency key, and the archive it makes is
/// read back from `viewlist`.
extension BilibiliAdapter {
    var listed: ListedPost<Session, BilibiliWire.Archive> {
        listedPost(
            noun: "archive", sentAt: \.submitSentAt, postedID: \.resourceID, find: { s, id in try await findArchive(s, id: id) }, id: { $0.resource_id },
            outcome: { outcome($0) }, outcomeForID: { outcome(id: $0) })
    }

    /// The cover first (a request of its own, safe to repeat), then the submit.
    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded, save: SessionSave<Session>) async throws -> PublishOutcome {
        let cover = s.resourceID == nil && s.submitSentAt == nil ? try await uploadCover(job) : ""
        // A token that cannot be had fails here, before the submit is recorded as having left.
        _ = try await settings.tokens.accessToken()
        return try await listed.post(s, save: save) {
            let m = job.metadata
            let tid = Int(m.options["tid"] ?? ((try? account.text("tid")) ?? nil) ?? "") ?? 0
            let body = BilibiliWire.Submit(
                title: s.title, cover: cover, tid: tid, no_reprint: m.options["no_reprint"] == "true" ? 1 : 0, desc: m.description,
                tag: m.tags.joined(separator: ","), copyright: Int(m.options["copyright"] ?? "1") ?? 1, source: m.options["source"])
            let r = try await api.send(url: url("archive/add-by-utoken", [("upload_token", s.uploadToken)]), json: body)
            // Only Bilibili's own refusal (a non-zero code) or a 4xx made no archive: a 5xx, or a success (or a
            // 2xx saying nothing) without a resource id, leaves the submit uncertain.
            if r.status >= 500 { return .uncertain }
            let code = BilibiliErrors.code(r)
            guard (200..<300).contains(r.status), code == 0 || code == nil else { throw Self.classify(r, during: "submitting the archive") }
            guard let id = r.decoded(BilibiliWire.Envelope<BilibiliWire.Submitted>.self)?.data?.resource_id, !id.isEmpty else { return .uncertain }
            return .made(id)
        }
    }
}

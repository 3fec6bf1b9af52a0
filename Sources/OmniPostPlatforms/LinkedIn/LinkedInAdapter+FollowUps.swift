import Foundation
import OmniPostCore

/// LinkedIn's follow-up: a first comment by the post's author — `POST /rest/socialActions/{post-urn}/comments`
/// with `actor`, `object` and `message.text` (Comments API, "Create a Comment"; `w_member_social`).
/// Whether one was made before a kill is `GET` on the same path ("Get Comments on Shares"), the author's
/// comment with the same text. Reading comments needs `r_member_social` (or the organization's
/// `r_organization_social`), which LinkedIn grants on request: an app without it is refused (403) there,
/// and a comment whose answer was lost is then kept as failed, never sent twice (`FollowUpRun`).
extension LinkedInAdapter: FollowingUp {
    package func findFollowUp(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        let actor = try await poster()
        var start = 0
        while true {
            let r = try await rest("/rest/socialActions/\(Self.encodeURN(post.remoteId))/comments?start=\(start)&count=100")
            guard r.status == 200, let page = r.decoded(LinkedInWire.Comments.self) else { throw Self.classify(r, during: "listing the comments of \(post.remoteId)") }
            if let mine = page.elements.first(where: { $0.actor == actor && $0.message?.text == f.text }) { return mine.commentUrn ?? mine.id }
            start += page.elements.count
            if page.elements.isEmpty || start >= (page.paging?.total ?? 0) { return nil }
        }
    }

    package func makeFollowUp(_ f: FollowUp, on post: PublishOutcome) async throws -> String {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        let actor = try await poster()
        let r = try await rest(
            "/rest/socialActions/\(Self.encodeURN(post.remoteId))/comments",
            json: LinkedInWire.Comment(actor: actor, object: post.remoteId, message: .init(text: f.text ?? "")))
        guard r.status == 201 || r.status == 200 else { throw Self.classify(r, during: "commenting on \(post.remoteId)") }
        if let urn = r.headers.first(name: "x-restli-id") { return urn }
        guard let made = r.decoded(LinkedInWire.Made.self) else { throw Self.classify(r, during: "commenting on \(post.remoteId)") }
        return made.commentUrn ?? made.id
    }
}

extension LinkedInWire {
    struct Comment: Encodable {
        struct Message: Codable { var text: String }
        var actor: String
        var object: String
        var message: Message
    }
    struct Made: Decodable {
        var id: String
        var commentUrn: String?
        var actor: String?
        var message: Comment.Message?
    }
    struct Comments: Decodable {
        struct Paging: Decodable { var total: Int? }
        var elements: [Made]
        var paging: Paging?
    }
}

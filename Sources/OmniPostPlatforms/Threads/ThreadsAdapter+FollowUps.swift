import Foundation
import OmniPostCore

/// Threads' follow-up: a first comment is a reply by the same user — a TEXT container with `reply_to_id`,
/// then `threads_publish` (developers.facebook.com/docs/threads/retrieve-and-manage-replies/create-replies).
/// Whether one was published before a kill is `GET /{media-id}/replies` (the post's top-level replies),
/// the user's own reply with the same text; a container made and never published is no reply, so it is
/// made again.
extension ThreadsAdapter: FollowingUp {
    package func findFollowUp(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        let mine = try await graph.first(
            in: "/\(post.remoteId)/replies", fields: "id,text,username,is_reply_owned_by_me", during: "listing the replies to \(post.remoteId)"
        ) { (r: ThreadsWire.Reply) in r.text == f.text && (r.is_reply_owned_by_me ?? true) }
        return mine?.id
    }

    package func makeFollowUp(_ f: FollowUp, on post: PublishOutcome) async throws -> String {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        let user = try await container.userID(account)
        let made = try await graph.call(.POST, "/\(user)/threads", [("media_type", "TEXT"), ("text", f.text ?? ""), ("reply_to_id", post.remoteId)])
        guard made.status == 200, let id = made.decoded(GraphWire.Created.self)?.id else { throw graph.classify(made, during: "making the reply to \(post.remoteId)") }
        let r = try await graph.call(.POST, "/\(user)/threads_publish", [("creation_id", id)])
        guard r.status == 200, let reply = r.decoded(GraphWire.Created.self)?.id else { throw graph.classify(r, during: "publishing the reply to \(post.remoteId)") }
        return reply
    }
}

extension ThreadsWire {
    struct Reply: Decodable {
        var id: String
        var text: String?
        var is_reply_owned_by_me: Bool?
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OmniPostCore

/// Replies on Threads as documented (Create Replies; Retrieve Replies): a reply is a post — a
/// `media_type=TEXT` container with `text` (required for TEXT, 500 at most, an emoji as its UTF-8
/// bytes) and `reply_to_id`, published with `threads_publish`. Replying to a post needs its owner's
/// token here (the documented alternative, keyword search or mention permissions, is not modelled).
/// `GET /{media-id}/replies` lists a post's top-level replies oldest first: `id`, `text`, `username`,
/// `timestamp`, `is_reply_owned_by_me`, a page of `limit` (default 25, at most 100) with `paging.cursors`.
enum ThreadsReplyRoutes {
    typealias G = GraphRoutes

    /// `POST /{user}/threads` with `media_type=TEXT`.
    static func container(_ p: [String: String], account: String, user: String, state: SandboxState) async -> Response {
        let text = p["text"] ?? ""
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return G.graphError(400, "The parameter text is required for media_type=TEXT", code: 100)
        }
        if ThreadsPostLength.of(text) > ThreadsPostLength.limit {
            return G.graphError(400, "The text is too long (500 characters at most; emoji count as their UTF-8 bytes)", code: 100)
        }
        guard let to = p["reply_to_id"] else {
            // A text post of its own: nothing OmniPost makes.
            return G.graphError(400, "A TEXT container in this sandbox is a reply: reply_to_id is required", code: 100)
        }
        guard let parent = await state.threadsPost(to) else {
            return G.graphError(400, "Object with ID '\(to)' does not exist", code: 100, subcode: 33)
        }
        guard parent.account == account else {
            return G.graphError(400, "(#10) You do not have permission to reply to this post", code: 10)
        }
        let c = await state.makeThreadsReply(account: account, user: user, text: text, to: to)
        return SandboxHTTP.json(.ok, ["id": c.id])
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/:version/:id/replies") { req, ctx -> Response in
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state, platform: "threads") else { return G.badToken }
            let id = ctx.parameters.get("id") ?? ""
            guard await state.threadsPost(id) != nil else {
                return G.graphError(400, "Unsupported get request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
            }
            let all = await state.threadsReplies(to: id)
            let (page, paging) = GraphCommentRoutes.paged(all, p, path: "/\(ctx.parameters.get("version") ?? "")/\(id)/replies")
            let data: [[String: Any]] = page.map { c in
                [
                    "id": c.postID ?? "", "text": c.text, "username": String(c.account.dropFirst("threads:".count)),
                    "timestamp": InstagramRoutes.graphTime(c.created), "is_reply_owned_by_me": c.account == account
                ]
            }
            return SandboxHTTP.json(.ok, ["data": data, "paging": paging])
        }
    }
}

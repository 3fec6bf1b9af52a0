import Foundation
import OmniPostCore

/// Reddit's follow-up: a first comment by the poster — `POST /api/comment` with `thing_id` (the post's
/// fullname, `t3_…`), `text` (markdown) and `api_type=json` (reddit.com/dev/api#POST_api_comment; PRAW's
/// `submission.reply`), whose answer is `json.data.things[0]`, a `t1`. Errors come inside an HTTP 200 as
/// `json.errors`, as a submit's do. Whether one was made before a kill is `GET /comments/{id}` (the
/// post's listing, then its comments, oldest first with `sort=old`): the poster's comment with the same body.
extension RedditAdapter: FollowingUp {
    package func findFollowUp(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        let me = try await username()
        let r = try await reddit.send("/comments/\(post.remoteId)?sort=old&limit=500&depth=1&raw_json=1")
        guard r.status == 200, let pair = r.decoded([RedditWire.CommentListing].self), pair.count == 2 else {
            throw reddit.failure(r, during: "reading the comments of t3_\(post.remoteId)")
        }
        return pair[1].data.children.first { $0.kind == "t1" && $0.data.author == me && $0.data.body == f.text }?.data.name
    }

    package func makeFollowUp(_ f: FollowUp, on post: PublishOutcome) async throws -> String {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        let r = try await reddit.send("/api/comment", method: .POST, form: [("api_type", "json"), ("thing_id", "t3_" + post.remoteId), ("text", f.text ?? "")])
        guard r.status == 200, let answer = r.decoded(RedditWire.CommentMade.self) else { throw reddit.failure(r, during: "commenting on t3_\(post.remoteId)") }
        if let e = RedditAPI.submitErrors(answer.json.errors ?? []) { throw e }
        guard let made = answer.json.data?.things.first?.data.name else { throw reddit.failure(r, during: "commenting on t3_\(post.remoteId)") }
        return made
    }
}

extension RedditWire {
    struct Comment: Decodable {
        var name: String?
        var author: String?
        var body: String?
    }
    struct Thing: Decodable {
        var kind: String
        var data: Comment
    }
    /// `GET /comments/{id}`: `[post listing, comment listing]`.
    struct CommentListing: Decodable {
        struct Data: Decodable { var children: [Thing] }
        var data: Data
    }
    struct CommentMade: Decodable {
        struct JSON: Decodable {
            struct Made: Decodable { var things: [Thing] }
            var errors: [[String?]]?
            var data: Made?
        }
        var json: JSON
    }
}

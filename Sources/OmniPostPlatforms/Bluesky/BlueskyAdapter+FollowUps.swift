import Foundation
import OmniPostCore

/// Bluesky's follow-up: a first comment is a reply post — an `app.bsky.feed.post` record whose `reply`
/// holds strong refs (`uri` and `cid`) to the thread's `root` and its `parent`, both our post here
/// (lexicon app.bsky.feed.post, `replyRef`; atproto's `send_post(reply_to=…)` makes the same). The
/// post's cid is read with `com.atproto.repo.getRecord`. Whether the reply was made before a kill is
/// `app.bsky.feed.getPostThread` (depth 1): a reply by our DID with the same text.
extension BlueskyAdapter: FollowingUp {
    package func findFollowUp(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        let did = try await session.current().did
        let r = try await xrpc.call(.GET, pds, "app.bsky.feed.getPostThread", query: [("uri", post.remoteId), ("depth", "1"), ("parentHeight", "0")])
        guard r.status == 200, let view = r.decoded(BlueskyWire.Thread.self) else { throw BlueskyXRPC.failure(r, "reading the thread of \(post.remoteId)") }
        return view.thread.replies?.first { $0.post?.author.did == did && $0.post?.record.text == f.text }?.post?.uri
    }

    package func makeFollowUp(_ f: FollowUp, on post: PublishOutcome) async throws -> String {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        let did = try await session.current().did
        let parts = post.remoteId.dropFirst("at://".count).split(separator: "/").map(String.init)
        guard parts.count == 3 else { throw DeliveryError(.permanent, .internalError, "\(post.remoteId) is not a post's AT URI") }
        let got = try await xrpc.call(.GET, pds, "com.atproto.repo.getRecord", query: [("repo", parts[0]), ("collection", parts[1]), ("rkey", parts[2])])
        guard got.status == 200, let ref = got.decoded(BlueskyWire.RecordRef.self), let cid = ref.cid else {
            throw BlueskyXRPC.failure(got, "reading the post \(post.remoteId)")
        }
        let text = f.text ?? ""
        let facets = try await richText(text)
        let strong = BlueskyWire.StrongRef(uri: ref.uri, cid: cid)
        let record = BlueskyWire.ReplyPost(
            text: text, createdAt: ISO8601DateFormatter().string(from: Date()), reply: .init(root: strong, parent: strong),
            facets: facets.isEmpty ? nil : facets)
        let r = try await xrpc.call(
            .POST, pds, "com.atproto.repo.createRecord", body: try BlueskyXRPC.json(BlueskyWire.CreateReply(repo: did, record: record)))
        guard r.status == 200, let made = r.decoded(BlueskyWire.RecordRef.self) else { throw BlueskyXRPC.failure(r, "replying to \(post.remoteId)") }
        return made.uri
    }
}

extension BlueskyWire {
    struct StrongRef: Codable {
        var uri: String
        var cid: String
    }

    struct ReplyPost: Encodable {
        struct Reply: Encodable {
            var root: StrongRef
            var parent: StrongRef
        }
        var type = "app.bsky.feed.post"
        var text: String
        var createdAt: String
        var reply: Reply
        var facets: [Facet]?
        enum CodingKeys: String, CodingKey {
            case type = "$type"
            case text, createdAt, reply, facets
        }
    }

    struct CreateReply: Encodable {
        var repo: String
        var collection = "app.bsky.feed.post"
        var record: ReplyPost
    }

    /// `app.bsky.feed.getPostThread`: the post's view and its replies' (a reply not found or blocked is
    /// another `$type`, without `post`).
    struct Thread: Decodable {
        struct Node: Decodable {
            struct Post: Decodable {
                struct Author: Decodable { var did: String }
                struct Record: Decodable { var text: String? }
                var uri: String
                var author: Author
                var record: Record
            }
            var post: Post?
            var replies: [Node]?
        }
        var thread: Node
    }
}

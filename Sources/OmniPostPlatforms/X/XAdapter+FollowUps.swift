import Foundation
import NIOCore
import OmniPostCore

/// X's follow-up: a first comment is a reply by the same account — `POST /2/tweets` with
/// `reply.in_reply_to_tweet_id` (docs.x.com, Manage Posts: "reply" object; tweepy's `create_tweet(...,
/// in_reply_to_tweet_id=)`). Whether one was made before a kill is the account's timeline,
/// `GET /2/users/:id/tweets` with `tweet.fields=referenced_tweets`: a post `replied_to` ours with the same
/// text. The timeline is the read the post's own reconcile uses (search needs a paid tier).
extension XAdapter: FollowingUp {
    package func findFollowUp(_ f: FollowUp, of post: PublishOutcome) async throws -> String? {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        let user = try await whoIsPosting()
        let r = try await api.send(
            url: account.endpoint + "/2/users/\(user.id)/tweets?max_results=100&tweet.fields=referenced_tweets,created_at",
            method: .GET, headers: [], body: ByteBuffer())
        guard r.status == 200 else { throw Self.classify(r, during: "reading the account's recent posts", accountRead: true) }
        let tweets = r.decoded(XWire.Envelope<[XWire.Tweet]>.self)?.data ?? []
        return tweets.first { t in
            t.text == f.text && t.referenced_tweets?.contains { $0.type == "replied_to" && $0.id.value == post.remoteId } == true
        }?.id.value
    }

    package func makeFollowUp(_ f: FollowUp, on post: PublishOutcome) async throws -> String {
        guard f.kind == .firstComment else { throw f.notTaken(by: platform) }
        let r = try await api.send(url: account.endpoint + "/2/tweets", json: XWire.Reply(text: f.text ?? "", reply: .init(in_reply_to_tweet_id: post.remoteId)))
        guard r.status == 201 || r.status == 200, let d = r.decoded(XWire.Envelope<XWire.Tweet>.self)?.data else {
            throw Self.classify(r, during: "replying to \(post.remoteId)")
        }
        return d.id.value
    }
}

extension XWire {
    struct Reply: Encodable {
        struct To: Encodable { var in_reply_to_tweet_id: String }
        var text: String
        var reply: To
    }
}

import Foundation
import Hummingbird
import OmniPostCore

/// Post lookup, `GET /2/tweets?ids=…` (https://docs.x.com/x-api/posts/post-lookup-by-post-ids): 1 to 100
/// ids; found posts in `data`, each missing one as an `errors` entry of type `resource-not-found` (HTTP
/// 200 all the same). `tweet.fields=public_metrics` adds `retweet_count`, `reply_count`, `like_count`,
/// `quote_count`, `bookmark_count` and `impression_count`, integers.
extension XRoutes {
    static func addPostLookup(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/2/tweets") { req, _ -> Response in
            await state.count("x.lookup")
            guard await account(req, state) != nil else { return unauthorized }
            if let after = await state.takeReadLimit() { return tooMany(after: after) }
            let ids = (SandboxHTTP.query(req, "ids") ?? "").split(separator: ",").map(String.init)
            guard (1...100).contains(ids.count), ids.allSatisfy({ $0.allSatisfy(\.isNumber) }) else {
                return invalid("ids: 1 to 100 numeric post ids")
            }
            let fields = Set((SandboxHTTP.query(req, "tweet.fields") ?? "").split(separator: ",").map(String.init))
            var data: [[String: Any]] = []
            var errors: [[String: Any]] = []
            for id in ids {
                guard let v = await state.allVideos().last(where: { $0.platform == "x" && $0.id == id }),
                    let life = await state.postLife(platform: "x", id: id), life.found
                else {
                    errors.append([
                        "value": id, "detail": "Could not find tweet with ids: [\(id)].", "title": "Not Found Error", "resource_type": "tweet",
                        "parameter": "ids", "resource_id": id, "type": "https://api.twitter.com/2/problems/resource-not-found"
                    ])
                    continue
                }
                var t: [String: Any] = ["id": v.id, "text": v.title, "edit_history_tweet_ids": [v.id]]
                if fields.contains("created_at") { t["created_at"] = ISO8601DateFormatter().string(from: v.receivedAt) }
                if fields.contains("public_metrics") {
                    let n = life.numbers
                    t["public_metrics"] = [
                        "retweet_count": n.shares, "reply_count": n.comments, "like_count": n.likes, "quote_count": 0,
                        "bookmark_count": n.saves, "impression_count": n.views
                    ]
                }
                data.append(t)
            }
            var reply: [String: Any] = [:]
            if !data.isEmpty { reply["data"] = data }
            if !errors.isEmpty { reply["errors"] = errors }
            return SandboxHTTP.json(.ok, reply)
        }
    }
}

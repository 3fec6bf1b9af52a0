import Foundation
import Hummingbird
import OmniPostCore

/// `GET /by_id/{names}` (https://www.reddit.com/dev/api#GET_by_id_{names}): a Listing of the posts named
/// by fullname (`t3_…`, comma-separated, 100 at most) that exist; each with `score`, `ups`,
/// `num_comments` and `removed_by_category` (null, or who removed it: `reddit` for the admins,
/// `moderator`, `deleted` by its author). Reddit gives no view count (`view_count` is null).
extension RedditRoutes {
    static func addByID(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        router.get("/by_id/:names") { req, ctx -> Response in
            switch await authorize(req, state, route: "by_id") {
            case .failure(let f): return f.response
            case .success(let (_, h)):
                let names = (ctx.parameters.get("names") ?? "").split(separator: ",").map(String.init)
                guard (1...100).contains(names.count), names.allSatisfy({ $0.hasPrefix("t3_") }) else {
                    return SandboxHTTP.json(.badRequest, ["message": "Bad Request", "error": 400], headers: h)
                }
                var children: [[String: Any]] = []
                for name in names {
                    let id = String(name.dropFirst(3))
                    guard let p = await state.redditPost(id), let life = await state.postLife(platform: "reddit", id: id), life.fate != .hidden else {
                        continue
                    }
                    var t = thing(p, base: baseURL())
                    var data = t["data"] as? [String: Any] ?? [:]
                    let n = life.numbers
                    data["score"] = n.likes
                    data["ups"] = n.likes
                    data["num_comments"] = n.comments
                    data["view_count"] = NSNull()
                    data["removed_by_category"] = life.takenDown ? "reddit" : NSNull()
                    t["data"] = data
                    children.append(t)
                }
                return SandboxHTTP.json(.ok, listing(children), headers: h)
            }
        }
    }
}

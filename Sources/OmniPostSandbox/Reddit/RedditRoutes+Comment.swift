import Foundation
import Hummingbird
import OmniPostCore

/// `POST /api/comment` as reddit.com/dev/api documents it (and PRAW's `reply` sends it): `thing_id`, the
/// fullname of what is answered (`t3_…`, a post here), and `text`, its markdown body (10,000 characters
/// at most; `TOO_LONG`); with `api_type=json` the answer is `json.errors` and `json.data.things`, the new
/// `t1`. An empty body is `NO_TEXT`, a post that does not exist `INVALID_ID`.
extension RedditRoutes {
    static func addComment(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/api/comment") { req, _ -> Response in
            switch await authorize(req, state, route: "comment") {
            case .failure(let f): return f.response
            case .success(let (account, h)):
                var req = req
                let form = SandboxHTTP.form(try await req.collectBody(upTo: 1 << 20))
                func errors(_ list: [[String]]) -> Response { SandboxHTTP.json(.ok, ["json": ["errors": list]], headers: h) }
                let thing = form["thing_id"] ?? ""
                guard thing.hasPrefix("t3_"), let p = await state.redditPost(String(thing.dropFirst(3))) else {
                    return errors([["INVALID_ID", "that thing doesn't exist", "thing_id"]])
                }
                let text = form["text"] ?? ""
                if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return errors([["NO_TEXT", "we need something here", "text"]]) }
                if text.count > 10_000 { return errors([["TOO_LONG", "this is too long (max: 10000)", "text"]]) }
                if let code = await state.takeFollowUpFault() { return SandboxHTTP.json(.init(code: code), ["message": "Injected", "error": code], headers: h) }
                let c = SandboxTextTrack(id: SandboxState.randomID(7, alphabet: "abcdefghijklmnopqrstuvwxyz0123456789"), language: "", name: account, text: text)
                await state.addComment(c, platform: "reddit", post: p.id)
                if await state.losesFollowUpReply() { return SandboxHTTP.json(.badGateway, ["message": "Bad Gateway", "error": 502], headers: h) }
                let made = comment(c, on: p)
                if form["api_type"] == "json" { return SandboxHTTP.json(.ok, ["json": ["errors": [] as [Any], "data": ["things": [made]]]], headers: h) }
                return SandboxHTTP.json(.ok, ["jquery": [] as [Any], "success": true], headers: h)
            }
        }
    }

    /// A comment as a `t1` thing on a post.
    static func comment(_ c: SandboxTextTrack, on p: SandboxState.RedditPost) -> [String: Any] {
        [
            "kind": "t1",
            "data": [
                "id": c.id, "name": "t1_" + c.id, "body": c.text, "author": String(c.name.dropFirst("reddit:".count)), "link_id": "t3_" + p.id,
                "parent_id": "t3_" + p.id, "subreddit": p.subreddit, "permalink": SandboxState.redditPermalink(p) + c.id + "/",
                "created_utc": 1_767_225_600.0, "score": 1, "replies": ""
            ] as [String: Any]
        ]
    }
}

import Foundation
import Hummingbird
import OmniPostCore

/// `app.bsky.feed.getPosts` (the AppView, proxied by the PDS; lexicon `app.bsky.feed.getPosts`): `uris`
/// repeated, at most 25; a post view per URI found — `uri`, `cid`, `author`, `record`, `indexedAt` and
/// the integer counts `replyCount`, `repostCount`, `likeCount`, `quoteCount`. A URI the AppView does
/// not have (deleted, taken down) is left out, not an error. Bluesky has no view count and no privacy.
extension BlueskyRoutes {
    static func addGetPosts(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/xrpc/app.bsky.feed.getPosts") { req, _ -> Response in
            await state.count("bluesky.getPosts")
            let (did, refusal) = await user(req, state: state)
            guard did != nil else { return refusal! }
            let uris = SandboxHTTP.queryAll(req, "uris")
            guard (1...25).contains(uris.count) else { return fail(.badRequest, "InvalidRequest", "uris: 1 to 25 AT URIs") }
            var posts: [[String: Any]] = []
            for uri in uris {
                guard uri.hasPrefix("at://"), let life = await state.postLife(platform: "bluesky", id: uri), life.found else { continue }
                let parts = uri.dropFirst("at://".count).split(separator: "/").map(String.init)
                guard parts.count == 3, let r = await state.bskyRecord(did: parts[0], rkey: parts[2]) else { continue }
                let n = life.numbers
                posts.append([
                    "uri": r.uri, "cid": r.cid, "author": ["did": parts[0], "handle": "sandbox.bsky.social"], "record": value(r),
                    "indexedAt": ISO8601DateFormatter().string(from: await state.now), "replyCount": n.comments, "repostCount": n.shares,
                    "likeCount": n.likes, "quoteCount": 0, "labels": [] as [Any]
                ])
            }
            return ok(["posts": posts])
        }
    }
}

import Foundation
import Hummingbird
import OmniPostCore

/// `app.bsky.feed.getPosts` (the AppView, proxied by the PDS; lexicon `app.bsky.feed.getPosts`): `uris`
/// repeated, at most 25; a post view per URI found — `uri`, `cid`, `author`, `record`, `indexedAt` and
/// the integer counts `replyCount`, `repostCount`, `likeCount`, `quoteCount`. A URI the AppView does
/// not have (deleted, taken down) is left out, not an error. Bluesky has no view count and no privacy.
///
/// `app.bsky.feed.getPostThread` (lexicon): `uri`, `depth` (default 6), `parentHeight`; the answer's
/// `thread` is a `#threadViewPost` — `post` (a post view) and `replies`, each a thread view in turn, oldest
/// first here; a post it does not have is `NotFound` (400).
extension BlueskyRoutes {
    static func addGetPosts(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/xrpc/app.bsky.feed.getPostThread") { req, _ -> Response in
            let (did, refusal) = await user(req, state: state)
            guard did != nil else { return refusal! }
            guard let uri = SandboxHTTP.query(req, "uri") else { return fail(.badRequest, "InvalidRequest", "uri is required") }
            let depth = SandboxHTTP.query(req, "depth").flatMap(Int.init) ?? 6
            guard (0...1000).contains(depth) else { return fail(.badRequest, "InvalidRequest", "depth must be 0 to 1000") }
            guard let root = await state.bskyRecord(uri: uri) else { return fail(.badRequest, "NotFound", "Post not found: \(uri)") }
            return ok(["thread": await threadView(root, depth: depth, state: state)])
        }
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

    static func postView(_ r: SandboxState.BskyRecord, state: SandboxState) async -> [String: Any] {
        let did = String(r.uri.dropFirst("at://".count).split(separator: "/").first ?? "")
        return [
            "uri": r.uri, "cid": r.cid, "author": ["did": did, "handle": "sandbox.bsky.social"], "record": value(r),
            "indexedAt": ISO8601DateFormatter().string(from: await state.now), "replyCount": await state.bskyReplies(to: r.uri).count,
            "repostCount": 0, "likeCount": 0, "quoteCount": 0, "labels": [] as [Any]
        ]
    }

    static func threadView(_ r: SandboxState.BskyRecord, depth: Int, state: SandboxState) async -> [String: Any] {
        var view: [String: Any] = ["$type": "app.bsky.feed.defs#threadViewPost", "post": await postView(r, state: state)]
        if depth > 0 {
            var replies: [[String: Any]] = []
            for reply in await state.bskyReplies(to: r.uri) { replies.append(await threadView(reply, depth: depth - 1, state: state)) }
            view["replies"] = replies
        }
        return view
    }
}

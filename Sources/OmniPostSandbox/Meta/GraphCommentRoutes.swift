import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OmniPostCore

/// The comments edge of Instagram media and Facebook videos, as the Graph API documents it (IG Media
/// Comments; Object Comments): `POST /{id}/comments` with `message` (required; an empty one is refused
/// with code 100) answers `{id}`; `GET /{id}/comments` lists them oldest first, `limit` a page (at most
/// 100, default 25) with `paging.cursors.after` and `next` while more follow. Instagram's comment has
/// `text`, `username` and `timestamp`; Facebook's `message`, `from` and `created_time`. A Facebook
/// comment is made with the Page's token (as the Page), an Instagram one with the user's.
enum GraphCommentRoutes {
    typealias G = GraphRoutes

    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/:version/:id/comments") { req, ctx -> Response in
            var req = req
            let (p, account, platform, refusal) = try await caller(&req, ctx, state)
            guard let account, let platform else { return refusal! }
            await state.count("\(platform).comments")
            let id = ctx.parameters.get("id") ?? ""
            guard let post = await state.allVideos().first(where: { $0.platform == platform && $0.id == id }), post.account == account else {
                return G.graphError(400, "Unsupported post request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
            }
            if platform == "facebook", !(await FacebookRoutes.isPageToken(req, p, account: account, state: state)) {
                return G.graphError(400, "(#200) A Page access token is required to comment as this Page", code: 200)
            }
            guard let message = p["message"], !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                return G.graphError(400, "(#100) The parameter message is required", code: 100)
            }
            if let code = await state.takeFollowUpFault() { return G.injected(code) }
            let c = SandboxTextTrack(id: "1" + SandboxState.randomID(16, alphabet: "0123456789"), language: "", name: account, text: message)
            await state.addComment(c, platform: platform, post: id)
            if await state.losesFollowUpReply() { return G.injected(503) }
            return SandboxHTTP.json(.ok, ["id": c.id])
        }
        router.get("/:version/:id/comments") { req, ctx -> Response in
            var req = req
            let (p, _, platform, refusal) = try await caller(&req, ctx, state)
            guard let platform else { return refusal! }
            let id = ctx.parameters.get("id") ?? ""
            guard let all = await state.comments(platform: platform, post: id) else {
                return G.graphError(400, "Unsupported get request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
            }
            let (page, paging) = paged(all, p, path: "/\(ctx.parameters.get("version") ?? "")/\(id)/comments")
            let data: [[String: Any]] = page.map { c in
                let author = String(c.name.split(separator: ":", maxSplits: 1).last ?? "")
                return platform == "facebook"
                    ? ["id": c.id, "message": c.text, "from": ["name": author, "id": c.name], "created_time": "2026-01-01T00:00:00+0000"]
                    : ["id": c.id, "text": c.text, "username": author, "timestamp": "2026-01-01T00:00:00+0000"]
            }
            return SandboxHTTP.json(.ok, ["data": data, "paging": paging])
        }
    }

    /// Who calls the comments edge: the parameters, the account and its platform (Instagram's user or
    /// Facebook's), or the Graph API's refusal.
    static func caller(
        _ req: inout Request, _ ctx: BasicRequestContext, _ state: SandboxState
    ) async throws -> ([String: String], String?, String?, Response?) {
        guard G.validVersion(ctx.parameters.get("version")) else { return ([:], nil, nil, G.graphError(400, "Unknown path components", code: 2500)) }
        let p = try await G.params(&req)
        guard let account = await G.account(req, p, state), !account.hasPrefix("threads:") else { return (p, nil, nil, G.badToken) }
        return (p, account, account.hasPrefix("facebook:") ? "facebook" : "instagram", nil)
    }

    /// One page of a Graph edge: `limit` items (default 25, at most 100) after the `after` cursor, with
    /// `paging.cursors` and a `next` link while more follow (cursor-based pagination, Graph API docs).
    static func paged<T>(_ all: [T], _ p: [String: String], path: String) -> (ArraySlice<T>, [String: Any]) {
        let per = min(100, max(1, Int(p["limit"] ?? "") ?? 25))
        let start = Int(p["after"].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "") ?? 0
        let page = all.dropFirst(start).prefix(per)
        var paging: [String: Any] = [:]
        if !page.isEmpty {
            let end = Data(String(start + page.count).utf8).base64EncodedString()
            paging["cursors"] = ["before": Data(String(start).utf8).base64EncodedString(), "after": end]
            if start + per < all.count { paging["next"] = "\(path)?limit=\(per)&after=\(end)" }
        }
        return (page, paging)
    }
}

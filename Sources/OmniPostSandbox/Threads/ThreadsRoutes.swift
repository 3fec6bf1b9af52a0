import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Threads (PLATFORMS.md § Threads): `POST /{v}/{user}/threads` with `media_type=VIDEO`, `video_url`
/// and `text` (≤ 500 characters) — the sandbox then fetches `video_url` over HTTP itself, as Threads
/// does, so an expired or wrong link fails the container (`ERROR`, `error_message`
/// FAILED_DOWNLOADING_VIDEO) — → `GET /{v}/{container}?fields=status,error_message` → `POST
/// /{v}/{user}/threads_publish`; `threads_publishing_limit`; `GET /refresh_access_token` with
/// `th_refresh_token`. Graph-style errors.
enum ThreadsRoutes: SandboxPlatform {
    typealias G = GraphRoutes

    static func userID(_ account: String, _ state: SandboxState) async -> String {
        await state.userID(account, length: 17, alphabet: "0123456789")
    }

    /// `GET /{v}/{id}` for a Threads account: a container's status, or a post's permalink.
    static func object(_ id: String, account: String, state: SandboxState, baseURL: String) async -> Response {
        if let c = await state.threadsContainer(id), c.account == account {
            var body: [String: Any] = ["id": c.id, "status": c.status]
            if let e = c.error { body["error_message"] = e }
            return SandboxHTTP.json(.ok, body)
        }
        if let v = await state.allVideos().first(where: { $0.platform == "threads" && $0.id == id && $0.account == account }),
            let life = await state.postLife(platform: "threads", id: id), life.found
        {
            // A Threads media object: `id`, `permalink`, `media_product_type` THREADS, `timestamp` (its counts are insights).
            return SandboxHTTP.json(
                .ok,
                [
                    "id": v.id, "permalink": "\(baseURL)/threads/post/\(v.id)", "media_product_type": "THREADS", "media_type": "VIDEO",
                    "timestamp": InstagramRoutes.graphTime(v.receivedAt), "text": v.title
                ])
        }
        return G.graphError(400, "Unsupported get request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        ThreadsReplyRoutes.add(to: router, state: state)
        // A Threads login's code → a short-lived token; that → a long-lived one (`th_exchange_token`).
        router.post("/oauth/access_token") { req, _ -> Response in
            var req = req
            let p = try await G.params(&req)
            if let r = await ConsentRoutes.codeGrant(p, clientID: p["client_id"] ?? "", secret: p["client_secret"] ?? "", state: state, shortLived: true) { return r }
            return G.graphError(400, "grant_type must be authorization_code", code: 100)
        }
        router.get("/access_token") { req, _ -> Response in
            await state.count("threads.exchange")
            var req = req
            let p = try await G.params(&req)
            guard p["grant_type"] == "th_exchange_token", let token = p["access_token"] else {
                return G.graphError(400, "grant_type must be th_exchange_token, with access_token", code: 100)
            }
            guard await state.clientSecretMatches(token: token, secret: p["client_secret"] ?? "") else { return G.graphError(400, "Error validating client secret.", code: 1) }
            switch await state.threadsRefresh(token: token, refresh: false) {
            case .ok(let t, let expires): return SandboxHTTP.json(.ok, ["access_token": t, "token_type": "bearer", "expires_in": expires])
            case .tooNew, .invalid: return G.badToken
            }
        }
        router.get("/refresh_access_token") { req, _ -> Response in
            await state.count("threads.token")
            var req = req
            let p = try await G.params(&req)
            guard p["grant_type"] == "th_refresh_token", let token = p["access_token"] else {
                return G.graphError(400, "grant_type must be th_refresh_token, with access_token", code: 100)
            }
            await state.tokenDelay()
            switch await state.threadsRefresh(token: token) {
            case .ok(let t, let expires): return SandboxHTTP.json(.ok, ["access_token": t, "token_type": "bearer", "expires_in": expires])
            // Refused as an OAuthException, as a revoked token is: only the token's age tells them apart.
            case .tooNew: return G.graphError(400, "The access token cannot be refreshed yet: a long-lived token can be refreshed once it is at least 24 hours old", code: 190)
            case .invalid: return G.badToken
            }
        }
        router.get("/:version/:id/threads_publishing_limit") { req, ctx -> Response in
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state, platform: "threads") else { return G.badToken }
            let user = await userID(account, state)
            guard ctx.parameters.get("id") == user else { return G.graphError(400, "Object with ID '\(ctx.parameters.get("id") ?? "")' does not exist", code: 100, subcode: 33) }
            return SandboxHTTP.json(.ok, ["data": [["quota_usage": await state.threadsPublished(by: user), "config": ["quota_total": 250, "quota_duration": 86400]]]])
        }
        router.post("/:version/:id/threads") { req, ctx -> Response in
            await state.count("threads.container")
            // `redirectStarts`: answered before anything else is done for the request, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state, platform: "threads") else { return G.badToken }
            let user = await userID(account, state)
            guard ctx.parameters.get("id") == user else { return G.graphError(400, "Object with ID '\(ctx.parameters.get("id") ?? "")' does not exist", code: 100, subcode: 33) }
            switch await state.takeInitFault() {
            case .rateLimited(let after)?:
                let usage = #"{"\#(user)":[{"type":"threads","estimated_time_to_regain_access":\#(max(1, (after + 59) / 60))}]}"#
                return G.graphError(400, "Application request limit reached", code: 4, transient: true, headers: [HTTPField.Name("X-Business-Use-Case-Usage")!: usage])
            case .status(let code)?:
                return G.injected(code)
            case nil: break
            }
            if p["media_type"] == "TEXT" { return await ThreadsReplyRoutes.container(p, account: account, user: user, state: state) }
            guard p["media_type"] == "VIDEO", let url = p["video_url"], url.hasPrefix("http") else {
                return G.graphError(400, "media_type=VIDEO needs a video_url Threads can fetch", code: 100)
            }
            let text = p["text"] ?? ""
            // Threads counts an emoji as its UTF-8 bytes.
            if ThreadsPostLength.of(text) > ThreadsPostLength.limit {
                return G.graphError(400, "The text is too long (500 characters at most; emoji count as their UTF-8 bytes)", code: 100)
            }
            let c = await state.makeThreadsContainer(account: account, user: user, text: text, videoURL: url)
            // Threads fetches the video itself, on its own time.
            Task.detached {
                var data: Data? = nil, failure: String? = nil
                do {
                    data = try await SandboxFetch.get(url, limit: 1 << 30, within: .seconds(60))
                } catch { failure = "FAILED_DOWNLOADING_VIDEO: \(error)" }
                // A fetch cut short (the serving side restarted mid-body), as the `failFetches` fault asks.
                if failure == nil, await state.takeFetchFault() { data = nil; failure = "FAILED_DOWNLOADING_VIDEO" }
                try? await state.fetchedThreads(c.id, data: data, error: failure)
            }
            return SandboxHTTP.json(.ok, ["id": c.id])
        }
        router.post("/:version/:id/threads_publish") { req, ctx -> Response in
            await state.count("threads.publish")
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state, platform: "threads") else { return G.badToken }
            let id = p["creation_id"] ?? ""
            return try await state.sessionLocks.withLock(id) { () -> Response in
                guard let c = await state.threadsContainer(id), c.account == account, c.user == ctx.parameters.get("id") else {
                    return G.graphError(400, "Object with ID '\(id)' does not exist", code: 100, subcode: 33)
                }
                guard c.status == "FINISHED" else {
                    return G.graphError(
                        400, c.status == "PUBLISHED" ? "The container has already been published" : "The media is not ready to be published (\(c.status))", code: 24,
                        subcode: 4279009)
                }
                if c.replyTo != nil {
                    await state.count("threads.reply")
                    if let code = await state.takeFollowUpFault() { return G.injected(code) }
                }
                let post = await state.publishThreads(id)
                if c.replyTo != nil, await state.losesFollowUpReply() { return G.injected(503) }
                await state.holdFinalReply()
                return SandboxHTTP.json(.ok, ["id": post])
            }
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// X API (PLATFORMS.md § X), the three shapes clients speak:
/// - v2 media upload endpoints: `initialize` (JSON) → `{id}/append` (multipart `media` + `segment_index`,
///   or JSON with base64 `media`, as X's own Python SDK sends) → `{id}/finalize` → `GET ?command=STATUS`;
/// - the command form on `POST /2/media/upload` (`command=INIT|APPEND|FINALIZE`);
/// - v1.1 `upload.json` with the same commands and v1.1's reply shapes (what tweepy and older tools use).
/// Then `POST /2/tweets` with `media.media_ids`, and `GET /2/users/{id}/tweets` to read posts back.
/// Errors are problem documents (`title`, `detail`, `type`, `status`); 429 carries `x-rate-limit-*`.
/// The token endpoint wants the client in HTTP Basic and rotates refresh tokens.
enum XRoutes: SandboxPlatform {
    static let maxSegment = 5 * 1_048_576
    static let maxBytes: Int64 = 512 * 1_048_576

    static func problem(_ status: Int, _ title: String, _ detail: String, type: String = "about:blank", headers: HTTPFields = [:]) -> Response {
        SandboxHTTP.json(.init(code: status), ["title": title, "detail": detail, "type": type, "status": status], headers: headers)
    }

    static func invalid(_ detail: String) -> Response {
        SandboxHTTP.json(
            .badRequest,
            [
                "errors": [["message": detail]], "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request"
            ])
    }

    /// A media id X does not take (never made, or past its `expires_after_secs`): X's invalid-request
    /// problem naming the parameter — a 400 that says nothing of expiry in words.
    static func notFound(_ id: String) -> Response {
        SandboxHTTP.json(
            .badRequest,
            [
                "errors": [["parameters": ["media_id": [id]], "message": "The media_id parameter is invalid."]],
                "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request"
            ])
    }

    /// A 429 on the account's own window (`x-rate-limit-*` headers, the reset in epoch seconds).
    static func tooMany(after: Int) -> Response {
        let reset = Int(Date().timeIntervalSince1970) + after
        return problem(
            429, "Too Many Requests", "Too Many Requests",
            headers: [
                HTTPField.Name("x-rate-limit-limit")!: "75", HTTPField.Name("x-rate-limit-remaining")!: "0",
                HTTPField.Name("x-rate-limit-reset")!: String(reset)
            ])
    }

    static let unauthorized = problem(401, "Unauthorized", "Unauthorized")

    /// The account behind a bearer token, if it is one of X's.
    static func account(_ req: Request, _ state: SandboxState) async -> String? {
        guard let a = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")), a.hasPrefix("x:") else { return nil }
        return a
    }

    /// Every parameter a request carries, wherever it put it: the query, a urlencoded or multipart
    /// form, or a JSON object.
    static func params(_ req: inout Request, limit: Int) async throws -> [String: Data] {
        var out: [String: Data] = [:]
        for (k, v) in req.uri.queryParameters { out[String(k)] = Data(String(v).utf8) }
        let type = SandboxHTTP.header(req, "Content-Type") ?? ""
        let body = Data(buffer: try await req.collectBody(upTo: limit))
        if body.isEmpty { return out }
        if let fields = Multipart.formFields(body, contentType: type) {
            out.merge(fields) { _, new in new }
        } else if type.lowercased().hasPrefix("application/json") {
            for (k, v) in (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] {
                // In JSON the media is base64 text: it is `media_data`, as the form calls base64 media.
                out[k == "media" ? "media_data" : k] = v is String ? Data((v as! String).utf8) : Data("\(v)".utf8)
            }
        } else {
            for (k, v) in SandboxHTTP.form(ByteBuffer(data: body)) { out[k] = Data(v.utf8) }
        }
        return out
    }

    static func text(_ p: [String: Data], _ k: String) -> String? { p[k].map { String(decoding: $0, as: UTF8.self) } }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        addPostLookup(to: router, state: state)
        router.post("/2/oauth2/token") { req, _ -> Response in
            await state.count("x.token")
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            // A confidential client authenticates with HTTP Basic; a public one names only its client_id.
            let basic = SandboxHTTP.basicClient(req)
            let clientID = basic?.id ?? form["client_id"] ?? "", secret = basic?.secret ?? ""
            if let r = await ConsentRoutes.codeGrant(form, clientID: clientID, secret: secret, state: state) { return r }
            guard form["grant_type"] == "refresh_token", let rt = form["refresh_token"] else {
                return SandboxHTTP.json(.badRequest, ["error": "invalid_request", "error_description": "Missing required parameter [refresh_token]."])
            }
            await state.tokenDelay()
            switch await state.rotate(clientID: clientID, clientSecret: secret, refreshToken: rt) {
            case .ok(let access, let expires, let next, _):
                return SandboxHTTP.json(
                    .ok,
                    [
                        "token_type": "bearer", "expires_in": expires, "access_token": access, "refresh_token": next,
                        "scope": "tweet.read tweet.write users.read media.write offline.access"
                    ])
            case .invalidClient:
                return SandboxHTTP.json(.unauthorized, ["error": "unauthorized_client", "error_description": "Missing valid authorization header"])
            case .invalidGrant:
                // X's own answer for a used, revoked or unknown refresh token.
                return SandboxHTTP.json(.badRequest, ["error": "invalid_request", "error_description": "Value passed for the token was invalid."])
            }
        }
        router.get("/2/users/me") { req, _ -> Response in
            await state.count("x.me")
            guard let account = await account(req, state) else { return unauthorized }
            if let after = await state.takeReadLimit() { return tooMany(after: after) }
            let name = String(account.dropFirst(2))
            return SandboxHTTP.json(.ok, ["data": ["id": await state.userID(account), "name": name, "username": name]])
        }
        router.post("/2/media/upload/initialize") { req, _ -> Response in
            guard let account = await account(req, state) else { return unauthorized }
            var req = req
            let p = try await params(&req, limit: 64 * 1024)
            return await initialize(p, account: account, state: state, v1: false)
        }
        router.post("/2/media/upload/:id/append") { req, ctx -> Response in
            // `redirectChunks`: answered before the body is read (counted as the segment `append` counts).
            if let moved = await ChunkRedirect.next(state) {
                await state.count("x.append")
                return moved
            }
            guard let account = await account(req, state) else { return unauthorized }
            var req = req
            var p = try await params(&req, limit: 8 * 1_048_576)
            p["media_id"] = ctx.parameters.get("id").map { Data($0.utf8) }
            return try await append(p, account: account, state: state, v1: false)
        }
        router.post("/2/media/upload/:id/finalize") { req, ctx -> Response in
            guard let account = await account(req, state) else { return unauthorized }
            return try await finalize(ctx.parameters.get("id") ?? "", account: account, state: state, v1: false)
        }
        router.get("/2/media/upload") { req, _ -> Response in
            guard let account = await account(req, state) else { return unauthorized }
            return await status(SandboxHTTP.query(req, "media_id") ?? "", account: account, state: state, v1: false)
        }
        router.post("/2/media/upload") { req, _ -> Response in
            guard let account = await account(req, state) else { return unauthorized }
            return try await command(req, account: account, state: state, v1: false)
        }
        router.post("/1.1/media/upload.json") { req, _ -> Response in
            guard let account = await account(req, state) else { return unauthorized }
            return try await command(req, account: account, state: state, v1: true)
        }
        router.get("/1.1/media/upload.json") { req, _ -> Response in
            guard let account = await account(req, state) else { return unauthorized }
            return await status(SandboxHTTP.query(req, "media_id") ?? "", account: account, state: state, v1: true)
        }
        router.post("/2/tweets") { req, _ -> Response in
            await state.count("x.tweet")
            guard let account = await account(req, state) else { return unauthorized }
            var req = req
            let body = Data(buffer: try await req.collectBody(upTo: 1 << 20))
            guard let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { return invalid("the body must be a JSON object") }
            let text = json["text"] as? String ?? ""
            let ids = ((json["media"] as? [String: Any])?["media_ids"] as? [Any] ?? []).map { "\($0)" }
            if text.isEmpty && ids.isEmpty { return invalid("a post needs text or media") }
            if XPostLength.of(text) > XPostLength.limit {
                return problem(403, "Forbidden", "Your Tweet text is too long. For more information on how X determines text length see https://github.com/twitter/twitter-text.")
            }
            if let r = json["reply_settings"] as? String, !["following", "mentionedUsers", "subscribers", "verified"].contains(r) {
                return invalid("reply_settings '\(r)' is not one of following, mentionedUsers, subscribers, verified")
            }
            var media: [SandboxState.XMedia] = []
            for id in ids {
                guard let m = await state.xUpload(id), m.account == account, m.finalized, m.failure == nil, (m.readyAt ?? .distantFuture) <= Date() else {
                    return SandboxHTTP.json(
                        .badRequest,
                        [
                            "errors": [["parameters": ["media.media_ids": [id]], "message": "Your media IDs are invalid."]],
                            "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                            "type": "https://api.twitter.com/2/problems/invalid-request"
                        ])
                }
                media.append(m)
            }
            if await state.xPosts(of: account).contains(where: { $0.text == text && !text.isEmpty && Date().timeIntervalSince($0.created) < 86400 }) {
                return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
            }
            // A reply (`reply.in_reply_to_tweet_id`): to a post that exists.
            let replyTo = ((json["reply"] as? [String: Any])?["in_reply_to_tweet_id"]).map { "\($0)" }
            if let replyTo {
                await state.count("x.reply")
                guard await state.xPost(replyTo) != nil else {
                    return SandboxHTTP.json(
                        .badRequest,
                        [
                            "errors": [["parameters": ["reply.in_reply_to_tweet_id": [replyTo]], "message": "The Tweet you are replying to has been deleted or is not visible to you."]],
                            "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                            "type": "https://api.twitter.com/2/problems/invalid-request"
                        ])
                }
                if let code = await state.takeFollowUpFault() { return problem(code, "Service Unavailable", "Service Unavailable") }
            }
            let post = await state.createXPost(account: account, text: text, media: media, inReplyTo: replyTo)
            if replyTo != nil, await state.losesFollowUpReply() { return problem(503, "Service Unavailable", "Service Unavailable") }
            // The uncertain window: the post exists, its reply has not left yet.
            await state.holdFinalReply()
            return SandboxHTTP.json(.created, ["data": ["id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]]])
        }
        router.get("/2/users/:id/tweets") { req, ctx -> Response in
            await state.count("x.timeline")
            guard await account(req, state) != nil else { return unauthorized }
            if let after = await state.takeReadLimit() { return tooMany(after: after) }
            let count: Int = Int(SandboxHTTP.query(req, "max_results") ?? "10") ?? 10
            guard (5...100).contains(count) else { return invalid("max_results must be 5–100") }
            guard let owner = await state.account(userID: ctx.parameters.get("id") ?? "") else {
                return problem(
                    404, "Not Found Error", "Could not find user with id: [\(ctx.parameters.get("id") ?? "")].",
                    type: "https://api.twitter.com/2/problems/resource-not-found")
            }
            let fields = Set((SandboxHTTP.query(req, "tweet.fields") ?? "").split(separator: ",").map(String.init))
            let posts = Array(await state.xPosts(of: owner).prefix(count))
            let data: [[String: Any]] = posts.map { p in
                var t: [String: Any] = ["id": p.id, "text": p.text, "edit_history_tweet_ids": [p.id]]
                if fields.contains("attachments"), !p.mediaKeys.isEmpty { t["attachments"] = ["media_keys": p.mediaKeys] }
                if fields.contains("created_at") { t["created_at"] = ISO8601DateFormatter().string(from: p.created) }
                if let parent = p.inReplyTo {
                    if fields.contains("referenced_tweets") { t["referenced_tweets"] = [["type": "replied_to", "id": parent]] }
                    if fields.contains("conversation_id") { t["conversation_id"] = parent }
                } else if fields.contains("conversation_id") {
                    t["conversation_id"] = p.id
                }
                return t
            }
            var meta: [String: Any] = ["result_count": data.count]
            if let first = posts.first, let last = posts.last { meta["newest_id"] = first.id; meta["oldest_id"] = last.id }
            var reply: [String: Any] = ["meta": meta]
            if !data.isEmpty { reply["data"] = data }
            return SandboxHTTP.json(.ok, reply)
        }
    }

    /// The command form (`POST /2/media/upload`, v1.1 `upload.json`): INIT, APPEND, FINALIZE (STATUS is a GET).
    static func command(_ req: Request, account: String, state: SandboxState, v1: Bool) async throws -> Response {
        var req = req
        let p = try await params(&req, limit: 8 * 1_048_576)
        switch text(p, "command") {
        case "INIT": return await initialize(p, account: account, state: state, v1: v1)
        case "APPEND": return try await append(p, account: account, state: state, v1: v1)
        case "FINALIZE": return try await finalize(text(p, "media_id") ?? "", account: account, state: state, v1: v1)
        case "STATUS": return await status(text(p, "media_id") ?? "", account: account, state: state, v1: v1)
        default: return invalid("command must be INIT, APPEND, FINALIZE or STATUS")
        }
    }

    static func initialize(_ p: [String: Data], account: String, state: SandboxState, v1: Bool) async -> Response {
        await state.count("x.init")
        // `redirectStarts`: the first thing done once the request is known to be a start (its path, or the command form's `command` in the body), as a proxy that routes by it would.
        if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
        switch await state.takeInitFault() {
        case .rateLimited(let after)?:
            let reset = Int(Date().timeIntervalSince1970) + after
            return problem(
                429, "Too Many Requests", "Too Many Requests",
                headers: [
                    HTTPField.Name("x-rate-limit-limit")!: "50", HTTPField.Name("x-rate-limit-remaining")!: "0",
                    HTTPField.Name("x-rate-limit-reset")!: String(reset)
                ])
        case .status(let code)?:
            return problem(code, "Service Unavailable", "Injected failure \(code).")
        case nil: break
        }
        guard let type = text(p, "media_type"), type.contains("/") else { return invalid("media_type is required") }
        guard let total = text(p, "total_bytes").flatMap({ Int64($0) }), total > 0 else { return invalid("total_bytes must be a positive integer") }
        let category = text(p, "media_category") ?? "tweet_video"
        guard ["amplify_video", "tweet_video", "tweet_gif", "tweet_image", "dm_video", "subtitles"].contains(category) else {
            return invalid("media_category '\(category)' is not one X knows")
        }
        if category.hasSuffix("video"), !["video/mp4", "video/quicktime", "video/webm"].contains(type) {
            return invalid("media_type \(type) is not a video type X takes (video/mp4, video/quicktime)")
        }
        if total > maxBytes { return invalid("total_bytes \(total) is over the 512 MB limit for video") }
        guard let m = try? await state.startXUpload(account: account, mediaType: type, category: category, total: total) else {
            return problem(503, "Service Unavailable", "could not start the upload")
        }
        let expires = Int(await state.sessionLifetime)
        if v1 {
            return SandboxHTTP.json(.ok, ["media_id": NSNumber(value: Int64(m.id) ?? 0), "media_id_string": m.id, "media_key": m.key, "expires_after_secs": expires])
        }
        return SandboxHTTP.json(.ok, ["data": ["id": m.id, "media_key": m.key, "expires_after_secs": expires]])
    }

    static func append(_ p: [String: Data], account: String, state: SandboxState, v1: Bool) async throws -> Response {
        await state.count("x.append")
        let id = text(p, "media_id") ?? ""
        return try await state.servingPut {
            try await state.sessionLocks.withLock(id) { try await appendLocked(p, id: id, account: account, state: state, v1: v1) }
        }
    }

    /// One segment, holding the upload's lock.
    static func appendLocked(_ p: [String: Data], id: String, account: String, state: SandboxState, v1: Bool) async throws -> Response {
        guard let m = await state.xUpload(id), m.account == account else { return notFound(id) }
        if m.finalized { return invalid("media \(id) is already finalized") }
        guard let index = text(p, "segment_index").flatMap({ Int($0) }), (0...999).contains(index) else {
            return invalid("segment_index must be 0–999")
        }
        // Raw bytes in `media`; base64 in `media_data` (v1.1) or in a JSON `media` (X's SDK).
        var bytes = p["media"]
        if let b64 = p["media_data"] { bytes = Data(base64Encoded: b64, options: .ignoreUnknownCharacters) }
        guard let media = bytes, !media.isEmpty else { return invalid("media (or media_data) is required") }
        if media.count > maxSegment { return invalid("a segment must be at most 5 MB; this one is \(media.count) bytes") }
        let delay = await state.faults.youtubePutDelayMs
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        if let code = await state.takeChunkFault() { return problem(code, "Service Unavailable", "Injected failure \(code): the segment was not kept.") }
        try await state.storeXSegment(id, index: index, bytes: media)
        if v1 { return SandboxHTTP.empty(.noContent) }
        let lifetime = await state.sessionLifetime
        return SandboxHTTP.json(.ok, ["data": ["expires_at": Int(m.created.timeIntervalSince1970 + lifetime)]])
    }

    static func finalize(_ id: String, account: String, state: SandboxState, v1: Bool) async throws -> Response {
        await state.count("x.finalize")
        return try await state.sessionLocks.withLock(id) { try await finalizeLocked(id, account: account, state: state, v1: v1) }
    }

    static func finalizeLocked(_ id: String, account: String, state: SandboxState, v1: Bool) async throws -> Response {
        guard let m = await state.xUpload(id), m.account == account else { return notFound(id) }
        let lifetime = Int(await state.sessionLifetime)
        switch try await state.finalizeX(id) {
        case .failure(.notFound): return notFound(id)
        case .failure(.invalid(let why)): return invalid(why)
        case .success(let done):
            // X says when to ask first; the sandbox notes it, and counts a STATUS that comes sooner.
            let checkAfter = await state.xStatusNotBefore(id)
            var body: [String: Any] = [
                "id": done.id, "media_key": done.key, "size": done.total, "expires_after_secs": lifetime,
                "processing_info": ["state": "pending", "check_after_secs": checkAfter]
            ]
            if v1 {
                body["media_id"] = NSNumber(value: Int64(m.id) ?? 0)
                body["media_id_string"] = m.id
                body["id"] = nil
                return SandboxHTTP.json(.ok, body)
            }
            return SandboxHTTP.json(.ok, ["data": body])
        }
    }

    static func status(_ id: String, account: String, state: SandboxState, v1: Bool) async -> Response {
        await state.count("x.status")
        guard let m = await state.xUpload(id), m.account == account else { return notFound(id) }
        guard m.finalized else { return invalid("media \(id) has not been finalized") }
        if let due = m.statusNotBefore, due > Date() { await state.count("x.status.early") }
        var info: [String: Any]
        if let failure = m.failure {
            info = ["state": "failed", "progress_percent": 100, "error": ["code": 1, "name": "InvalidMedia", "message": failure]]
        } else if let ready = m.readyAt, ready > Date() {
            info = ["state": "in_progress", "check_after_secs": max(1, Int(ready.timeIntervalSinceNow.rounded(.up))), "progress_percent": 50]
        } else {
            info = ["state": "succeeded", "progress_percent": 100]
        }
        if v1 { return SandboxHTTP.json(.ok, ["media_id": NSNumber(value: Int64(m.id) ?? 0), "media_id_string": m.id, "processing_info": info]) }
        return SandboxHTTP.json(.ok, ["data": ["id": m.id, "media_key": m.key, "processing_info": info]])
    }
}

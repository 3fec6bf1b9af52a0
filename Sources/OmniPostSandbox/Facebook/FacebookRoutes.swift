import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Facebook Page Reels (PLATFORMS.md § Facebook Page Reels): `POST /{v}/{page}/video_reels`
/// `upload_phase=start` → `POST /video-upload/{v}/{video}` on the upload host (`Authorization: OAuth`
/// with the Page token, `offset`, `file_size`) → `upload_phase=finish` with `video_state` PUBLISHED or
/// SCHEDULED (`scheduled_publish_time`, 10 minutes to 75 days ahead) → `GET /{v}/{video}?fields=status`
/// (`uploading_phase.bytes_transferred`, `processing_phase`, `publishing_phase`). A Page's token comes
/// from `GET /{v}/{page}?fields=access_token` or `/me/accounts`; a user token cannot post as the Page.
enum FacebookRoutes: SandboxPlatform {
    typealias G = GraphRoutes

    static func page(of account: String, state: SandboxState) async -> (id: String, name: String, token: String) {
        let p = await state.facebookPage(account)
        return (p.id, String(account.dropFirst("facebook:".count)) + " Page", p.token)
    }

    /// A Page token, not the user's: what `video_reels` and the upload host want.
    static func isPageToken(_ req: Request, _ params: [String: String], account: String, state: SandboxState) async -> Bool {
        var token = params["access_token"]
        if let h = SandboxHTTP.header(req, "Authorization") {
            for scheme in ["Bearer ", "OAuth "] where h.hasPrefix(scheme) { token = String(h.dropFirst(scheme.count)) }
        }
        return token == (await state.facebookPage(account)).token
    }

    /// `GET /{v}/{id}` for a Facebook account: its Page (with `fields=access_token`), or one of its videos' status.
    static func object(_ id: String, fields: String, account: String, state: SandboxState) async -> Response {
        let page = await page(of: account, state: state)
        if id == page.id {
            var body: [String: Any] = ["id": page.id, "name": page.name]
            if fields.contains("access_token") { body["access_token"] = page.token }
            return SandboxHTTP.json(.ok, body)
        }
        guard let v = await state.fbVideo(id), v.account == account else {
            return G.graphError(400, "Unsupported get request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
        }
        // A video the Page no longer has (Facebook took it down) is not found, as an unknown id is.
        let life = await state.postLife(platform: "facebook", id: id)
        var privacy = "EVERYONE"
        if let life { privacy = await state.shownPrivacy(life, posted: privacy) }
        if life?.takenDown == true {
            return G.graphError(400, "Unsupported get request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
        }
        let uploaded = v.size != nil && v.received == v.size
        let ready = v.finished && v.failure == nil && (v.readyAt ?? .distantFuture) <= Date()
        var processing: [String: Any] = ["status": !v.finished ? "not_started" : v.failure != nil ? "error" : ready ? "complete" : "in_progress"]
        if let f = v.failure { processing["errors"] = [phaseError(f)] }
        // Publishing starts only once processing is done: while the video processes after `finish`, the
        // publishing phase is still not_started — the processing phase is what shows finish arrived.
        var publishing: [String: Any] = ["status": ready && v.scheduledAt == nil ? "complete" : "not_started"]
        if let at = v.scheduledAt, v.failure == nil {
            publishing["publish_status"] = "scheduled"
            publishing["publish_time"] = Int(at.timeIntervalSince1970)
        } else if ready {
            publishing["publish_status"] = "published"
        }
        let videoStatus = v.failure != nil ? "error" : ready ? "ready" : v.finished ? "processing" : uploaded ? "upload_complete" : "uploading"
        return SandboxHTTP.json(
            .ok,
            [
                "id": v.id, "permalink_url": "/\(v.id)", "published": v.scheduledAt == nil || (v.scheduledAt ?? .distantFuture) <= Date(),
                "privacy": ["value": privacy],
                "status": [
                    "video_status": videoStatus,
                    "uploading_phase": ["status": uploaded ? "complete" : "in_progress", "bytes_transferred": v.received],
                    "processing_phase": processing, "publishing_phase": publishing
                ]
            ])
    }

    /// A failed phase lists its errors as VideoStatusError `{code, message}`; an injected reason that
    /// starts with a number ("1363019 There was a problem uploading your video…") carries that code.
    static func phaseError(_ reason: String) -> [String: Any] {
        let head = reason.prefix { $0.isNumber }
        guard let code = Int(head) else { return ["message": reason] }
        return ["code": code, "message": reason.dropFirst(head.count).trimmingCharacters(in: .whitespaces)]
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        FacebookCaptionRoutes.add(to: router, state: state)
        router.post("/:version/:id/video_reels") { req, ctx -> Response in
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state, platform: "facebook") else { return G.badToken }
            let page = await page(of: account, state: state)
            guard ctx.parameters.get("id") == page.id else {
                return G.graphError(400, "Unsupported post request. Object with ID '\(ctx.parameters.get("id") ?? "")' does not exist", code: 100, subcode: 33)
            }
            guard await isPageToken(req, p, account: account, state: state) else {
                return G.graphError(400, "(#200) A Page access token is required to publish reels for this Page", code: 200)
            }
            switch p["upload_phase"] {
            case "start": return await start(account: account, page: page.id, state: state, baseURL: baseURL())
            case "finish": return try await finish(p, account: account, state: state)
            default: return G.graphError(400, "upload_phase must be start or finish", code: 100)
            }
        }
        router.post("/video-upload/:version/:video") { req, ctx -> Response in
            await state.count("facebook.rupload")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            guard let account = await G.account(req, [:], state, platform: "facebook") else { return InstagramRoutes.sessionEnded }
            guard await isPageToken(req, [:], account: account, state: state) else {
                return InstagramRoutes.ruploadError(401, "AuthorizationError", "A Page access token is required (Authorization: OAuth <page token>).")
            }
            let id = ctx.parameters.get("video") ?? ""
            return try await state.servingPut { try await state.sessionLocks.withLock(id) { try await rupload(req, id: id, account: account, state: state) } }
        }
    }

    static func start(account: String, page: String, state: SandboxState, baseURL: String) async -> Response {
        await state.count("facebook.start")
        // `redirectStarts`: the first thing done once the request is known to be a start (`upload_phase` in its parameters), as a proxy that routes by it would.
        if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
        switch await state.takeInitFault() {
        case .rateLimited(let after)?:
            let minutes = max(1, (after + 59) / 60)
            let usage = #"{"\#(page)":[{"type":"pages","call_count":100,"total_cputime":10,"total_time":10,"estimated_time_to_regain_access":\#(minutes)}]}"#
            return G.graphError(400, "Page request limit reached", code: 32, transient: true, headers: [HTTPField.Name("X-Business-Use-Case-Usage")!: usage])
        case .status(let code)?:
            return G.injected(code)
        case nil: break
        }
        guard let v = try? await state.startFBVideo(account: account, page: page) else {
            return G.graphError(500, "An unexpected error has occurred.", code: 2, transient: true)
        }
        return SandboxHTTP.json(.ok, ["video_id": v.id, "upload_url": "\(baseURL)/video-upload/\(GraphVersion.current)/\(v.id)"])
    }

    static func rupload(_ req: Request, id: String, account: String, state: SandboxState) async throws -> Response {
        guard let v = await state.fbVideo(id), v.account == account else { return InstagramRoutes.ruploadError(404, "NotFoundError", "unknown video \(id)") }
        if v.finished { return InstagramRoutes.ruploadError(400, "BadRequestError", "the upload is finished") }
        guard let offset = SandboxHTTP.header(req, "offset").flatMap({ Int64($0) }), let size = SandboxHTTP.header(req, "file_size").flatMap({ Int64($0) }), size > 0 else {
            return InstagramRoutes.ruploadError(400, "BadRequestError", "offset and file_size headers are required")
        }
        if let known = v.size, known != size { return InstagramRoutes.ruploadError(400, "BadRequestError", "file_size \(size) differs from the \(known) declared before") }
        guard offset <= v.received else { return InstagramRoutes.ruploadError(400, "BadRequestError", "offset \(offset) is past the \(v.received) bytes held") }
        var req = req
        let body = try await req.collectBody(upTo: 128 * 1_048_576)
        let delay = await state.faults.youtubePutDelayMs
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        if let code = await state.takeChunkFault() {
            return InstagramRoutes.ruploadError(code, "ServerError", "Injected failure \(code): the bytes were not kept.", retriable: true)
        }
        guard offset + Int64(body.readableBytes) <= size else { return InstagramRoutes.ruploadError(400, "BadRequestError", "the body runs past file_size") }
        try await state.receiveFB(id, offset: offset, size: size, bytes: Data(buffer: body))
        return SandboxHTTP.json(.ok, ["success": true])
    }

    static func finish(_ p: [String: String], account: String, state: SandboxState) async throws -> Response {
        await state.count("facebook.finish")
        let id = p["video_id"] ?? ""
        return try await state.sessionLocks.withLock(id) {
            guard let v = await state.fbVideo(id), v.account == account else {
                return G.graphError(400, "Unsupported post request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
            }
            if v.finished { return G.graphError(400, "This video has already been finished and cannot be finished again", code: 100, subcode: 1363040) }
            guard let size = v.size, v.received == size else {
                return G.graphError(400, "The upload is incomplete: \(v.received) bytes received", code: 100, subcode: 1363041)
            }
            if (p["description"] ?? "").count > 2200 { return G.graphError(400, "The description is too long", code: 100) }
            var at: Date? = nil
            switch p["video_state"] {
            case "PUBLISHED": break
            case "SCHEDULED":
                guard let t = p["scheduled_publish_time"].flatMap({ Double($0) }) else { return G.graphError(400, "scheduled_publish_time is required for SCHEDULED", code: 100) }
                let ahead = t - Date().timeIntervalSince1970
                guard ahead >= 600, ahead <= 75 * 86400 else {
                    return G.graphError(400, "scheduled_publish_time must be between 10 minutes and 75 days from now", code: 100, subcode: 1363067)
                }
                at = Date(timeIntervalSince1970: t)
            default: return G.graphError(400, "video_state must be PUBLISHED or SCHEDULED", code: 100)
            }
            await state.finishFB(id, description: p["description"] ?? "", title: p["title"] ?? "", scheduledAt: at)
            // The uncertain window: the reel is a post, its reply has not left yet.
            await state.holdFinalReply()
            return SandboxHTTP.json(.ok, ["success": true])
        }
    }
}

import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Instagram Reels through the Graph API (PLATFORMS.md § Instagram Reels): `POST /{v}/{ig-user}/media`
/// (REELS, `upload_type=resumable`) → `POST /ig-api-upload/{v}/{container}` on the upload host with
/// `Authorization: OAuth`, `offset`, `file_size` → `GET /{v}/{container}?fields=status_code,status` →
/// `POST /{v}/{ig-user}/media_publish?creation_id=…`; `content_publishing_limit`; Meta's token exchange
/// at `/oauth/access_token`. Errors are Graph errors (`code`, `error_subcode`, `is_transient`).
enum InstagramRoutes: SandboxPlatform {
    typealias G = GraphRoutes
    static func igUserID(_ account: String, _ state: SandboxState) async -> String {
        await state.userID(account, length: 17, alphabet: "0123456789")
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        router.get("/:version/:id/content_publishing_limit") { req, ctx -> Response in
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state, platform: "instagram") else { return G.badToken }
            let ig = ctx.parameters.get("id") ?? ""
            guard ig == (await igUserID(account, state)) else { return G.graphError(400, "Unsupported get request. Object with ID '\(ig)' does not exist", code: 100, subcode: 33) }
            let total = await state.instagramQuotaTotal
            return SandboxHTTP.json(.ok, ["data": [["config": ["quota_total": total, "quota_duration": 86400], "quota_usage": await state.igPublished(by: ig)]]])
        }
        router.post("/:version/:id/media") { req, ctx -> Response in
            await state.count("instagram.container")
            // `redirectStarts`: answered before anything else is done for the request, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state, platform: "instagram") else { return G.badToken }
            return await createContainer(p, ig: ctx.parameters.get("id") ?? "", account: account, state: state, baseURL: baseURL())
        }
        router.post("/ig-api-upload/:version/:container") { req, ctx -> Response in
            await state.count("instagram.rupload")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            guard let account = await G.account(req, [:], state, platform: "instagram") else { return sessionEnded }
            let id = ctx.parameters.get("container") ?? ""
            return try await state.servingPut { try await state.sessionLocks.withLock(id) { try await rupload(req, id: id, account: account, state: state) } }
        }
        router.post("/:version/:id/media_publish") { req, ctx -> Response in
            await state.count("instagram.publish")
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state, platform: "instagram") else { return G.badToken }
            let id = p["creation_id"] ?? ""
            return try await state.sessionLocks.withLock(id) { await publish(id, ig: ctx.parameters.get("id") ?? "", account: account, state: state) }
        }
    }

    static func createContainer(_ p: [String: String], ig: String, account: String, state: SandboxState, baseURL: String) async -> Response {
        switch await state.takeInitFault() {
        case .rateLimited(let after)?:
            let minutes = max(1, (after + 59) / 60)
            let usage = #"{"\#(ig)":[{"type":"instagram","call_count":100,"total_cputime":10,"total_time":10,"estimated_time_to_regain_access":\#(minutes)}]}"#
            return G.graphError(
                400, "Application request limit reached", code: 4, transient: true,
                headers: [HTTPField.Name("X-Business-Use-Case-Usage")!: usage])
        case .status(let code)?:
            return G.injected(code)
        case nil: break
        }
        guard ig == (await igUserID(account, state)) else {
            return G.graphError(400, "Unsupported post request. Object with ID '\(ig)' does not exist", code: 100, subcode: 33)
        }
        guard p["media_type"] == "REELS" else { return G.graphError(400, "media_type must be REELS for a video", code: 100, subcode: 2207023) }
        guard p["upload_type"] == "resumable" else {
            return G.graphError(400, "The sandbox takes reels with upload_type=resumable; it cannot fetch a video_url from the internet", code: 100)
        }
        let caption = p["caption"] ?? ""
        if caption.count > 2200 { return G.graphError(400, "The caption is too long (2200 characters at most)", code: 100, subcode: 2207010) }
        let words = caption.split(whereSeparator: { $0.isWhitespace })
        if words.filter({ $0.hasPrefix("#") }).count > 30 { return G.graphError(400, "A caption has at most 30 hashtags", code: 100, subcode: 2207041) }
        if let s = p["share_to_feed"], !["true", "false"].contains(s) { return G.graphError(400, "share_to_feed must be a boolean", code: 100) }
        var collaborators: [String] = []
        if let c = p["collaborators"] {
            guard let list = (try? JSONSerialization.jsonObject(with: Data(c.utf8))) as? [String], list.count <= 3 else {
                return G.graphError(400, "collaborators must be a JSON array of at most 3 usernames", code: 100)
            }
            collaborators = list
        }
        let thumb = p["thumb_offset"].flatMap { Int($0) }
        if p["thumb_offset"] != nil && thumb == nil { return G.graphError(400, "thumb_offset must be milliseconds", code: 100) }
        // `cover_url`: Instagram fetches the cover image from a public link (a JPEG), as it does a video_url.
        var cover: String? = nil
        if let url = p["cover_url"] {
            guard url.hasPrefix("http"), let image = try? await fetchImage(url) else {
                return G.graphError(400, "The cover_url could not be fetched as a JPEG image", code: 100, subcode: 2207052)
            }
            cover = FileHashing.sha256(data: image)
        }
        guard
            let c = try? await state.makeIGContainer(
                account: account, igUser: ig, caption: caption, shareToFeed: p["share_to_feed"] != "false",
                thumbOffset: thumb, collaborators: collaborators, coverSha256: cover)
        else {
            return G.graphError(500, "An unexpected error has occurred.", code: 2, transient: true)
        }
        return SandboxHTTP.json(.ok, ["id": c.id, "uri": "\(baseURL)/ig-api-upload/\(GraphVersion.current)/\(c.id)"])
    }

    /// A cover image fetched as Instagram fetches one: a JPEG behind the link, or nothing.
    static func fetchImage(_ url: String) async throws -> Data? {
        guard let data = try? await SandboxFetch.get(url, limit: 8 << 20, within: .seconds(30)) else { return nil }
        return data.starts(with: [0xFF, 0xD8]) ? data : nil
    }

    /// The upload host for a token that is no longer valid (expired, or its session invalidated): 401
    /// with the Graph error, code 190.
    static let sessionEnded = G.graphError(
        401, "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
        code: 190, subcode: 460)

    static func ruploadError(_ status: Int, _ type: String, _ message: String, retriable: Bool = false) -> Response {
        SandboxHTTP.json(.init(code: status), ["debug_info": ["retriable": retriable, "type": type, "message": message]])
    }

    /// Bytes at `offset` of `file_size`: anywhere up to what is held (a resent chunk replaces itself), never past it.
    static func rupload(_ req: Request, id: String, account: String, state: SandboxState) async throws -> Response {
        guard let c = await state.igContainer(id), c.account == account else { return ruploadError(404, "NotFoundError", "unknown container \(id)") }
        if c.statusCode == "EXPIRED" { return ruploadError(400, "ProcessingFailedError", "the container expired") }
        guard let offset = SandboxHTTP.header(req, "offset").flatMap({ Int64($0) }), let size = SandboxHTTP.header(req, "file_size").flatMap({ Int64($0) }), size > 0 else {
            return ruploadError(400, "BadRequestError", "offset and file_size headers are required")
        }
        if let known = c.size, known != size { return ruploadError(400, "BadRequestError", "file_size \(size) differs from the \(known) declared before") }
        guard offset <= c.received else { return ruploadError(400, "BadRequestError", "offset \(offset) is past the \(c.received) bytes held") }
        var req = req
        let body = try await req.collectBody(upTo: 128 * 1_048_576)
        let delay = await state.faults.youtubePutDelayMs
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        if let code = await state.takeChunkFault() { return ruploadError(code, "ServerError", "Injected failure \(code): the bytes were not kept.", retriable: true) }
        guard offset + Int64(body.readableBytes) <= size else { return ruploadError(400, "BadRequestError", "the body runs past file_size") }
        _ = try await state.receiveIG(id, offset: offset, size: size, bytes: Data(buffer: body))
        return SandboxHTTP.json(.ok, ["success": true, "message": "Upload successful."])
    }

    static func publish(_ id: String, ig: String, account: String, state: SandboxState) async -> Response {
        guard let c = await state.igContainer(id), c.account == account, c.igUser == ig else {
            return G.graphError(400, "Unsupported post request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
        }
        switch c.statusCode {
        case "FINISHED": break
        case "PUBLISHED": return G.graphError(400, "The media has already been published", code: 9007, subcode: 2207006)
        case "EXPIRED": return G.graphError(400, "The container has expired", code: 9007, subcode: 2207008)
        case "ERROR": return G.graphError(400, "The media could not be processed: \(c.failure ?? "")", code: 9007, subcode: 2207032)
        default: return G.graphError(400, "Media ID is not available", code: 9007, subcode: 2207027)
        }
        if await state.igPublished(by: ig) >= (await state.instagramQuotaTotal) {
            return G.graphError(400, "Application request limit reached: the account's publishing limit is spent", code: 9, subcode: 2207042)
        }
        let media = await state.publishIG(id)
        // The uncertain window: the reel exists, its reply has not left yet.
        await state.holdFinalReply()
        return SandboxHTTP.json(.ok, ["id": media])
    }
}

/// The Graph API version the sandbox names in the URLs it hands out (any `vN.M` is accepted in paths).
enum GraphVersion { static let current = "v21.0" }

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// TikTok Content Posting API (PLATFORMS.md): creator_info, direct-post init with FILE_UPLOAD chunk
/// arithmetic, chunks PUT strictly in order (206, then 201), status/fetch until PUBLISH_COMPLETE, and
/// errors reported in `error.code` — sometimes under HTTP 200. OAuth refresh rotates the refresh token.
enum TikTokRoutes: SandboxPlatform {
    static let minChunk: Int64 = 5 * 1_048_576
    static let maxChunk: Int64 = 64_000_000
    static let maxLastChunk: Int64 = 128_000_000
    static let statusPerMinute = 30
    static let privacyOptions = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]

    static func envelope(_ status: HTTPResponse.Status, data: [String: Any] = [:], code: String = "ok", message: String = "") -> Response {
        SandboxHTTP.json(status, ["data": data, "error": ["code": code, "message": message, "log_id": SandboxState.randomID(24)]])
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        addVideoQuery(to: router, state: state)
        router.post("/v2/oauth/token/") { req, _ -> Response in
            await state.count("tiktok.token")
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            if let r = await ConsentRoutes.codeGrant(
                form, clientID: form["client_key"] ?? "", secret: form["client_secret"] ?? "", state: state,
                scopeSeparator: ",", extra: ["open_id": "sandbox-open-id", "refresh_expires_in": 31_536_000])
            {
                return r
            }
            guard form["grant_type"] == "refresh_token", let rt = form["refresh_token"] else {
                return SandboxHTTP.json(.badRequest, ["error": "invalid_request", "error_description": "grant_type must be refresh_token"])
            }
            await state.tokenDelay()
            switch await state.rotate(clientID: form["client_key"] ?? "", clientSecret: form["client_secret"] ?? "", refreshToken: rt) {
            case .ok(let access, let expires, let newRefresh, let openID):
                return SandboxHTTP.json(
                    .ok,
                    [
                        "access_token": access, "expires_in": expires, "refresh_token": newRefresh,
                        "refresh_expires_in": 31_536_000, "open_id": openID, "scope": "video.publish,video.upload", "token_type": "Bearer"
                    ])
            case .invalidClient:
                return SandboxHTTP.json(.unauthorized, ["error": "invalid_client", "error_description": "Client key or secret is incorrect."])
            case .invalidGrant:
                return SandboxHTTP.json(.badRequest, ["error": "invalid_grant", "error_description": "Refresh token is invalid or expired."])
            }
        }
        router.get("/v2/user/info/") { req, _ -> Response in
            await state.count("tiktok.user_info")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")), account.hasPrefix("tiktok:") else {
                return envelope(.unauthorized, code: "access_token_invalid", message: "The access token is invalid or not found in the request.")
            }
            return envelope(
                .ok,
                data: [
                    "user": [
                        "open_id": await state.userID(account, length: 32, alphabet: "abcdef0123456789"),
                        "display_name": String(account.dropFirst("tiktok:".count))
                    ]
                ])
        }
        router.post("/v2/post/publish/creator_info/query/") { req, _ -> Response in
            await state.count("tiktok.creator_info")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else {
                return envelope(.unauthorized, code: "access_token_invalid", message: "The access token is invalid or not found in the request.")
            }
            let creator = await state.tiktokCreator(account)
            return envelope(
                .ok,
                data: [
                    "creator_username": account.replacingOccurrences(of: "tiktok:", with: ""), "creator_nickname": account,
                    "privacy_level_options": privacyOptions, "comment_disabled": creator.commentDisabled, "duet_disabled": creator.duetDisabled,
                    "stitch_disabled": creator.stitchDisabled, "max_video_post_duration_sec": creator.maxDurationS
                ])
        }
        router.post("/v2/post/publish/video/init/") { req, _ -> Response in try await initialize(req, state: state, baseURL: baseURL, inbox: false) }
        router.post("/v2/post/publish/inbox/video/init/") { req, _ -> Response in try await initialize(req, state: state, baseURL: baseURL, inbox: true) }
        router.put("/tiktok/upload/:publish") { req, ctx -> Response in
            await state.count("tiktok.put")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            guard let id = ctx.parameters.get("publish") else {
                return envelope(.notFound, code: "invalid_publish_id", message: "unknown upload")
            }
            return try await state.servingPut { try await state.sessionLocks.withLock(id) { try await putLocked(req, id: id, state: state) } }
        }
        router.post("/v2/post/publish/status/fetch/") { req, _ -> Response in
            await state.count("tiktok.status")
            guard await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) != nil else {
                return envelope(.unauthorized, code: "access_token_invalid", message: "The access token is invalid or not found in the request.")
            }
            // 30 requests a minute per access token, as TikTok's rate-limit table says.
            if let retry = await state.rateLimit("tiktok.status:" + (SandboxHTTP.header(req, "Authorization") ?? ""), limit: statusPerMinute, window: 60) {
                var r = envelope(.tooManyRequests, code: "rate_limit_exceeded", message: "status/fetch: \(statusPerMinute) requests per minute per access token")
                r.headers[.retryAfter] = String(retry)
                return r
            }
            var req = req
            let body = try await req.collectBody(upTo: 64 * 1024)
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
            // An unknown id is an error that arrives with HTTP 200: clients must read error.code.
            guard let id = json?["publish_id"] as? String, let up = await state.tiktok(id) else {
                return envelope(.ok, code: "invalid_publish_id", message: "publish_id not found")
            }
            var data: [String: Any] = ["status": up.status, "uploaded_bytes": up.received]
            if let post = up.postID { data["publicaly_available_post_id"] = [post] }
            if let reason = up.failReason { data["fail_reason"] = reason }
            return envelope(.ok, data: data)
        }
    }

    /// Direct Post's init (`video/init`: post_info and source_info), or Upload's (`inbox/video/init`:
    /// source_info only, a draft the creator finishes in the app): the publish id and upload URL.
    static func initialize(_ req: Request, state: SandboxState, baseURL: @escaping @Sendable () -> String, inbox: Bool) async throws -> Response {
        await state.count("tiktok.init")
        // `redirectStarts`: answered before anything else is done for the request, as a proxy in front of the server would.
        if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
        guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")) else {
            return envelope(.unauthorized, code: "access_token_invalid", message: "The access token is invalid or not found in the request.")
        }
        switch await state.takeInitFault() {
        case .rateLimited(let after)?:
            var r = envelope(.tooManyRequests, code: "rate_limit_exceeded", message: "Too many requests: 6 per minute per user.")
            r.headers[.retryAfter] = String(after)
            return r
        case .status(let code)?:
            return envelope(.init(code: code), code: code >= 500 ? "internal_error" : "invalid_params", message: "Injected failure \(code).")
        case nil: break
        }
        var req = req
        let body = try await req.collectBody(upTo: 1 << 20)
        // Upload to inbox takes source_info only: the creator writes the post in the app.
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let post = (inbox ? [:] : json["post_info"]) as? [String: Any], let source = json["source_info"] as? [String: Any]
        else {
            return envelope(.badRequest, code: "invalid_params", message: inbox ? "source_info is required" : "post_info and source_info are required")
        }
        if inbox, json["post_info"] != nil {
            return envelope(.badRequest, code: "invalid_params", message: "upload to inbox takes no post_info; the creator completes the post in TikTok")
        }
        let privacy = inbox ? "" : (post["privacy_level"] as? String ?? "")
        guard inbox || privacyOptions.contains(privacy) else {
            return envelope(.forbidden, code: "privacy_level_option_mismatch", message: "privacy_level is not one of the creator's options")
        }
        // The Direct Post guidelines: an unaudited client posts SELF_ONLY only.
        if !inbox, privacy != "SELF_ONLY", await !state.tiktokCreator(account).audited {
            return envelope(
                .forbidden, code: "unaudited_client_can_only_post_to_private_accounts",
                message: "Unaudited clients can only post to private accounts; set privacy_level to SELF_ONLY.")
        }
        let disabled = ["disable_comment", "disable_duet", "disable_stitch"].filter { post[$0] as? Bool == true }
        let title = post["title"] as? String ?? ""
        if title.utf16.count > 2200 { return envelope(.badRequest, code: "invalid_params", message: "title exceeds 2200 UTF-16 units") }
        guard source["source"] as? String == "FILE_UPLOAD",
            let size = (source["video_size"] as? NSNumber)?.int64Value, let chunk = (source["chunk_size"] as? NSNumber)?.int64Value,
            let count = (source["total_chunk_count"] as? NSNumber)?.intValue
        else {
            return envelope(.badRequest, code: "invalid_params", message: "source_info needs FILE_UPLOAD with video_size, chunk_size, total_chunk_count")
        }
        if let problem = checkChunks(size: size, chunk: chunk, count: count) {
            return envelope(.badRequest, code: "invalid_params", message: problem)
        }
        let publishID = "v_pub_file~v2-1." + SandboxState.randomID(19, alphabet: "0123456789")
        let file = state.root.appendingPathComponent("tiktok/uploads/\(publishID).part").path
        try FileManager.default.createDirectory(atPath: PathText.parent(file), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        await state.putTikTok(
            .init(
                publishID: publishID, account: account, title: title, privacy: privacy, size: size,
                chunk: chunk, count: count, received: 0, file: file, created: Date(), status: "PROCESSING_UPLOAD", disabled: disabled, inbox: inbox))
        return envelope(.ok, data: ["publish_id": publishID, "upload_url": "\(baseURL())/tiktok/upload/\(publishID)"])
    }

    /// One chunk, holding the upload's lock, on a fresh read of its state.
    static func putLocked(_ req: Request, id: String, state: SandboxState) async throws -> Response {
        guard var up = await state.tiktok(id) else {
            return envelope(.notFound, code: "invalid_publish_id", message: "unknown upload")
        }
        if Date().timeIntervalSince(up.created) > 3600 { return envelope(.forbidden, code: "url_expired", message: "The upload URL has expired.") }
        let delay = await state.faults.youtubePutDelayMs
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        // The media transfer guide lists the types it takes: MP4, MOV, WebM.
        let type = (SandboxHTTP.header(req, "Content-Type") ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard ["video/mp4", "video/quicktime", "video/webm"].contains(type) else {
            return envelope(.badRequest, code: "invalid_params", message: "Content-Type must be video/mp4, video/quicktime or video/webm, not '\(type)'")
        }
        guard let cr = SandboxHTTP.header(req, "Content-Range"), let range = ContentRange.parse(cr),
            let first = range.first, let last = range.last, range.total == up.size
        else {
            return envelope(.badRequest, code: "invalid_params", message: "Content-Range must be bytes first-last/video_size")
        }
        // In order, each chunk exactly as the arithmetic says: chunk_size, the last one absorbing the rest.
        let index = Int(up.received / up.chunk)
        let expectedLength = index == up.count - 1 ? up.size - up.received : up.chunk
        guard first == up.received, last - first + 1 == expectedLength else {
            return envelope(
                .badRequest, code: "invalid_params",
                message: "expected chunk \(index) as bytes \(up.received)-\(up.received + expectedLength - 1)/\(up.size), got \(cr)")
        }
        var req = req
        let body = try await req.collectBody(upTo: Int(maxLastChunk))
        // A transfer cut mid-chunk (`failChunks`): the body read and dropped, nothing kept.
        if let status = await state.takeChunkFault() {
            return envelope(.init(code: status), code: "internal_error", message: "Injected failure \(status): the chunk was not stored.")
        }
        guard Int64(body.readableBytes) == expectedLength else {
            return envelope(.badRequest, code: "invalid_params", message: "chunk body is \(body.readableBytes) bytes, Content-Range says \(expectedLength)")
        }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: up.file))
        try h.truncate(atOffset: UInt64(up.received))
        try h.seek(toOffset: UInt64(up.received))
        // Straight from the request's buffer, and not fsynced: what a killed sandbox wrote stays in the page
        // cache, and a per-chunk fsync made every chunk wait for the disk (it was most of a chunk's time).
        try body.withUnsafeReadableBytes { try h.write(contentsOf: $0) }
        try h.close()
        await state.addReceived(Int64(body.readableBytes))
        up.received += expectedLength
        if up.received < up.size {
            await state.putTikTok(up)
            return SandboxHTTP.empty(.partialContent)
        }
        try await state.finishTikTok(up)
        await state.holdFinalReply()
        return SandboxHTTP.empty(.created)
    }

    /// TikTok's own arithmetic (Media Transfer Guide): under 5 MiB the file goes whole; up to 64 MB it
    /// may go whole (chunk_size = video_size, one chunk); otherwise chunks of 5 MiB–64 MB with
    /// total_chunk_count = floor(video_size / chunk_size), 1…1000, the last ≤ 128 MB.
    static func checkChunks(size: Int64, chunk: Int64, count: Int) -> String? {
        if size <= 0 { return "video_size must be positive" }
        if size < minChunk {
            return chunk == size && count == 1 ? nil : "a file under 5 MiB is one chunk: chunk_size = video_size, total_chunk_count = 1"
        }
        if chunk == size && count == 1 {
            return size <= maxChunk ? nil : "a file over 64 MB must be uploaded in chunks"
        }
        if chunk < minChunk || chunk > maxChunk { return "chunk_size must be 5 MiB–64 MB" }
        let expected = Int(size / chunk)
        if expected < 1 { return "chunk_size \(chunk) is larger than video_size \(size): upload it whole with chunk_size = video_size and total_chunk_count = 1" }
        if count != expected { return "total_chunk_count must be floor(video_size / chunk_size) = \(expected)" }
        if !(1...1000).contains(count) { return "total_chunk_count must be 1–1000" }
        if size - chunk * Int64(count - 1) > maxLastChunk { return "the last chunk would exceed 128 MB" }
        return nil
    }
}

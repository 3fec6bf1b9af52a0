import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Douyin Open Platform (developer.open-douyin.com; request shapes as the SKIT.FlurlHttpClient.ByteDance
/// DouyinOpen client sends them), strict where the docs are:
/// - OAuth: `/oauth/access_token/` takes a JSON body (client_key, client_secret, code, grant_type);
///   `/oauth/refresh_token/` a form with client_key only — a new access token, the refresh token's own
///   30 days unchanged; `/oauth/renew_refresh_token/` a new refresh token (the old one dies), five times at
///   most (10020), none past the 30 days (10010). Every answer is enveloped in `data`, errors under HTTP 200.
/// - Video: `access-token` header, `open_id` in the query (another user's: 2190015); `upload_video` (one
///   request, ≤ 128 MB) or `init_video_part_upload` → `upload_video_part` (`upload_id`, `part_number` from
///   1, the bytes in the form's `video`) → `complete_video_part_upload` (parts 1…n, every one but the last
///   ≥ 5 MB; the upload id lives two hours); `create_video` spends the video_id; `video_list` reads the
///   account's items back, newest first.
/// Answers are `{"data": {…, "error_code", "description"}, "extra": {…}}`; failures keep HTTP 200.
/// The OAuth endpoints are served under `/douyin` (Meta's and Threads' sandboxes have `/oauth/access_token`).
enum DouyinRoutes: SandboxPlatform {
    static let minPart: Int64 = 5 * 1_048_576
    static let maxWhole: Int64 = 128_000_000
    static let maxText = 1000

    /// The open_id this sandbox gives `douyin:<name>` (the platform's `useSandbox` names the same).
    static func openID(_ name: String) -> String { "sandbox-open-" + name }

    static func reply(_ data: [String: Any] = [:], code: Int = 0, _ description: String = "", status: HTTPResponse.Status = .ok) -> Response {
        var d = data
        d["error_code"] = code
        d["description"] = description
        let extra: [String: Any] = [
            "error_code": code, "description": description, "sub_error_code": 0, "sub_description": "",
            "logid": SandboxState.randomID(34, alphabet: "0123456789ABCDEF"), "now": Int64(Date().timeIntervalSince1970 * 1000)
        ]
        return SandboxHTTP.json(status, ["data": d, "extra": extra])
    }

    /// The token endpoints' envelope: `data` and `message`.
    static func tokenReply(_ data: [String: Any], code: Int = 0, _ description: String = "") -> Response {
        var d = data
        d["error_code"] = code
        d["description"] = description
        return SandboxHTTP.json(.ok, ["data": d, "message": code == 0 ? "success" : "error"])
    }

    enum Caller {
        case success(String)
        case failure(Response)
    }

    /// The account behind the `access-token` header, if it owns the `open_id` the query names.
    static func caller(_ req: Request, _ state: SandboxState) async -> Caller {
        guard let token = SandboxHTTP.header(req, "access-token"), !token.isEmpty else {
            return .failure(reply(code: 2_190_002, "access_token无效"))
        }
        guard let account = await state.account(forBearer: "Bearer " + token), account.hasPrefix("douyin:") else {
            return .failure(reply(code: 2_190_008, "access_token过期,请刷新或重新授权"))
        }
        guard SandboxHTTP.query(req, "open_id") == openID(String(account.dropFirst("douyin:".count))) else {
            return .failure(reply(code: 2_190_015, "请求参数access_token openid不匹配"))
        }
        return .success(account)
    }

    /// `body` for the account the request's token and open_id name, or Douyin's refusal of them.
    static func asCaller(_ req: Request, _ state: SandboxState, _ body: (String) async throws -> Response) async throws -> Response {
        switch await caller(req, state) {
        case .failure(let r): return r
        case .success(let account): return try await body(account)
        }
    }

    /// An injected answer for an upload start: Douyin's "too frequent", or a status as its own code.
    static func startFault(_ state: SandboxState) async -> Response? {
        switch await state.takeInitFault() {
        case .rateLimited?: return reply(code: 28_003_018, "请求频率过高")
        case .status(let code)? where code >= 500: return reply(code: 2_100_004, "系统繁忙,此时请开发者稍候再试 (injected \(code))")
        case .status(let code)?: return reply(code: 2_100_005, "参数不合法 (injected \(code))")
        case nil: return nil
        }
    }

    /// The file in a multipart body's `video` field.
    static func videoField(_ req: inout Request, limit: Int) async throws -> Data? {
        let type = SandboxHTTP.header(req, "Content-Type") ?? ""
        let body = Data(buffer: try await req.collectBody(upTo: limit))
        return Multipart.formFields(body, contentType: type)?["video"]
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        addVideoData(to: router, state: state)
        addOAuth(to: router, state: state)
        router.post("/api/douyin/v1/video/upload_video/") { req, _ -> Response in
            await state.count("douyin.upload")
            // `redirectStarts` (a whole-file upload is its own start), then `redirectChunks`: answered before the body is read.
            if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
            if let moved = await ChunkRedirect.next(state) { return moved }
            return try await asCaller(req, state) { account in
                if let r = await startFault(state) { return r }
                var req = req
                guard let bytes = try await videoField(&req, limit: Int(maxWhole) + 1 << 20) else {
                    return reply(code: 2_100_005, "参数不合法: the file goes in the multipart field `video`")
                }
                guard Int64(bytes.count) <= maxWhole else { return reply(code: 2_100_005, "a video over 128 MB must be uploaded in parts") }
                let path = state.root.appendingPathComponent("douyin/videos/\(SandboxState.randomID(20)).bin")
                try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
                try bytes.write(to: path)
                await state.addReceived(Int64(bytes.count))
                let video = try await state.keepDouyinVideo(account: account, path: path.path)
                return reply(["video": ["video_id": video.id, "width": 1080, "height": 1920]])
            }
        }
        router.post("/api/douyin/v1/video/init_video_part_upload/") { req, _ -> Response in
            await state.count("douyin.init")
            // `redirectStarts`: answered before anything else is done for the request, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
            return try await asCaller(req, state) { account in
                if let r = await startFault(state) { return r }
                let u = try await state.startDouyinUpload(account: account)
                return reply(["upload_id": u.id])
            }
        }
        router.post("/api/douyin/v1/video/upload_video_part/") { req, _ -> Response in
            await state.count("douyin.part")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            return try await asCaller(req, state) { account in
                let id = SandboxHTTP.query(req, "upload_id") ?? ""
                return try await state.servingPut {
                    try await state.sessionLocks.withLock(id) { try await partLocked(req, id: id, account: account, state: state) }
                }
            }
        }
        router.post("/api/douyin/v1/video/complete_video_part_upload/") { req, _ -> Response in
            await state.count("douyin.complete")
            return try await asCaller(req, state) { account in
                let id = SandboxHTTP.query(req, "upload_id") ?? ""
                return try await state.sessionLocks.withLock(id) {
                    guard await state.douyinUpload(id, account: account) != nil else { return reply(code: 2_100_005, "参数不合法: upload_id is invalid or expired") }
                    switch try await state.completeDouyinUpload(id) {
                    case .failure(.invalid(let why)): return reply(code: 2_100_005, "参数不合法: " + why)
                    case .success(let video): return reply(["video": ["video_id": video.id, "width": 1080, "height": 1920]])
                    }
                }
            }
        }
        router.post("/api/douyin/v1/video/create_video/") { req, _ -> Response in
            await state.count("douyin.create")
            return try await asCaller(req, state) { account in
                var req = req
                let body = Data(buffer: try await req.collectBody(upTo: 1 << 20))
                guard let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], let videoID = json["video_id"] as? String else {
                    return reply(code: 2_100_005, "参数不合法: video_id is required")
                }
                let text = json["text"] as? String ?? ""
                if text.count > maxText { return reply(code: 2_100_005, "参数不合法: text is over \(maxText) characters") }
                let cover = (json["cover_tsp"] as? NSNumber)?.doubleValue
                if let cover, cover < 0 { return reply(code: 2_100_005, "参数不合法: cover_tsp must not be negative") }
                let at = json["at_users"] as? [String] ?? []
                switch await state.createDouyinItem(account: account, videoID: videoID, text: text, coverTsp: cover, atUsers: at) {
                case .failure(.invalid(let why)): return reply(code: 2_100_005, "参数不合法: " + why)
                case .success(let item):
                    // The uncertain window: the item exists, its answer has not left yet.
                    await state.holdFinalReply()
                    return reply(["item_id": item.id])
                }
            }
        }
        router.get("/api/douyin/v1/video/video_list/") { req, _ -> Response in
            await state.count("douyin.list")
            return try await asCaller(req, state) { account in
                if await state.takeReadLimit() != nil { return reply(code: 28_003_018, "请求频率过高") }
                guard let count = Int(SandboxHTTP.query(req, "count") ?? ""), (1...20).contains(count),
                    let cursor = Int(SandboxHTTP.query(req, "cursor") ?? ""), cursor >= 0
                else {
                    return reply(code: 2_100_005, "参数不合法: cursor (from 0) and count (1–20) are required")
                }
                // A test's `processingMs`: an item listed only that long after its create (a list that lags).
                let lag = Double(await state.faults.processingMs) / 1000
                let all = await state.douyinItems(of: account).filter { Date().timeIntervalSince($0.created) >= lag }
                let page = Array(all.dropFirst(cursor).prefix(count))
                let list: [[String: Any]] = page.map { i in
                    [
                        "item_id": i.id, "title": i.text, "create_time": Int64(i.created.timeIntervalSince1970), "is_top": false,
                        "share_url": "\(baseURL())/douyin/share/\(i.id)", "video_status": 1, "is_reviewed": true,
                        "cover": "\(baseURL())/douyin/cover/\(i.id).jpg", "statistics": ["play_count": 0, "digg_count": 0]
                    ]
                }
                return reply(["list": list, "has_more": cursor + page.count < all.count, "cursor": cursor + page.count])
            }
        }
    }

    /// One part, holding the upload's lock, on a fresh read of its state.
    static func partLocked(_ req: Request, id: String, account: String, state: SandboxState) async throws -> Response {
        guard await state.douyinUpload(id, account: account) != nil else { return reply(code: 2_100_005, "参数不合法: upload_id is invalid or expired") }
        guard let number = Int(SandboxHTTP.query(req, "part_number") ?? ""), number >= 1 else {
            return reply(code: 2_100_005, "参数不合法: part_number counts from 1")
        }
        let delay = await state.faults.youtubePutDelayMs
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        var req = req
        guard let bytes = try await videoField(&req, limit: Int(maxWhole) + 1 << 20), !bytes.isEmpty else {
            return reply(code: 2_100_005, "参数不合法: the part goes in the multipart field `video`")
        }
        // A transfer cut mid-part (`failChunks`): the body read and dropped, nothing kept.
        if let status = await state.takeChunkFault() {
            return reply(code: 2_100_004, "系统繁忙,此时请开发者稍候再试 (injected \(status)): the part was not kept", status: .init(code: status))
        }
        try await state.storeDouyinPart(id, number: number, bytes: bytes)
        return reply()
    }

    static func addOAuth(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/douyin/oauth/access_token/") { req, _ -> Response in
            await state.count("douyin.token")
            var req = req
            let body = Data(buffer: try await req.collectBody(upTo: 64 * 1024))
            // The docs' body is JSON; a form is not what they take.
            guard (SandboxHTTP.header(req, "Content-Type") ?? "").lowercased().hasPrefix("application/json"),
                let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: String], json["grant_type"] == "authorization_code"
            else {
                return tokenReply([:], code: 10_005, "缺少参数: a JSON body with client_key, client_secret, code and grant_type=authorization_code")
            }
            switch await state.redeem(
                code: json["code"] ?? "", clientID: json["client_key"] ?? "", clientSecret: json["client_secret"] ?? "", redirect: "", verifier: "",
                unbound: true)
            {
            case .ok(let access, let refresh, let expires, let scopes, let user):
                _ = await state.douyinRefresh(refresh)
                return tokenReply([
                    "access_token": access, "expires_in": expires, "refresh_token": refresh,
                    "refresh_expires_in": Int(SandboxState.douyinRefreshLifetime), "open_id": openID(user), "scope": scopes.joined(separator: ",")
                ])
            case .invalidClient: return tokenReply([:], code: 10_013, "client_key or client_secret is invalid")
            case .invalidGrant(let why): return tokenReply([:], code: 10_007, "授权码过期或无效: " + why)
            }
        }
        router.post("/douyin/oauth/refresh_token/") { req, _ -> Response in
            await state.count("douyin.refresh")
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            guard form["grant_type"] == "refresh_token", let key = form["client_key"], let rt = form["refresh_token"] else {
                return tokenReply([:], code: 10_005, "缺少参数: client_key, grant_type=refresh_token and refresh_token")
            }
            await state.tokenDelay()
            switch await state.refreshDouyin(clientKey: key, refreshToken: rt) {
            case .ok(let access, let expires, let left, let open):
                return tokenReply([
                    "access_token": access, "expires_in": expires, "refresh_token": rt, "refresh_expires_in": left, "open_id": open,
                    "scope": "user_info,video.create.bind,video.list.bind"
                ])
            case .invalidClient: return tokenReply([:], code: 10_013, "client_key is invalid")
            case .expired: return tokenReply([:], code: 10_010, "refresh_token过期")
            }
        }
        router.post("/douyin/oauth/renew_refresh_token/") { req, _ -> Response in
            await state.count("douyin.renew")
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            guard let key = form["client_key"], let rt = form["refresh_token"] else {
                return tokenReply([:], code: 10_005, "缺少参数: client_key and refresh_token")
            }
            switch await state.renewDouyin(clientKey: key, refreshToken: rt) {
            case .ok(let next, let life): return tokenReply(["refresh_token": next, "expires_in": life])
            case .invalidClient: return tokenReply([:], code: 10_013, "client_key is invalid")
            case .expired: return tokenReply([:], code: 10_010, "refresh_token过期")
            case .tooMany: return tokenReply([:], code: 10_020, "超过刷新次数限制")
            }
        }
        router.post("/douyin/oauth/userinfo/") { req, _ -> Response in
            await state.count("douyin.userinfo")
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            guard let token = form["access_token"], let account = await state.account(forBearer: "Bearer " + token), account.hasPrefix("douyin:") else {
                return tokenReply([:], code: 2_190_008, "access_token过期,请刷新或重新授权")
            }
            let name = String(account.dropFirst("douyin:".count))
            guard form["open_id"] == openID(name) else { return tokenReply([:], code: 2_190_015, "请求参数access_token openid不匹配") }
            return tokenReply(["open_id": openID(name), "union_id": "union-" + name, "nickname": name, "avatar": ""])
        }
    }
}

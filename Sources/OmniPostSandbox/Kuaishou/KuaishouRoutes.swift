import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Kuaishou's open platform (open.kuaishou.com; 内容管理 › 创建视频, 查询视频, 快手登录 and 错误码, as
/// mp.kuaishou.com/platformDocs and its apifox mirror keep them), strict where the docs are:
/// - every `openapi/` call names `app_id` and `access_token` in the query (an unknown or expired token is
///   100200108, another app's 100200101);
/// - `photo/start_upload` → `upload_token` and the gateway's `endpoint` (a host, no scheme);
/// - at the gateway, under the upload token alone: `api/upload` (the bytes as the body — a multipart body
///   there is refused, as the docs warn), `api/upload/multipart` (the form's `file`), or
///   `api/upload/fragment?fragment_id=n` (from 0) then `api/upload/complete?fragment_count=n` (all of
///   0…n-1, no more); `api/upload/resume` says whether the upload exists and the last fragment held in order;
/// - `photo/publish?upload_token` (multipart: `caption`, `cover` — an image, required, under 10 MB) spends
///   the upload token (a second publish of it is refused) and answers `video_info`; the publish is
///   asynchronous, as the docs say ("该接口返回结果后，不代表视频已经同步发布到用户P页"): `photo/list`, the
///   account's works newest first, shows a work only once it is processed (`kuaishouListedAfterMs`, or
///   `processingMs`).
/// Answers are `{"result": 1, …}`, failures another `result` with `error_msg` under HTTP 200.
/// OAuth (GETs, fields in the query, under /kuaishou here): `oauth2/access_token` (app_id, app_secret,
/// code, grant_type=authorization_code) and `oauth2/refresh_token` (… refresh_token, grant_type=
/// refresh_token), which hands out a new refresh token; the answer carries `open_id` and `scopes`.
enum KuaishouRoutes: SandboxPlatform {
    static let maxCover = 10 * 1_048_576
    /// What one gateway request may carry here (the docs recommend ≤ 10 MB per request; a body is read up to this).
    static let maxBody = 64 * 1_048_576
    /// The access token's 48 hours and the refresh token's 180 days (code2AccessToken's answer).
    static let refreshLifetime = 180 * 86400

    static func reply(_ fields: [String: Any] = [:], result: Int = 1, _ message: String = "") -> Response {
        var body = fields
        body["result"] = result
        if result != 1 { body["error_msg"] = message }
        return SandboxHTTP.json(.ok, body)
    }

    /// `body` for the account the query's `access_token` and `app_id` name, or Kuaishou's refusal.
    static func asCaller(_ req: Request, _ state: SandboxState, _ body: (String) async throws -> Response) async throws -> Response {
        guard let token = SandboxHTTP.query(req, "access_token"), let account = await state.account(forBearer: "Bearer " + token),
            account.hasPrefix("kuaishou:")
        else {
            return reply(result: 100_200_108, "access_token过期")
        }
        guard let app = SandboxHTTP.query(req, "app_id"), app == (await state.clientID(ofAccount: account)) else {
            return reply(result: 100_200_101, "无效的client: app_id does not match the token's app")
        }
        return try await body(account)
    }

    /// The gateway's host as `start_upload` names it: no scheme where the sandbox is plain HTTP.
    static func endpoint(_ base: String) -> String { base.hasPrefix("http://") ? String(base.dropFirst("http://".count)) : base }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        addOAuth(to: router, state: state)
        addGateway(to: router, state: state)
        router.post("/openapi/photo/start_upload") { req, _ -> Response in
            await state.count("kuaishou.start")
            // `redirectStarts`: answered before anything else is done for the request, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
            return try await asCaller(req, state) { account in
                switch await state.takeInitFault() {
                case .rateLimited(let after)?:
                    // Not Kuaishou's: it documents no rate-limit code for publishing. What any HTTP gateway
                    // in front answers; no conformance scenario relies on it (KuaishouConformance says why).
                    return SandboxHTTP.json(.tooManyRequests, ["result": 0, "error_msg": "too many requests"], headers: [.retryAfter: String(after)])
                case .status(let code)? where code >= 500: return reply(result: 100_200_500, "服务内部错误 (injected \(code))")
                case .status(let code)?: return reply(result: 100_400, "参数错误 (injected \(code))")
                case nil: break
                }
                let u = try await state.startKuaishouUpload(account: account)
                return reply(["upload_token": u.token, "endpoint": endpoint(baseURL())])
            }
        }
        router.post("/openapi/photo/publish") { req, _ -> Response in
            await state.count("kuaishou.publish")
            return try await asCaller(req, state) { account in
                let token = SandboxHTTP.query(req, "upload_token") ?? ""
                var req = req
                let type = SandboxHTTP.header(req, "Content-Type") ?? ""
                let body = Data(buffer: try await req.collectBody(upTo: maxCover + 1 << 20))
                guard let form = Multipart.formFields(body, contentType: type) else {
                    return reply(result: 100_400, "参数错误: caption and cover go as multipart/form-data")
                }
                guard let cover = form["cover"], !cover.isEmpty else { return reply(result: 100_400, "参数错误: cover is required") }
                let jpeg = cover.starts(with: [0xFF, 0xD8, 0xFF]), png = cover.starts(with: [0x89, 0x50, 0x4E, 0x47])
                guard jpeg || png, cover.count < maxCover else { return reply(result: 100_400, "参数错误: the cover is an image under 10 MB") }
                let caption = form["caption"].map { String(decoding: $0, as: UTF8.self) } ?? ""
                switch try await state.publishKuaishou(account: account, token: token, caption: caption, cover: "\(baseURL())/kuaishou/cover/\(token)") {
                case .failure(.invalid(let code, let why)): return reply(result: code, why)
                case .success(let w):
                    // The uncertain window: the work exists, its answer has not left yet.
                    await state.holdFinalReply()
                    return reply(["video_info": work(w, baseURL())])
                }
            }
        }
        router.get("/openapi/photo/list") { req, _ -> Response in
            await state.count("kuaishou.list")
            return try await asCaller(req, state) { account in
                let count = Int(SandboxHTTP.query(req, "count") ?? "20") ?? 0
                guard (1...200).contains(count) else { return reply(result: 100_400, "参数错误: count is 1–200") }
                // A work the platform never showed or took down is not listed; the rest carry their numbers.
                var all: [(SandboxState.KuaishouWork, PostLife?)] = []
                for w in await state.kuaishouListed(of: account) {
                    let life = await state.postLife(platform: "kuaishou", id: w.id)
                    if life?.found != false { all.append((w, life)) }
                }
                let cursor = SandboxHTTP.query(req, "cursor").flatMap { c in all.firstIndex { $0.0.id == c }.map { $0 + 1 } } ?? 0
                let page = Array(all.dropFirst(cursor).prefix(count))
                return reply(["video_list": page.map { work($0.0, baseURL(), numbers: $0.1?.numbers) }])
            }
        }
        router.get("/openapi/user_info") { req, _ -> Response in
            try await asCaller(req, state) { account in
                let name = String(account.dropFirst("kuaishou:".count))
                return reply(["user_info": ["name": name, "sex": "F", "fan": 0, "follow": 0, "head": "", "bigHead": "", "city": ""]])
            }
        }
    }

    /// A work as `video_info` and `photo/list` give it; processing is over in the sandbox once listed.
    static func work(_ w: SandboxState.KuaishouWork, _ base: String, numbers: SandboxMetrics? = nil) -> [String: Any] {
        [
            "photo_id": w.id, "caption": w.caption, "cover": w.cover, "play_url": "\(base)/kuaishou/work/\(w.id)",
            "create_time": Int64(w.created.timeIntervalSince1970 * 1000), "like_count": numbers?.likes ?? 0,
            "comment_count": numbers?.comments ?? 0, "view_count": numbers?.views ?? 0, "pending": false
        ]
    }

    /// `body` for an upload token the gateway holds and no work has spent.
    static func holding(
        _ req: Request, _ state: SandboxState, _ body: (SandboxState.KuaishouUpload) async throws -> Response
    ) async throws -> Response {
        let token = SandboxHTTP.query(req, "upload_token") ?? ""
        guard let u = await state.kuaishouUpload(token), !u.used else { return reply(result: 100_400, "参数错误: upload_token is unknown or spent") }
        return try await body(u)
    }

    static func addGateway(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/api/upload") { req, _ -> Response in
            await state.count("kuaishou.upload")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            return try await holding(req, state) { u in
                guard !(SandboxHTTP.header(req, "Content-Type") ?? "").hasPrefix("multipart/") else {
                    return reply(result: 100_400, "参数错误: api/upload takes the file's bytes as the body, no multipart (that is api/upload/multipart)")
                }
                var req = req
                let bytes = Data(buffer: try await req.collectBody(upTo: maxBody))
                guard !bytes.isEmpty else { return reply(result: 100_400, "参数错误: an empty body") }
                try await state.storeKuaishouWhole(u.token, bytes: bytes)
                return reply()
            }
        }
        router.post("/api/upload/multipart") { req, _ -> Response in
            await state.count("kuaishou.upload")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            return try await holding(req, state) { u in
                var req = req
                let type = SandboxHTTP.header(req, "Content-Type") ?? ""
                let body = Data(buffer: try await req.collectBody(upTo: maxBody + 1 << 20))
                guard let file = Multipart.formFields(body, contentType: type)?["file"], !file.isEmpty else {
                    return reply(result: 100_400, "参数错误: the file goes in the multipart field `file`")
                }
                try await state.storeKuaishouWhole(u.token, bytes: file)
                return reply()
            }
        }
        router.post("/api/upload/fragment") { req, _ -> Response in
            await state.count("kuaishou.fragment")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            let token = SandboxHTTP.query(req, "upload_token") ?? ""
            return try await state.servingPut {
                try await state.sessionLocks.withLock(token) {
                    try await holding(req, state) { u in
                        guard let id = Int(SandboxHTTP.query(req, "fragment_id") ?? ""), id >= 0 else {
                            return reply(result: 100_400, "参数错误: fragment_id counts from 0")
                        }
                        let delay = await state.faults.youtubePutDelayMs
                        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
                        var req = req
                        let bytes = Data(buffer: try await req.collectBody(upTo: maxBody))
                        // A transfer cut mid-fragment (`failChunks`): the body read and dropped, nothing kept.
                        if let status = await state.takeChunkFault() {
                            return SandboxHTTP.json(.init(code: status), ["result": 100_200_500, "error_msg": "服务内部错误 (injected \(status)): the fragment was not kept"])
                        }
                        guard !bytes.isEmpty else { return reply(result: 100_400, "参数错误: an empty fragment") }
                        try await state.storeKuaishouFragment(u.token, id: id, bytes: bytes)
                        return reply()
                    }
                }
            }
        }
        router.get("/api/upload/resume") { req, _ -> Response in
            await state.count("kuaishou.resume")
            return try await holding(req, state) { u in
                let last = await state.kuaishouResumeIndex(u.token)
                return reply(["existed": !u.parts.isEmpty, "fragment_index": last, "fragment_list": u.parts.keys.sorted()])
            }
        }
        router.post("/api/upload/complete") { req, _ -> Response in
            await state.count("kuaishou.complete")
            let token = SandboxHTTP.query(req, "upload_token") ?? ""
            return try await state.sessionLocks.withLock(token) {
                try await holding(req, state) { u in
                    guard let count = Int(SandboxHTTP.query(req, "fragment_count") ?? "") else {
                        return reply(result: 100_400, "参数错误: fragment_count is required")
                    }
                    if let why = try await state.completeKuaishouUpload(u.token, count: count) { return reply(result: 100_400, "参数错误: " + why) }
                    return reply()
                }
            }
        }
    }

    static func addOAuth(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/kuaishou/oauth2/access_token") { req, _ -> Response in
            await state.count("kuaishou.token")
            func q(_ n: String) -> String { SandboxHTTP.query(req, n) ?? "" }
            guard q("grant_type") == "authorization_code", !q("app_id").isEmpty, !q("code").isEmpty else {
                return reply(result: 100_200_100, "请求缺少参数: app_id, app_secret, code and grant_type=authorization_code in the query")
            }
            switch await state.redeem(code: q("code"), clientID: q("app_id"), clientSecret: q("app_secret"), redirect: "", verifier: "", unbound: true) {
            case .ok(let access, let refresh, let expires, let scopes, let user):
                return reply([
                    "access_token": access, "expires_in": expires, "refresh_token": refresh, "refresh_token_expires_in": refreshLifetime,
                    "open_id": "ks-open-" + user, "scopes": scopes
                ])
            case .invalidClient: return reply(result: 100_200_101, "无效的client: app_id or app_secret")
            case .invalidGrant(let why): return reply(result: 100_200_105, "请求的 code 错误: " + why)
            }
        }
        router.get("/kuaishou/oauth2/refresh_token") { req, _ -> Response in
            await state.count("kuaishou.refresh")
            func q(_ n: String) -> String { SandboxHTTP.query(req, n) ?? "" }
            guard q("grant_type") == "refresh_token", !q("refresh_token").isEmpty else {
                return reply(result: 100_200_100, "请求缺少参数: app_id, app_secret, refresh_token and grant_type=refresh_token in the query")
            }
            await state.tokenDelay()
            switch await state.rotate(clientID: q("app_id"), clientSecret: q("app_secret"), refreshToken: q("refresh_token")) {
            case .ok(let access, let expires, let next, _):
                return reply(["access_token": access, "expires_in": expires, "refresh_token": next, "refresh_token_expires_in": refreshLifetime])
            case .invalidClient: return reply(result: 100_200_101, "无效的client: app_id or app_secret")
            case .invalidGrant: return reply(result: 100_200_113, "refresh_token过期")
            }
        }
    }
}

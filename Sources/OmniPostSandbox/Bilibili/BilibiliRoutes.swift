import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// Bilibili's open platform (member.bilibili.com/arcopen, 视频稿件投递, as its documentation's apifox
/// mirror keeps it), strict where the docs are: every call names `client_id` and `access_token` in the
/// query (an unknown token is -101); `video/init` (`name`, `utype` "1" one request ≤ 100 MB, "0" parts)
/// → `upload_token`; `video/upload` (multipart `file`) or `video/v2/part/upload?upload_token&part_number`
/// (the bytes as the body, no token: the upload token is the credential) then `video/complete` (parts 1…n,
/// all but the last of one size); `cover/upload` (multipart `file`, JPEG or PNG ≤ 5 MB); `add-by-utoken`
/// (title ≤ 80, a cover it handed out, `tid` one of its categories, `tag` required, `copyright` 1 or 2 with
/// `source`), spending the upload token; `viewlist` the account's archives, newest first. Answers are
/// `{"code", "message", "ttl", "data"}`, failures a non-zero code under HTTP 200. OAuth: the code and the
/// refresh at `/x/account-oauth2/v1/token` and `…/refresh_token`, the answer under `data`, the refresh
/// token rotated.
enum BilibiliRoutes: SandboxPlatform {
    static let oneRequest = 100 * 1_048_576
    static let maxCover = 5 * 1_048_576
    static let maxTitle = 80
    /// The categories (分区) this sandbox offers, as `archive/type/list` returns them.
    static let categories: [(Int, String)] = [(21, "日常"), (17, "单机游戏"), (138, "搞笑"), (171, "电子竞技"), (201, "科学科普"), (231, "计算机技术")]

    static func reply(_ data: Any? = nil, code: Int = 0, _ message: String = "0") -> Response {
        var body: [String: Any] = ["code": code, "message": message, "ttl": 1]
        if let data { body["data"] = data }
        return SandboxHTTP.json(.ok, body)
    }

    /// `body` for the account the query's `access_token` and `client_id` name, or Bilibili's refusal.
    static func asCaller(_ req: Request, _ state: SandboxState, _ body: (String) async throws -> Response) async throws -> Response {
        guard let token = SandboxHTTP.query(req, "access_token"), let account = await state.account(forBearer: "Bearer " + token),
            account.hasPrefix("bilibili:")
        else {
            return reply(code: -101, "账号未登录")
        }
        guard let client = SandboxHTTP.query(req, "client_id"), client == (await state.clientID(ofAccount: account)) else {
            return reply(code: -400, "请求错误: client_id does not match the token's app")
        }
        return try await body(account)
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        addArchiveView(to: router, state: state)
        addArchiveStat(to: router, state: state)
        addOAuth(to: router, state: state)
        router.post("/arcopen/fn/archive/video/init") { req, _ -> Response in
            await state.count("bilibili.init")
            // `redirectStarts`: answered before anything else is done for the request, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
            return try await asCaller(req, state) { account in
                switch await state.takeInitFault() {
                case .rateLimited?: return reply(code: -509, "请求过于频繁，请稍后再试")
                case .status(let code)? where code >= 500: return reply(code: -500, "服务器错误 (injected \(code))")
                case .status(let code)?: return reply(code: -400, "请求错误 (injected \(code))")
                case nil: break
                }
                var req = req
                let body = Data(buffer: try await req.collectBody(upTo: 64 * 1024))
                guard let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], let name = json["name"] as? String, !name.isEmpty,
                    let utype = json["utype"] as? String, ["0", "1"].contains(utype)
                else {
                    return reply(code: -400, "请求错误: name and utype (\"0\" parts, \"1\" one request) are required")
                }
                let u = try await state.startBilibiliUpload(account: account, single: utype == "1")
                return reply(["upload_token": u.token])
            }
        }
        router.post("/arcopen/fn/archive/video/upload") { req, _ -> Response in
            await state.count("bilibili.upload")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            return try await asCaller(req, state) { account in
                let token = SandboxHTTP.query(req, "upload_token") ?? ""
                guard let u = await state.bilibiliUpload(token), u.account == account, !u.used else { return reply(code: -404, "upload_token is unknown") }
                guard u.single else { return reply(code: -400, "请求错误: this upload_token was made for parts (utype 0)") }
                var req = req
                let type = SandboxHTTP.header(req, "Content-Type") ?? ""
                let body = Data(buffer: try await req.collectBody(upTo: oneRequest + 1 << 20))
                guard let file = Multipart.formFields(body, contentType: type)?["file"], !file.isEmpty else {
                    return reply(code: -400, "请求错误: the file goes in the multipart field `file`")
                }
                guard file.count <= oneRequest else { return reply(code: -400, "请求错误: over 100 MB goes in parts (utype 0)") }
                try await state.storeBilibiliWhole(token, bytes: file)
                return reply()
            }
        }
        router.post("/video/v2/part/upload") { req, _ -> Response in
            await state.count("bilibili.part")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            let token = SandboxHTTP.query(req, "upload_token") ?? ""
            return try await state.servingPut {
                try await state.sessionLocks.withLock(token) {
                    guard let u = await state.bilibiliUpload(token), !u.used else { return reply(code: -404, "upload_token is unknown") }
                    guard !u.single else { return reply(code: -400, "请求错误: this upload_token was made for one request (utype 1)") }
                    guard let number = Int(SandboxHTTP.query(req, "part_number") ?? ""), number >= 1 else {
                        return reply(code: -400, "请求错误: part_number counts from 1")
                    }
                    let delay = await state.faults.youtubePutDelayMs
                    if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
                    var req = req
                    let bytes = Data(buffer: try await req.collectBody(upTo: oneRequest))
                    // A transfer cut mid-part (`failChunks`): the body read and dropped, nothing kept.
                    if let status = await state.takeChunkFault() {
                        return SandboxHTTP.json(.init(code: status), ["code": -500, "message": "服务器错误 (injected \(status)): the part was not kept"])
                    }
                    guard !bytes.isEmpty else { return reply(code: -400, "请求错误: an empty part") }
                    try await state.storeBilibiliPart(token, number: number, bytes: bytes)
                    return reply()
                }
            }
        }
        router.post("/arcopen/fn/archive/video/complete") { req, _ -> Response in
            await state.count("bilibili.complete")
            return try await asCaller(req, state) { account in
                let token = SandboxHTTP.query(req, "upload_token") ?? ""
                return try await state.sessionLocks.withLock(token) {
                    guard let u = await state.bilibiliUpload(token), u.account == account, !u.used else { return reply(code: -404, "upload_token is unknown") }
                    if let why = try await state.completeBilibiliUpload(token) { return reply(code: -400, "请求错误: " + why) }
                    return reply()
                }
            }
        }
        router.post("/arcopen/fn/archive/cover/upload") { req, _ -> Response in
            await state.count("bilibili.cover")
            return try await asCaller(req, state) { _ in
                var req = req
                let type = SandboxHTTP.header(req, "Content-Type") ?? ""
                let body = Data(buffer: try await req.collectBody(upTo: maxCover + 1 << 20))
                guard let file = Multipart.formFields(body, contentType: type)?["file"] else {
                    return reply(code: -400, "请求错误: the image goes in the multipart field `file`")
                }
                let jpeg = file.starts(with: [0xFF, 0xD8, 0xFF]), png = file.starts(with: [0x89, 0x50, 0x4E, 0x47])
                guard jpeg || png, file.count <= maxCover else { return reply(code: -400, "请求错误: a cover is a JPEG or PNG of at most 5 MB") }
                let url = "\(baseURL())/bilibili/cover/\(SandboxState.randomID(24)).\(jpeg ? "jpg" : "png")"
                await state.keepBilibiliCover(url)
                return reply(["url": url])
            }
        }
        router.get("/arcopen/fn/archive/type/list") { req, _ -> Response in
            try await asCaller(req, state) { _ in
                reply(categories.map { ["id": $0.0, "name": $0.1, "description": "", "children": []] as [String: Any] })
            }
        }
        router.post("/arcopen/fn/archive/add-by-utoken") { req, _ -> Response in
            await state.count("bilibili.submit")
            return try await asCaller(req, state) { account in
                let token = SandboxHTTP.query(req, "upload_token") ?? ""
                var req = req
                let body = Data(buffer: try await req.collectBody(upTo: 1 << 20))
                guard let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { return reply(code: -400, "请求错误: a JSON body") }
                let title = json["title"] as? String ?? ""
                guard !title.isEmpty, title.count <= maxTitle else { return reply(code: -400, "请求错误: title is required, at most \(maxTitle) characters") }
                guard let cover = json["cover"] as? String, await state.isBilibiliCover(cover) else {
                    return reply(code: -400, "请求错误: cover must be a URL cover/upload returned")
                }
                guard let tid = (json["tid"] as? NSNumber)?.intValue, categories.contains(where: { $0.0 == tid }) else {
                    return reply(code: -400, "请求错误: tid must be one of the categories archive/type/list returns")
                }
                let tags = (json["tag"] as? String ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
                guard !tags.isEmpty else { return reply(code: -400, "请求错误: tag is required") }
                let copyright = (json["copyright"] as? NSNumber)?.intValue ?? 0
                guard [1, 2].contains(copyright) else { return reply(code: -400, "请求错误: copyright is 1 (original) or 2 (repost)") }
                let source = json["source"] as? String
                if copyright == 2, (source ?? "").isEmpty { return reply(code: -400, "请求错误: a repost (copyright 2) needs its source") }
                switch try await state.submitBilibili(
                    account: account, token: token, title: title, tid: tid, tags: tags, desc: json["desc"] as? String ?? "", copyright: copyright,
                    source: source, cover: cover)
                {
                case .failure(.invalid(let code, let why)): return reply(code: code, "请求错误: " + why)
                case .success(let a):
                    // The uncertain window: the archive exists, its answer has not left yet.
                    await state.holdFinalReply()
                    return reply(["resource_id": a.id])
                }
            }
        }
        router.get("/arcopen/fn/archive/viewlist") { req, _ -> Response in
            await state.count("bilibili.list")
            return try await asCaller(req, state) { account in
                if await state.takeReadLimit() != nil { return reply(code: -509, "请求过于频繁，请稍后再试") }
                guard let pn = Int(SandboxHTTP.query(req, "pn") ?? ""), pn >= 1, let ps = Int(SandboxHTTP.query(req, "ps") ?? ""), (1...50).contains(ps) else {
                    return reply(code: -400, "请求错误: pn (from 1) and ps (1–50) are required")
                }
                // A test's `processingMs`: an archive listed only that long after its submit (a list that lags).
                let lag = Double(await state.faults.processingMs) / 1000
                let all = await state.bilibiliArchives(of: account).filter { Date().timeIntervalSince($0.created) >= lag }
                let page = Array(all.dropFirst((pn - 1) * ps).prefix(ps))
                let list: [[String: Any]] = page.map {
                    ["resource_id": $0.id, "title": $0.title, "cover": $0.cover, "tid": $0.tid, "ctime": Int64($0.created.timeIntervalSince1970), "state": -30]
                }
                return reply(["list": list, "page": ["pn": pn, "ps": ps, "total": all.count]])
            }
        }
        router.get("/arcopen/fn/user/account/info") { req, _ -> Response in
            try await asCaller(req, state) { account in
                let name = String(account.dropFirst("bilibili:".count))
                return reply(["name": name, "openid": await state.userID(account, length: 32, alphabet: "abcdef0123456789"), "face": ""])
            }
        }
    }

    static func addOAuth(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/x/account-oauth2/v1/token") { req, _ -> Response in
            await state.count("bilibili.token")
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            guard form["grant_type"] == "authorization_code" else { return reply(code: -400, "请求错误: grant_type=authorization_code") }
            switch await state.redeem(
                code: form["code"] ?? "", clientID: form["client_id"] ?? "", clientSecret: form["client_secret"] ?? "", redirect: "", verifier: "",
                unbound: true)
            {
            case .ok(let access, let refresh, let expires, let scopes, _):
                return reply(["access_token": access, "expires_in": expires, "refresh_token": refresh, "scopes": scopes])
            case .invalidClient: return reply(code: -403, "访问权限不足: client_id or client_secret")
            case .invalidGrant(let why): return reply(code: -400, "请求错误: " + why)
            }
        }
        router.post("/x/account-oauth2/v1/refresh_token") { req, _ -> Response in
            await state.count("bilibili.refresh")
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            guard form["grant_type"] == "refresh_token", let rt = form["refresh_token"] else { return reply(code: -400, "请求错误: grant_type=refresh_token") }
            await state.tokenDelay()
            switch await state.rotate(clientID: form["client_id"] ?? "", clientSecret: form["client_secret"] ?? "", refreshToken: rt) {
            case .ok(let access, let expires, let next, _): return reply(["access_token": access, "expires_in": expires, "refresh_token": next])
            case .invalidClient: return reply(code: -403, "访问权限不足: client_id or client_secret")
            case .invalidGrant: return reply(code: -101, "账号未登录: the refresh token is invalid or expired")
            }
        }
    }
}

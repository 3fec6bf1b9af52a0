import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// LinkedIn (PLATFORMS.md § LinkedIn): `POST /rest/videos?action=initializeUpload` → PUT each part to its
/// signed URL (answered with an ETag) → `action=finalizeUpload` with the ETags in order → `GET
/// /rest/videos/{urn}` until AVAILABLE → `POST /rest/posts` (URN in `x-restli-id`), `GET /rest/posts?q=author`.
/// Every `/rest` call needs a current `LinkedIn-Version`; errors are `{status, serviceErrorCode, code,
/// message}`; a post's commentary is little-text markup. `/v2/userinfo` names the token's member, and
/// `/oauth/v2/accessToken` refreshes without rotating.
enum LinkedInRoutes: SandboxPlatform {
    static let maxBytes: Int64 = 500 * 1_048_576
    static let reserved: Set<Character> = ["|", "{", "}", "@", "[", "]", "(", ")", "<", ">", "#", "*", "_", "~"]

    static func error(_ status: Int, _ message: String, code: String? = nil, service: Int? = nil) -> Response {
        var body: [String: Any] = ["status": status, "message": message]
        if let code { body["code"] = code }
        if let service { body["serviceErrorCode"] = service }
        return SandboxHTTP.json(.init(code: status), body)
    }

    static let unauthorized = error(401, "Invalid access token", code: "INVALID_ACCESS_TOKEN", service: 65600)

    static func account(_ req: Request, _ state: SandboxState) async -> String? {
        guard let a = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")), a.hasPrefix("linkedin:") else { return nil }
        return a
    }

    /// `LinkedIn-Version: YYYYMM` (or `YYYYMM.RR`), one of the last twelve months' releases.
    static func versionProblem(_ req: Request, now: Date = Date()) -> Response? {
        guard let v = SandboxHTTP.header(req, "LinkedIn-Version") else {
            return error(400, "A version must be present. Please specify a version by adding the LinkedIn-Version header.", code: "VERSION_MISSING")
        }
        let digits = v.split(separator: ".").first.map(String.init) ?? ""
        guard digits.count == 6, let n = Int(digits) else { return error(400, "Invalid version format \(v); expected YYYYMM", code: "INVALID_VERSION") }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month], from: now)
        let current = (c.year ?? 0) * 12 + (c.month ?? 1) - 1
        let asked = (n / 100) * 12 + (n % 100) - 1
        guard (1...12).contains(n % 100), asked <= current, current - asked < 12 else {
            return error(426, "Requested version \(v) is not active", code: "NONEXISTENT_VERSION")
        }
        return nil
    }

    /// Where a post's commentary breaks LinkedIn's little text format: a reserved character neither
    /// escaped nor part of a `{hashtag|\#|…}` or `@[…](urn:…)` template.
    static func littleTextProblem(_ text: String) -> String? {
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\\" { i += 2; continue }
            if c == "{", String(chars[i...].prefix(12)) == "{hashtag|\\#|", let end = chars[i...].firstIndex(of: "}") { i = end + 1; continue }
            if c == "@", i + 1 < chars.count, chars[i + 1] == "[", let close = chars[i...].firstIndex(of: ")") { i = close + 1; continue }
            if reserved.contains(c) { return "the commentary has an unescaped '\(c)' at character \(i + 1); escape little-text reserved characters with a backslash" }
            i += 1
        }
        return nil
    }

    /// The member URN of the token's account, and whether `owner` is one it may post as.
    static func mayPostAs(_ owner: String, account: String, state: SandboxState) async -> Bool {
        if owner.hasPrefix("urn:li:organization:") { return true }
        return owner == "urn:li:person:" + (await state.userID(account, length: 10, alphabet: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    }

    static func json(_ req: inout Request) async throws -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(buffer: try await req.collectBody(upTo: 1 << 20)))) as? [String: Any]
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        addPostRead(to: router, state: state)
        addComments(to: router, state: state)
        addPostStatistics(to: router, state: state)
        router.post("/oauth/v2/accessToken") { req, _ -> Response in
            await state.count("linkedin.token")
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            if let r = await ConsentRoutes.codeGrant(
                form, clientID: form["client_id"] ?? "", secret: form["client_secret"] ?? "", state: state,
                scopeSeparator: ",", extra: ["refresh_token_expires_in": 31_536_000])
            {
                return r
            }
            guard form["grant_type"] == "refresh_token", let rt = form["refresh_token"] else {
                return SandboxHTTP.json(.badRequest, ["error": "invalid_request", "error_description": "A required parameter \"refresh_token\" is missing"])
            }
            await state.tokenDelay()
            switch await state.refresh(clientID: form["client_id"] ?? "", clientSecret: form["client_secret"] ?? "", refreshToken: rt) {
            case .ok(let token, let expires):
                return SandboxHTTP.json(
                    .ok,
                    [
                        "access_token": token, "expires_in": expires, "refresh_token": rt,
                        "refresh_token_expires_in": 31_536_000, "scope": "openid,profile,w_member_social"
                    ])
            case .invalidClient:
                return SandboxHTTP.json(.unauthorized, ["error": "invalid_client", "error_description": "Client authentication failed"])
            case .invalidGrant:
                return SandboxHTTP.json(
                    .badRequest, ["error": "invalid_request", "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked"])
            }
        }
        router.get("/v2/userinfo") { req, _ -> Response in
            guard let account = await account(req, state) else { return unauthorized }
            let sub = await state.userID(account, length: 10, alphabet: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            let name = String(account.dropFirst("linkedin:".count))
            return SandboxHTTP.json(.ok, ["sub": sub, "name": name, "given_name": name, "family_name": "", "email_verified": true, "locale": ["country": "US", "language": "en"]])
        }
        router.post("/rest/videos") { req, _ -> Response in
            guard let account = await account(req, state) else { return unauthorized }
            if let v = versionProblem(req) { return v }
            var req = req
            let body = try await json(&req)
            switch SandboxHTTP.query(req, "action") {
            case "initializeUpload": return try await initialize(body, account: account, state: state, baseURL: baseURL())
            case "finalizeUpload": return try await finalize(body, account: account, state: state)
            default: return error(400, "action must be initializeUpload or finalizeUpload", code: "ILLEGAL_ARGUMENT")
            }
        }
        router.put("/linkedin/upload/:video/:part") { req, ctx -> Response in
            await state.count("linkedin.put")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the server would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            let urn = "urn:li:video:" + (ctx.parameters.get("video") ?? "")
            let index = Int(ctx.parameters.get("part") ?? "") ?? -1
            return try await state.servingPut {
                try await state.sessionLocks.withLock(urn) { try await putPart(req, urn: urn, index: index, state: state) }
            }
        }
        router.get("/rest/videos/:urn") { req, ctx -> Response in
            await state.count("linkedin.video")
            guard let account = await account(req, state) else { return unauthorized }
            if let v = versionProblem(req) { return v }
            let urn = (ctx.parameters.get("urn") ?? "").removingPercentEncoding ?? ""
            guard let v = await state.linkedinVideo(urn), v.account == account else { return error(404, "Not Found: \(urn)", code: "NOT_FOUND") }
            var body: [String: Any] = ["id": v.urn, "owner": v.owner, "status": v.status]
            if let f = v.failure { body["processingFailureReason"] = f }
            return SandboxHTTP.json(.ok, body)
        }
        router.post("/rest/posts") { req, _ -> Response in
            await state.count("linkedin.post")
            guard let account = await account(req, state) else { return unauthorized }
            if let v = versionProblem(req) { return v }
            var req = req
            guard let body = try await json(&req) else { return error(400, "the body must be a JSON object") }
            return await createPost(body, account: account, state: state)
        }
        router.get("/rest/posts") { req, _ -> Response in
            await state.count("linkedin.posts")
            guard await account(req, state) != nil else { return unauthorized }
            if let v = versionProblem(req) { return v }
            guard SandboxHTTP.query(req, "q") == "author", let author = SandboxHTTP.query(req, "author") else {
                return error(400, "finder q=author with an author URN is required", code: "ILLEGAL_ARGUMENT")
            }
            let count = min(Int(SandboxHTTP.query(req, "count") ?? "10") ?? 10, 100)
            let posts = await state.linkedinPosts(by: author)
            let elements: [[String: Any]] = posts.prefix(count).map { p in
                [
                    "id": p.urn, "author": p.author, "commentary": p.commentary, "visibility": p.visibility, "lifecycleState": "PUBLISHED",
                    "content": ["media": ["id": p.video, "title": p.title]], "createdAt": Int(p.created.timeIntervalSince1970 * 1000)
                ]
            }
            return SandboxHTTP.json(.ok, ["elements": elements, "paging": ["start": 0, "count": count, "total": posts.count]])
        }
    }

    static func initialize(_ body: [String: Any]?, account: String, state: SandboxState, baseURL: String) async throws -> Response {
        await state.count("linkedin.init")
        // `redirectStarts`: the first thing done once the request is known to be a start (its `action` query), as a proxy that routes by it would.
        if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
        switch await state.takeInitFault() {
        case .rateLimited?:
            return error(429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.", code: "TOO_MANY_REQUESTS", service: 101)
        case .status(let code)?:
            return error(code, "Injected failure \(code).")
        case nil: break
        }
        guard let r = body?["initializeUploadRequest"] as? [String: Any], let owner = r["owner"] as? String,
            let size = (r["fileSizeBytes"] as? NSNumber)?.int64Value
        else {
            return error(422, "initializeUploadRequest needs owner and fileSizeBytes", code: "UNPROCESSABLE_ENTITY")
        }
        guard owner.hasPrefix("urn:li:person:") || owner.hasPrefix("urn:li:organization:") else {
            return error(422, "owner \(owner) is not a person or organization URN", code: "UNPROCESSABLE_ENTITY")
        }
        guard await mayPostAs(owner, account: account, state: state) else {
            return error(403, "Not enough permissions to access: owner \(owner)", code: "ACCESS_DENIED", service: 100)
        }
        guard size > 0, size <= maxBytes else { return error(422, "fileSizeBytes must be 1–\(maxBytes)", code: "UNPROCESSABLE_ENTITY") }
        let v = try await state.startLinkedInUpload(account: account, owner: owner, size: size)
        let id = v.urn.split(separator: ":").last!
        let instructions: [[String: Any]] = v.parts.enumerated().map { i, p in
            ["uploadUrl": "\(baseURL)/linkedin/upload/\(id)/\(i)?ca=vector_feedshare&sig=\(SandboxState.randomID(16))", "firstByte": p.first, "lastByte": p.last]
        }
        return SandboxHTTP.json(
            .ok,
            [
                "value": [
                    "uploadUrlsExpireAt": Int(v.expiresAt.timeIntervalSince1970 * 1000), "video": v.urn,
                    "uploadInstructions": instructions, "uploadToken": v.uploadToken
                ]
            ])
    }

    static func putPart(_ req: Request, urn: String, index: Int, state: SandboxState) async throws -> Response {
        guard let v = await state.linkedinVideo(urn), v.parts.indices.contains(index) else { return error(404, "Not Found", code: "NOT_FOUND") }
        // Signed URLs stop working when they expire: the upload cannot be finished.
        if v.expiresAt < Date() || v.finalized { return error(403, "The upload URL has expired", code: "ACCESS_DENIED") }
        let part = v.parts[index]
        var req = req
        let body = try await req.collectBody(upTo: Int(SandboxState.linkedinPartSize) + 1)
        let delay = await state.faults.youtubePutDelayMs
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        if let code = await state.takeChunkFault() { return error(code, "Injected failure \(code): the part was not kept.") }
        guard Int64(body.readableBytes) == part.last - part.first + 1 else {
            return error(400, "part \(index + 1) must be bytes \(part.first)–\(part.last) (\(part.last - part.first + 1) bytes); got \(body.readableBytes)")
        }
        let etag = try await state.storeLinkedInPart(urn, index: index, bytes: Data(buffer: body))
        return SandboxHTTP.empty(.created, headers: [.eTag: etag])
    }

    static func finalize(_ body: [String: Any]?, account: String, state: SandboxState) async throws -> Response {
        await state.count("linkedin.finalize")
        guard let r = body?["finalizeUploadRequest"] as? [String: Any], let urn = r["video"] as? String else {
            return error(422, "finalizeUploadRequest needs video, uploadToken and uploadedPartIds", code: "UNPROCESSABLE_ENTITY")
        }
        guard let v = await state.linkedinVideo(urn), v.account == account else { return error(404, "Not Found: \(urn)", code: "NOT_FOUND") }
        let token = r["uploadToken"] as? String ?? "", etags = r["uploadedPartIds"] as? [String] ?? []
        let problem = try await state.sessionLocks.withLock(urn) { try await state.finalizeLinkedIn(urn, uploadToken: token, etags: etags) }
        if let problem { return error(400, problem, code: "BAD_REQUEST") }
        // A Rest.li action with no return value: an empty JSON object (LinkedIn's own client parses it).
        return SandboxHTTP.json(.ok, [String: Any]())
    }

    static func createPost(_ body: [String: Any], account: String, state: SandboxState) async -> Response {
        guard let author = body["author"] as? String, await mayPostAs(author, account: account, state: state) else {
            return error(403, "Not enough permissions to post as \(body["author"] as? String ?? "nobody")", code: "ACCESS_DENIED", service: 100)
        }
        guard body["lifecycleState"] as? String == "PUBLISHED" else { return error(422, "lifecycleState must be PUBLISHED", code: "UNPROCESSABLE_ENTITY") }
        let visibility = body["visibility"] as? String ?? ""
        guard ["PUBLIC", "CONNECTIONS", "LOGGED_IN"].contains(visibility) else {
            return error(422, "visibility '\(visibility)' is not PUBLIC, CONNECTIONS or LOGGED_IN", code: "UNPROCESSABLE_ENTITY")
        }
        if visibility == "CONNECTIONS", author.hasPrefix("urn:li:organization:") { return error(422, "an organization posts PUBLIC or LOGGED_IN", code: "UNPROCESSABLE_ENTITY") }
        guard (body["distribution"] as? [String: Any])?["feedDistribution"] is String else {
            return error(422, "distribution.feedDistribution is required", code: "UNPROCESSABLE_ENTITY")
        }
        let commentary = body["commentary"] as? String ?? ""
        if commentary.count > 3000 { return error(422, "commentary is \(commentary.count) characters; 3000 allowed", code: "UNPROCESSABLE_ENTITY") }
        if let problem = littleTextProblem(commentary) { return error(422, problem, code: "UNPROCESSABLE_ENTITY") }
        let media = (body["content"] as? [String: Any])?["media"] as? [String: Any]
        guard let urn = media?["id"] as? String, let video = await state.linkedinVideo(urn), video.owner == author else {
            return error(422, "content.media.id must be a video uploaded by the author", code: "UNPROCESSABLE_ENTITY")
        }
        guard video.status == "AVAILABLE" else { return error(422, "the video is \(video.status), not AVAILABLE", code: "UNPROCESSABLE_ENTITY") }
        if let earlier = await state.linkedinPosts(by: author).first(where: { $0.commentary == commentary && $0.video == urn }) {
            return error(422, "Content is a duplicate of \(earlier.urn)", code: "DUPLICATE_POST")
        }
        let post = await state.createLinkedInPost(
            account: account, author: author, commentary: commentary, visibility: visibility,
            video: video, title: media?["title"] as? String ?? "")
        // The uncertain window: the post exists, its reply has not left yet.
        await state.holdFinalReply()
        return SandboxHTTP.empty(.created, headers: [HTTPField.Name("x-restli-id")!: post.urn, HTTPField.Name("x-linkedin-id")!: post.urn])
    }
}

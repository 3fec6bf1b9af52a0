import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore
import OmniPostWire

/// Reddit's API as a video post uses it (PLATFORMS.md § Reddit; what PRAW sends): the token endpoint
/// (client in HTTP Basic; a dead refresh token answered as HTTP 200 `{"error": "invalid_grant"}`),
/// `/api/v1/me`, the media lease `/api/media/asset.json` (an S3-style POST policy for a key on the
/// media host, which is `//host/path` — served over the sandbox's HTTPS), the media host's form POST
/// (201 with `PostResponse` XML; an oversized file answered as S3 does), `/api/submit` (errors inside an
/// HTTP 200 as `json.errors`; the result on the asset's WebSocket), the account's submitted listing and
/// `/comments/{id}` (the post, then its comments oldest first), `/api/comment`. Every answer carries `X-Ratelimit-Used/Remaining/Reset`; a request without a
/// descriptive User-Agent is answered 429, as Reddit does.
enum RedditRoutes: SandboxPlatform {
    static let windowSeconds = 600.0
    static let windowLimit = 1000
    static let maxBytes = 1 << 30

    static func limits(used: Int, reset: Int) -> HTTPFields {
        [
            HTTPField.Name("X-Ratelimit-Used")!: String(used), HTTPField.Name("X-Ratelimit-Remaining")!: String(format: "%.1f", Double(max(0, windowLimit - used))),
            HTTPField.Name("X-Ratelimit-Reset")!: String(reset)
        ]
    }

    static func tooMany(reset: Int) -> Response {
        var h = limits(used: windowLimit, reset: reset)
        h[.retryAfter] = String(reset)
        return SandboxHTTP.json(.tooManyRequests, ["message": "Too Many Requests", "error": 429], headers: h)
    }

    /// Reddit throttles clients that do not say who they are: a User-Agent that is missing or a library's default.
    static func goodAgent(_ req: Request) -> Bool {
        let ua = (SandboxHTTP.header(req, "User-Agent") ?? "").lowercased()
        return !ua.isEmpty && !["python-requests", "curl/", "go-http-client", "okhttp", "java/"].contains { ua.hasPrefix($0) }
    }

    /// The account behind the bearer token, counted in its window; or the answer that refuses it.
    static func authorize(_ req: Request, _ state: SandboxState, route: String) async -> Result<(String, HTTPFields), ResponseBox> {
        await state.count("reddit." + route)
        guard goodAgent(req) else { return .failure(ResponseBox(tooMany(reset: 600))) }
        // Reddit's token type is `bearer`, and its clients write it so.
        let header = SandboxHTTP.header(req, "Authorization").map { $0.lowercased().hasPrefix("bearer ") ? "Bearer " + $0.dropFirst(7) : $0 }
        guard let account = await state.account(forBearer: header), account.hasPrefix("reddit:") else {
            return .failure(
                ResponseBox(
                    SandboxHTTP.json(
                        .unauthorized, ["message": "Unauthorized", "error": 401],
                        headers: [.wwwAuthenticate: #"Bearer realm="reddit", error="invalid_token""#])))
        }
        if let after = await state.rateLimit("reddit|" + account, limit: windowLimit, window: windowSeconds) {
            return .failure(ResponseBox(tooMany(reset: after)))
        }
        let used = await state.rateWindowCount("reddit|" + account, window: windowSeconds)
        return .success((account, limits(used: used, reset: Int(windowSeconds))))
    }

    struct ResponseBox: Error { let response: Response; init(_ r: Response) { response = r } }

    static func listing(_ children: [[String: Any]]) -> [String: Any] {
        ["kind": "Listing", "data": ["after": NSNull(), "before": NSNull(), "dist": children.count, "children": children]]
    }

    static func thing(_ p: SandboxState.RedditPost, base: String) -> [String: Any] {
        [
            "kind": "t3",
            "data": [
                "id": p.id, "name": "t3_" + p.id, "title": p.title, "subreddit": p.subreddit, "subreddit_name_prefixed": "r/" + p.subreddit,
                "author": String(p.account.dropFirst("reddit:".count)), "url": base + "/v.redd.it/" + p.assetID, "is_video": true,
                "permalink": SandboxState.redditPermalink(p), "created_utc": p.created.timeIntervalSince1970, "over_18": p.nsfw, "spoiler": p.spoiler,
                "link_flair_template_id": p.flairID ?? NSNull(), "selftext": "", "domain": "v.redd.it"
            ] as [String: Any]
        ]
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        addByID(to: router, state: state, baseURL: baseURL)
        addComment(to: router, state: state)
        router.post("/api/v1/access_token") { req, _ -> Response in
            await state.count("reddit.token")
            guard goodAgent(req) else { return tooMany(reset: 600) }
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            let (clientID, secret) = SandboxHTTP.basicClient(req) ?? ("", "")
            if let r = await ConsentRoutes.codeGrant(form, clientID: clientID, secret: secret, state: state, errorsInside200: true) { return r }
            guard form["grant_type"] == "refresh_token", let rt = form["refresh_token"] else {
                return SandboxHTTP.json(.ok, ["error": "unsupported_grant_type"])
            }
            await state.tokenDelay()
            switch await state.refresh(clientID: clientID, clientSecret: secret, refreshToken: rt) {
            case .ok(let token, let expires):
                return SandboxHTTP.json(.ok, ["access_token": token, "token_type": "bearer", "expires_in": expires, "scope": "identity submit read history"])
            case .invalidClient:
                return SandboxHTTP.json(.unauthorized, ["message": "Unauthorized", "error": 401])
            case .invalidGrant:
                // Reddit's answer to a revoked or unknown refresh token: an error inside an HTTP 200.
                return SandboxHTTP.json(.ok, ["error": "invalid_grant"])
            }
        }
        router.get("/api/v1/me") { req, _ -> Response in
            switch await authorize(req, state, route: "me") {
            case .failure(let f): return f.response
            case .success(let (account, h)):
                let name = String(account.dropFirst("reddit:".count))
                return SandboxHTTP.json(.ok, ["name": name, "id": await state.userID(account, length: 8, alphabet: "abcdefghijklmnopqrstuvwxyz0123456789")], headers: h)
            }
        }
        router.post("/api/media/asset.json") { req, _ -> Response in
            switch await authorize(req, state, route: "lease") {
            case .failure(let f): return f.response
            case .success(let (account, h)):
                // `redirectStarts`: the first thing done once the lease is counted (`authorize` counts it).
                if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
                if let f = await state.takeInitFault() {
                    switch f {
                    case .rateLimited(let after): return tooMany(reset: after)
                    case .status(let code): return SandboxHTTP.json(.init(code: code), ["message": "Internal Server Error", "error": code], headers: h)
                    }
                }
                var req = req
                let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
                guard let filepath = form["filepath"], !filepath.isEmpty, let mimetype = form["mimetype"],
                    mimetype.hasPrefix("video/") || mimetype.hasPrefix("image/")
                else {
                    return SandboxHTTP.json(
                        .badRequest, ["message": "Bad Request", "error": 400, "explanation": "filepath and an image or video mimetype are required"], headers: h)
                }
                guard let host = await state.secureHost else {
                    return SandboxHTTP.json(
                        .serviceUnavailable, ["message": "the sandbox was started without its HTTPS listener, which Reddit's media host needs", "error": 503], headers: h)
                }
                let a = await state.leaseRedditAsset(account: account, filepath: filepath, mimetype: mimetype)
                let fields: [(String, String)] = [
                    ("acl", "private"), ("key", a.key), ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("success_action_status", "201"),
                    ("Content-Type", a.mimetype), ("x-amz-storage-class", "STANDARD"), ("policy", a.policy), ("X-Amz-Signature", a.signature)
                ]
                let ws = baseURL().replacingOccurrences(of: "http://", with: "ws://") + RedditRoutes.webSocketPrefix + a.id
                return SandboxHTTP.json(
                    .ok,
                    [
                        "args": ["action": "//\(host)/reddit-media", "fields": fields.map { ["name": $0.0, "value": $0.1] }],
                        "asset": ["asset_id": a.id, "processing_state": "incomplete", "payload": ["filepath": filepath], "websocket_url": ws]
                    ], headers: h)
            }
        }
        // The media host: an S3 form POST of the lease's fields, then the file.
        router.post("/reddit-media") { req, _ -> Response in
            await state.count("reddit.media")
            // `redirectChunks`: answered before the body is read, as a proxy in front of the host would.
            if let moved = await ChunkRedirect.next(state) { return moved }
            var req = req
            let body = try await req.collectBody(upTo: maxBytes + (1 << 20))
            if let code = await state.takeChunkFault() { return s3Error(code, "InternalError", "We encountered an internal error. Please try again.") }
            if let code = await state.takeRedditMediaFault() { return s3Error(code, "InternalError", "We encountered an internal error. Please try again.") }
            guard let form = Multipart.formFields(Data(buffer: body), contentType: SandboxHTTP.header(req, "Content-Type") ?? "") else {
                return s3Error(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
            }
            let fields = form.mapValues { String(decoding: $0, as: UTF8.self) }
            let file = form["file"]
            guard let key = fields["key"], let asset = await state.redditAsset(key: key) else {
                return s3Error(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$key\", ...]")
            }
            guard fields["policy"] == asset.policy, fields["X-Amz-Signature"] == asset.signature else {
                return s3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
            }
            guard asset.expires > Date() else { return s3Error(403, "AccessDenied", "Invalid according to Policy: Policy expired.") }
            guard let file else { return s3Error(400, "InvalidArgument", "POST requires exactly one file upload per request.") }
            if file.count > maxBytes {
                return S3Routes.xml(
                    "<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message><ProposedSize>\(file.count)</ProposedSize><MaxSizeAllowed>\(maxBytes)</MaxSizeAllowed></Error>",
                    status: .badRequest)
            }
            _ = try await state.storeRedditMedia(key: key, data: file)
            let md5 = Insecure.MD5.hash(data: file).map { String(format: "%02x", $0) }.joined()
            let host = await state.secureHost ?? "127.0.0.1"
            return S3Routes.xml(
                "<PostResponse><Location>https://\(host)/reddit-media/\(key.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? key)</Location><Bucket>reddit-uploaded-media</Bucket><Key>\(XMLTags.escape(key))</Key><ETag>\"\(md5)\"</ETag></PostResponse>",
                status: .created)
        }
        router.post("/api/submit") { req, _ -> Response in
            switch await authorize(req, state, route: "submit") {
            case .failure(let f): return f.response
            case .success(let (account, h)):
                var req = req
                let form = SandboxHTTP.form(try await req.collectBody(upTo: 1 << 20))
                func errors(_ list: [[String]]) -> Response { SandboxHTTP.json(.ok, ["json": ["errors": list]], headers: h) }
                if let minutes = await state.takeRedditSubmitLimit() {
                    return errors([["RATELIMIT", "Looks like you've been doing that a lot. Take a break for \(minutes) minutes before trying again.", "ratelimit"]])
                }
                let sr = (form["sr"] ?? "").lowercased()
                guard sr.range(of: "^[a-z0-9][a-z0-9_]{2,20}$", options: .regularExpression) != nil, !(await state.redditMissing.contains(sr)) else {
                    return errors([["SUBREDDIT_NOEXIST", "that community doesn't exist", "sr"]])
                }
                guard ["video", "videogif"].contains(form["kind"] ?? "") else { return errors([["INVALID_OPTION", "that option is not valid", "kind"]]) }
                let title = form["title"] ?? ""
                if title.trimmingCharacters(in: .whitespaces).isEmpty { return errors([["NO_TEXT", "we need something here", "title"]]) }
                if title.count > 300 { return errors([["TOO_LONG", "this is too long (max: 300)", "title"]]) }
                let secure = await state.secureHost ?? ""
                func asset(_ url: String?) async -> SandboxState.RedditAsset? {
                    let prefix = "https://\(secure)/reddit-media/"
                    guard let url, url.hasPrefix(prefix) else { return nil }
                    guard let a = await state.redditAsset(key: String(url.dropFirst(prefix.count)).removingPercentEncoding ?? ""), a.sha256 != nil, a.account == account else {
                        return nil
                    }
                    return a
                }
                guard let video = await asset(form["url"]), video.mimetype.hasPrefix("video/") else {
                    return errors([["BAD_URL", "you should check that url", "url"]])
                }
                guard let poster = await asset(form["video_poster_url"]), poster.mimetype.hasPrefix("image/") else {
                    return errors([["MISSING_VIDEO_URLS", "This post requires a video poster url", "video_poster_url"]])
                }
                _ = poster
                let base = baseURL()
                let post = await state.submitRedditPost(
                    account: account, subreddit: sr, title: title, video: video, nsfw: form["nsfw"] == "true",
                    spoiler: form["spoiler"] == "true", flairID: form["flair_id"], base: base)
                _ = post
                await state.holdFinalReply()
                let name = String(account.dropFirst("reddit:".count))
                return SandboxHTTP.json(
                    .ok,
                    [
                        "json": [
                            "errors": [],
                            "data": [
                                "user_submitted_page": base + "/user/\(name)/submitted/",
                                "websocket_url": base.replacingOccurrences(of: "http://", with: "ws://") + RedditRoutes.webSocketPrefix + video.id
                            ]
                        ]
                    ], headers: h)
            }
        }
        router.get("/user/:name/submitted") { req, ctx -> Response in
            switch await authorize(req, state, route: "submitted") {
            case .failure(let f): return f.response
            case .success(let (_, h)):
                let name = ctx.parameters.get("name") ?? ""
                let limit = min(100, Int(SandboxHTTP.query(req, "limit") ?? "") ?? 25)
                let posts = await state.redditPosts(of: "reddit:" + name).prefix(limit)
                return SandboxHTTP.json(.ok, listing(posts.map { thing($0, base: baseURL()) }), headers: h)
            }
        }
        router.get("/comments/:id") { req, ctx -> Response in
            switch await authorize(req, state, route: "comments") {
            case .failure(let f): return f.response
            case .success(let (_, h)):
                guard let p = await state.redditPost(ctx.parameters.get("id") ?? "") else {
                    return SandboxHTTP.json(.notFound, ["message": "Not Found", "error": 404], headers: h)
                }
                let limit = max(1, min(500, Int(SandboxHTTP.query(req, "limit") ?? "") ?? 200))
                let comments = (await state.comments(platform: "reddit", post: p.id) ?? []).prefix(limit)
                return SandboxHTTP.json(.ok, [listing([thing(p, base: baseURL())]), listing(comments.map { comment($0, on: p) })], headers: h)
            }
        }
    }

    static func s3Error(_ status: Int, _ code: String, _ message: String) -> Response {
        S3Routes.xml("<Error><Code>\(code)</Code><Message>\(XMLTags.escape(message))</Message></Error>", status: .init(code: status))
    }
}

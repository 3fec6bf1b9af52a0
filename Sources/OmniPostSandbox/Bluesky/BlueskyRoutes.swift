import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore
import OmniPostWire

/// A Bluesky PDS and video service under `/xrpc` (docs.bsky.app): app-password sessions
/// (`createSession`, `refreshSession` — a refresh JWT works once — and `ExpiredToken` once an access
/// JWT lapses), service auth (`getServiceAuth`, checked by the video service: audience, method,
/// expiry), `app.bsky.video.uploadVideo` (raw body; the same bytes again answer 409 `already_exists`
/// with the blob), `getJobStatus` (done after `processingMs`; `failProcessing` fails it),
/// `getUploadLimits` (25 videos a day unless set), `uploadBlob`, and posts: `createRecord` (record key
/// a TID when given, one that exists refused; text ≤ 300 graphemes and ≤ 3000 UTF-8 bytes; facets inside the text; a video
/// embed must name a blob this account uploaded), `getRecord`, `listRecords`, `resolveHandle`.
/// `RateLimit-*` headers on every PDS answer; `rateLimitInits` answers `createRecord` 429, `failInits`
/// with those statuses; `failChunks` cuts the video upload.
enum BlueskyRoutes: SandboxPlatform {
    static func fail(_ status: HTTPResponse.Status, _ error: String, _ message: String, headers: HTTPFields = [:]) -> Response {
        SandboxHTTP.json(status, ["error": error, "message": message], headers: headers)
    }

    static func limits(remaining: Int = 4999, reset: Date = Date().addingTimeInterval(300)) -> HTTPFields {
        [
            HTTPField.Name("RateLimit-Limit")!: "5000", HTTPField.Name("RateLimit-Remaining")!: String(remaining),
            HTTPField.Name("RateLimit-Reset")!: String(Int(reset.timeIntervalSince1970)), HTTPField.Name("RateLimit-Policy")!: "5000;w=300"
        ]
    }

    static func ok(_ object: Any) -> Response { SandboxHTTP.json(.ok, object, headers: limits()) }

    static func bearer(_ req: Request) -> String? {
        guard let h = SandboxHTTP.header(req, "Authorization"), h.hasPrefix("Bearer ") else { return nil }
        return String(h.dropFirst(7))
    }

    /// The DID an access JWT belongs to, or the refusal a PDS gives.
    static func user(_ req: Request, state: SandboxState) async -> (String?, Response?) {
        guard let t = bearer(req) else { return (nil, fail(.unauthorized, "AuthenticationRequired", "Authentication Required")) }
        switch await state.bskyCheck(t) {
        case .ok(let did): return (did, nil)
        case .expired: return (nil, fail(.badRequest, "ExpiredToken", "Token has expired"))
        case .invalid: return (nil, fail(.unauthorized, "InvalidToken", "Token could not be verified"))
        }
    }

    static func json(_ req: Request) async throws -> [String: Any]? {
        var req = req
        let body = try await req.collectBody(upTo: 1 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
    }

    /// The failure codes app.bsky.video.defs#jobStatus knows.
    static let failureCodes: Set<String> = ["validation_failure", "encoding_failure", "pds_upload_failure", "pds_upload_unsupported_blob_size", "generic_failure"]

    static func blobJSON(_ cid: String, _ b: SandboxState.BskyBlob) -> [String: Any] {
        ["$type": "blob", "ref": ["$link": cid], "mimeType": b.mimeType, "size": b.size]
    }

    static func sendable(_ v: Any) -> any Sendable {
        (try? JSONSerialization.data(withJSONObject: v)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        addGetPosts(to: router, state: state)
        router.post("/xrpc/com.atproto.server.createSession") { req, _ -> Response in
            await state.count("bluesky.createSession")
            let j = try await json(req)
            guard let id = j?["identifier"] as? String, let pw = j?["password"] as? String else {
                return fail(.badRequest, "InvalidRequest", "identifier and password are required")
            }
            guard let a = await state.bskyLogin(id, pw) else { return fail(.unauthorized, "AuthenticationRequired", "Invalid identifier or password") }
            let (x, r) = await state.bskyIssue(a)
            return ok(["did": a.did, "handle": a.handle, "accessJwt": x, "refreshJwt": r, "active": true])
        }
        router.post("/xrpc/com.atproto.server.refreshSession") { req, _ -> Response in
            await state.count("bluesky.refreshSession")
            guard let t = bearer(req), let (a, x, r) = await state.bskyRefreshSession(t) else {
                return fail(.badRequest, "ExpiredToken", "Token has been revoked")
            }
            return ok(["did": a.did, "handle": a.handle, "accessJwt": x, "refreshJwt": r, "active": true])
        }
        router.get("/xrpc/com.atproto.server.getServiceAuth") { req, _ -> Response in
            let (did, refusal) = await user(req, state: state)
            guard let did else { return refusal! }
            guard let aud = SandboxHTTP.query(req, "aud"), let lxm = SandboxHTTP.query(req, "lxm") else {
                return fail(.badRequest, "InvalidRequest", "aud and lxm are required")
            }
            let exp = SandboxHTTP.query(req, "exp").flatMap(Double.init).map { Date(timeIntervalSince1970: $0) } ?? Date().addingTimeInterval(60)
            if exp.timeIntervalSinceNow > 3600 { return fail(.badRequest, "BadExpiration", "expiration is more than an hour away") }
            return ok(["token": await state.bskyServiceToken(did: did, aud: aud, lxm: lxm, exp: exp)])
        }
        router.get("/xrpc/app.bsky.actor.getProfile") { req, _ -> Response in
            let (_, refusal) = await user(req, state: state)
            if let refusal { return refusal }
            guard let actor = SandboxHTTP.query(req, "actor") else { return fail(.badRequest, "InvalidRequest", "actor is required") }
            let did = actor.hasPrefix("did:") ? actor : await state.bskyResolve(actor)
            guard let did, let a = await state.bskyAccount(did: did) else { return fail(.badRequest, "InvalidRequest", "Profile not found") }
            return ok(["did": a.did, "handle": a.handle, "displayName": a.handle, "followersCount": 0, "followsCount": 0, "postsCount": 0])
        }
        router.get("/xrpc/com.atproto.identity.resolveHandle") { req, _ -> Response in
            guard let h = SandboxHTTP.query(req, "handle"), let did = await state.bskyResolve(h) else {
                return fail(.badRequest, "InvalidRequest", "Unable to resolve handle")
            }
            return ok(["did": did])
        }
        router.post("/xrpc/com.atproto.repo.uploadBlob") { req, _ -> Response in
            let (did, refusal) = await user(req, state: state)
            guard let did else { return refusal! }
            var req = req
            let data = Data(buffer: try await req.collectBody(upTo: 1 << 30))
            let (cid, b) = try await state.bskyStoreBlob(did: did, data: data, mimeType: SandboxHTTP.header(req, "Content-Type") ?? "application/octet-stream")
            return ok(["blob": blobJSON(cid, b)])
        }
        router.post("/xrpc/app.bsky.video.uploadVideo") { req, _ -> Response in
            await state.count("bluesky.uploadVideo")
            // `redirectStarts` (this request starts the upload and carries its file), then `redirectChunks`: answered before the body is read.
            if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
            if let moved = await ChunkRedirect.next(state) { return moved }
            guard let t = bearer(req), let svc = await state.bskyService(t) else { return fail(.unauthorized, "AuthMissing", "a service auth token is required") }
            let host = URL(string: baseURL()).map { ($0.host ?? "") + ($0.port.map { "%3A\($0)" } ?? "") } ?? ""
            guard svc.aud == "did:web:\(host)", svc.lxm == "com.atproto.repo.uploadBlob", svc.exp > Date() else {
                return fail(.unauthorized, "BadJwt", "the service token's audience, method or expiry is wrong (aud \(svc.aud), lxm \(svc.lxm))")
            }
            guard SandboxHTTP.query(req, "did") == svc.did, SandboxHTTP.query(req, "name") != nil else {
                return fail(.badRequest, "InvalidRequest", "did (the token's) and name are required")
            }
            var req = req
            let data = Data(buffer: try await req.collectBody(upTo: 1 << 30))
            // A transfer cut mid-body (`failChunks`): read and dropped, nothing kept.
            if let status = await state.takeChunkFault() { return fail(.init(code: status), "InternalServerError", "Injected failure \(status)") }
            guard !data.isEmpty else { return fail(.badRequest, "InvalidRequest", "the body is empty") }
            let cid = ATProto.blobCID(data)
            // The same bytes again are the video already processed — unless its job failed: then a new job.
            if let j = await state.bskyExistingJob(did: svc.did, cid: cid), j.failure == nil, let b = await state.bskyBlob(cid) {
                return SandboxHTTP.json(
                    .conflict,
                    [
                        "jobId": j.id, "did": j.did, "state": "JOB_STATE_COMPLETED", "error": "already_exists",
                        "message": "Video already processed", "blob": blobJSON(cid, b)
                    ])
            }
            if await state.bskyVideosUsed(svc.did) >= state.bskyDailyLimit() {
                return fail(.badRequest, "UploadLimitExceeded", "daily video limit reached")
            }
            _ = try await state.bskyStoreBlob(did: svc.did, data: data, mimeType: SandboxHTTP.header(req, "Content-Type") ?? "video/mp4")
            let job = await state.bskyCreateJob(did: svc.did, cid: cid)
            return SandboxHTTP.json(.ok, ["jobId": job.id, "did": job.did, "state": "JOB_STATE_CREATED"])
        }
        router.get("/xrpc/app.bsky.video.getJobStatus") { req, _ -> Response in
            await state.count("bluesky.getJobStatus")
            guard let id = SandboxHTTP.query(req, "jobId"), let j = await state.bskyJob(id) else { return fail(.notFound, "NotFound", "job not found") }
            let done = Date().timeIntervalSince(j.created) * 1000 >= Double(await state.faults.processingMs)
            var st: [String: Any] = ["jobId": j.id, "did": j.did, "state": done ? "JOB_STATE_COMPLETED" : "JOB_STATE_ENCODING", "progress": done ? 100 : 50]
            if done, let f = j.failure {
                // app.bsky.video.defs#jobStatus: a failed job's machine-readable `failureCode` (one of the
                // lexicon's known values when the injected reason is one, else generic_failure) and its words.
                st["state"] = "JOB_STATE_FAILED"
                st["failureCode"] = Self.failureCodes.contains(f) ? f : "generic_failure"
                st["error"] = f
                st["message"] = "Video processing failed"
            } else if done, let b = await state.bskyBlob(j.cid) {
                st["blob"] = blobJSON(j.cid, b)
            }
            return SandboxHTTP.json(.ok, ["jobStatus": st])
        }
        router.get("/xrpc/app.bsky.video.getUploadLimits") { req, _ -> Response in
            guard let t = bearer(req), let svc = await state.bskyService(t), svc.lxm == "app.bsky.video.getUploadLimits", svc.exp > Date() else {
                return fail(.unauthorized, "AuthMissing", "a service auth token for app.bsky.video.getUploadLimits is required")
            }
            let left = max(0, await state.bskyDailyLimit() - state.bskyVideosUsed(svc.did))
            return SandboxHTTP.json(.ok, ["canUpload": left > 0, "remainingDailyVideos": left, "remainingDailyBytes": left * 100_000_000] as [String: Any])
        }
        router.post("/xrpc/com.atproto.repo.createRecord") { req, _ -> Response in
            await state.count("bluesky.createRecord")
            let (did, refusal) = await user(req, state: state)
            guard let did else { return refusal! }
            switch await state.takeInitFault() {
            case .rateLimited(let after)?:
                return fail(.tooManyRequests, "RateLimitExceeded", "Rate Limit Exceeded", headers: limits(remaining: 0, reset: Date().addingTimeInterval(Double(after))))
            case .status(let code)?:
                return fail(.init(code: code), code >= 500 ? "InternalServerError" : "InvalidRequest", "Injected failure \(code)")
            case nil: break
            }
            guard let j = try await json(req), j["repo"] as? String == did, j["collection"] as? String == "app.bsky.feed.post",
                let record = j["record"] as? [String: Any], let text = record["text"] as? String, record["createdAt"] is String
            else {
                return fail(.badRequest, "InvalidRequest", "repo (the session's DID), collection app.bsky.feed.post and a record with text and createdAt are required")
            }
            let rkey = j["rkey"] as? String ?? ATProto.tid()
            guard ATProto.isTID(rkey) else { return fail(.badRequest, "InvalidRequest", "rkey must be a TID") }
            if await state.bskyRecord(did: did, rkey: rkey) != nil { return fail(.badRequest, "InvalidRequest", "Record already exists") }
            // The lexicon's two limits, as @atproto/lexicon checks them: maxLength counts UTF-8 bytes, then graphemes.
            if text.utf8.count > 3000 { return fail(.badRequest, "InvalidRecord", "Invalid app.bsky.feed.post record: Record/text must not be longer than 3000 characters") }
            if text.count > 300 { return fail(.badRequest, "InvalidRecord", "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes") }
            let bytes = text.utf8.count
            for f in record["facets"] as? [[String: Any]] ?? [] {
                let i = f["index"] as? [String: Any]
                guard let s = (i?["byteStart"] as? NSNumber)?.intValue, let e = (i?["byteEnd"] as? NSNumber)?.intValue, 0 <= s, s < e, e <= bytes else {
                    return fail(.badRequest, "InvalidRecord", "a facet's byte range is outside the text")
                }
            }
            // A reply (`reply: {root, parent}`): strong refs to records that exist, with their cids.
            let isReply = record["reply"] != nil
            if let reply = record["reply"] {
                await state.count("bluesky.reply")
                if let refusal = await replyRefusal(reply, state: state) { return refusal }
                if let code = await state.takeFollowUpFault() { return fail(.init(code: code), code >= 500 ? "InternalServerError" : "InvalidRequest", "Injected failure \(code)") }
            }
            var videoCID: String? = nil
            if let embed = record["embed"] as? [String: Any], embed["$type"] as? String == "app.bsky.embed.video" {
                guard let cid = ((embed["video"] as? [String: Any])?["ref"] as? [String: Any])?["$link"] as? String,
                    let b = await state.bskyBlob(cid), b.did == did
                else {
                    return fail(.badRequest, "InvalidRequest", "Could not find blob: the video embed names no blob this account uploaded")
                }
                videoCID = cid
            }
            let r = await state.bskyCreateRecord(did: did, rkey: rkey, value: ["json": sendable(record)], text: text, videoCID: videoCID)
            if isReply, await state.losesFollowUpReply() { return fail(.init(code: 502), "UpstreamFailure", "The answer was lost") }
            await state.holdFinalReply()
            return ok(["uri": r.uri, "cid": r.cid, "validationStatus": "valid"])
        }
        router.get("/xrpc/com.atproto.repo.getRecord") { req, _ -> Response in
            guard let repo = SandboxHTTP.query(req, "repo"), let rkey = SandboxHTTP.query(req, "rkey") else {
                return fail(.badRequest, "InvalidRequest", "repo and rkey are required")
            }
            guard let r = await state.bskyRecord(did: repo, rkey: rkey) else {
                return fail(.badRequest, "RecordNotFound", "Could not locate record: at://\(repo)/app.bsky.feed.post/\(rkey)")
            }
            return ok(["uri": r.uri, "cid": r.cid, "value": value(r)])
        }
        router.get("/xrpc/com.atproto.repo.listRecords") { req, _ -> Response in
            guard let repo = SandboxHTTP.query(req, "repo") else { return fail(.badRequest, "InvalidRequest", "repo is required") }
            let limit = min(100, SandboxHTTP.query(req, "limit").flatMap(Int.init) ?? 50)
            let records = await state.bskyRecords(did: repo).prefix(limit).map { ["uri": $0.uri, "cid": $0.cid, "value": value($0)] as [String: Any] }
            return ok(["records": Array(records)])
        }
    }

    /// What is wrong with a record's `reply` (lexicon app.bsky.feed.post#replyRef: `root` and `parent`,
    /// each a com.atproto.repo.strongRef of `uri` and `cid`), or nil when both name records as they are.
    static func replyRefusal(_ reply: Any, state: SandboxState) async -> Response? {
        guard let reply = reply as? [String: Any] else { return fail(.badRequest, "InvalidRecord", "Invalid app.bsky.feed.post record: Record/reply must be an object") }
        for key in ["root", "parent"] {
            guard let ref = reply[key] as? [String: Any], let uri = ref["uri"] as? String, let cid = ref["cid"] as? String else {
                return fail(.badRequest, "InvalidRecord", "Invalid app.bsky.feed.post record: Record/reply/\(key) must have the properties \"uri\" and \"cid\"")
            }
            let parts = uri.dropFirst("at://".count).split(separator: "/").map(String.init)
            guard uri.hasPrefix("at://"), parts.count == 3, let r = await state.bskyRecord(did: parts[0], rkey: parts[2]), r.cid == cid else {
                return fail(.badRequest, "InvalidRequest", "Record/reply/\(key) names no record with that cid: \(uri)")
            }
        }
        return nil
    }

    static func value(_ r: SandboxState.BskyRecord) -> Any {
        (r.value["json"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } ?? [:]
    }
}

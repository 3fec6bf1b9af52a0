import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
import OmniPostWire

/// Posts a video to Bluesky. The record key (a TID) is chosen and checkpointed before anything is
/// sent, so the post can always be found: a restart asks `getRecord` for it (then the account's recent
/// posts for the video's blob) before posting — never posts blind. The upload limits are read first;
/// the video goes whole to the video service with a service-auth token; the job is polled until its
/// blob is ready (accepted at top level or wrapped in `jobStatus`; `already_exists` still carries the
/// blob); the checkpoint then holds the blob, so a restart posts without uploading again.
struct BlueskyAdapter: PlatformAdapter, SettingsBacked {
    let settings: AdapterSettings
    let platform = "bluesky"
    var schedulesNatively: Bool { false }
    let session: BlueskySession
    let poll: PollPolicy
    let pollTimeout: Duration

    init(_ settings: AdapterSettings, poll: PollPolicy = PollPolicy(first: .seconds(1), max: .seconds(5), factor: 1.5, perMinute: 60), pollTimeout: Duration = .seconds(1800)) {
        self.settings = settings
        self.poll = poll
        self.pollTimeout = pollTimeout
        let a = settings.account
        session = BlueskySession(pds: Self.trim(a.endpoint), identifier: (try? a.text("handle")) ?? "", password: (try? a.text("app_password")) ?? "",
                                 http: settings.http, timeout: settings.requestTimeout, store: settings.tokens.store, account: a.key)
    }

    static func trim(_ s: String) -> String { s.hasSuffix("/") ? String(s.dropLast()) : s }
    var pds: String { Self.trim(settings.account.endpoint) }
    var videoService: String { Self.trim(((try? settings.account.text("video_service")) ?? nil) ?? "https://video.bsky.app") }

    /// `did:web:` of a service's host (a port's colon written %3A, as did:web does).
    static func didWeb(_ url: String) -> String {
        let u = URL(string: url)
        return "did:web:" + (u?.host ?? "") + (u?.port.map { "%3A\($0)" } ?? "")
    }

    /// What the checkpoint holds: the record key, then the job, then the blob (a JSON object, kept whole).
    struct Session: Codable {
        var rkey: String
        var jobId: String? = nil
        var blob: String? = nil
        /// When the delivery began: an older post with the same video is another delivery's.
        var started: Date = Date()
    }

    func text(_ m: PublishMetadata) -> String { m.caption(platform: platform) }


    // MARK: XRPC

    enum Auth { case session, bearer(String), none }

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var json: [String: Any]?
        var error: String { json?["error"] as? String ?? "" }
        var said: String { "\(status) \(error)" + ((json?["message"] as? String).map { ": \($0)" } ?? "") }
    }

    func xrpc(_ method: HTTPMethod, _ base: String, _ nsid: String, query: [(String, String)] = [], json: Any? = nil,
              body: HTTPClientRequest.Body? = nil, length: Int64 = 0, contentType: String? = nil, auth: Auth = .session) async throws -> Reply {
        var renewed = false
        while true {
            var url = base + "/xrpc/" + nsid
            if !query.isEmpty { url += "?" + query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&") }
            var r = HTTPClientRequest(url: url)
            r.method = method
            r.headers.add(name: "User-Agent", value: "OmniPost/1")
            var used: String? = nil
            switch auth {
            case .session: used = try await session.current().token
            case .bearer(let t): used = t
            case .none: break
            }
            if let used { r.headers.add(name: "Authorization", value: "Bearer \(used)") }
            if let json {
                r.headers.add(name: "Content-Type", value: "application/json")
                r.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
            } else if let body {
                r.headers.add(name: "Content-Type", value: contentType ?? "application/octet-stream")
                r.headers.add(name: "Content-Length", value: String(length))
                r.body = body
            }
            let reply: Reply
            do {
                let resp = try await http.execute(r, timeout: .seconds(Int64(requestTimeout.seconds)))
                let data = try await resp.body.collect(upTo: 4 << 20)
                reply = Reply(status: Int(resp.status.code), headers: resp.headers, json: (try? JSONSerialization.jsonObject(with: Data(buffer: data))) as? [String: Any])
            } catch {
                throw DeliveryError(.retryNow, .networkError, "\(nsid): \(base) could not be reached: \(error)")
            }
            // An expired access JWT: renewed once, then the call again.
            if case .session = auth, !renewed, reply.status == 400 || reply.status == 401, ["ExpiredToken", "InvalidToken"].contains(reply.error), let used {
                try await session.renew(failed: used)
                renewed = true
                continue
            }
            return reply
        }
    }

    func failure(_ r: Reply, _ what: String) -> DeliveryError {
        let said = "\(what): Bluesky answered \(r.said)"
        switch r.status {
        case 429: return DeliveryError(.retryAt(RetryAfter.date(r.headers, default: 60)), .rateLimited, said, httpStatus: r.status)
        case 500...: return DeliveryError(.retryNow, .platformError, said, httpStatus: r.status)
        case 401: return DeliveryError(.reauthenticate, .authRevoked, said, httpStatus: r.status)
        default: return DeliveryError(.permanent, .platformError, said, httpStatus: r.status)
        }
    }

    func serviceToken(aud: String, lxm: String) async throws -> String {
        let exp = String(Int(Date().timeIntervalSince1970) + 1800)
        let r = try await xrpc(.GET, pds, "com.atproto.server.getServiceAuth", query: [("aud", aud), ("lxm", lxm), ("exp", exp)])
        guard r.status == 200, let t = r.json?["token"] as? String else { throw failure(r, "getting a service token for \(lxm)") }
        return t
    }

    // MARK: Reconcile

    func session(_ job: UploadJob) throws -> Session? {
        guard let s = job.session else { return nil }
        guard let v = try? JSONDecoder().decode(Session.self, from: Data(s.utf8)) else {
            throw DeliveryError(.permanent, .internalError, "the checkpointed Bluesky session cannot be read")
        }
        return v
    }

    func outcome(uri: String, did: String, rkey: String, bytes: Int64) -> PublishOutcome {
        let handle = (try? settings.account.text("handle")) ?? nil
        return PublishOutcome(remoteId: uri, url: "https://bsky.app/profile/\(handle ?? did)/post/\(rkey)", bytesSent: bytes)
    }

    /// The post, if it exists: by its record key, else among the account's posts made since the delivery
    /// began, by the blob it embeds.
    func findPost(_ s: Session) async throws -> PublishOutcome? {
        let did = try await session.current().did
        let r = try await xrpc(.GET, pds, "com.atproto.repo.getRecord", query: [("repo", did), ("collection", "app.bsky.feed.post"), ("rkey", s.rkey)])
        if r.status == 200, let uri = r.json?["uri"] as? String { return outcome(uri: uri, did: did, rkey: s.rkey, bytes: 0) }
        guard r.status == 400 || r.status == 404 else { throw failure(r, "reading the post \(s.rkey)") }
        guard let blob = s.blob, let cid = Self.cid(ofBlob: blob) else { return nil }
        let list = try await xrpc(.GET, pds, "com.atproto.repo.listRecords", query: [("repo", did), ("collection", "app.bsky.feed.post"), ("limit", "50")])
        guard list.status == 200 else { throw failure(list, "listing the account's recent posts") }
        for rec in list.json?["records"] as? [[String: Any]] ?? [] {
            let value = rec["value"] as? [String: Any]
            let video = (value?["embed"] as? [String: Any])?["video"] as? [String: Any]
            let created = (value?["createdAt"] as? String).flatMap { Self.date($0) } ?? .distantPast
            if (video?["ref"] as? [String: Any])?["$link"] as? String == cid, created >= s.started.addingTimeInterval(-1), let uri = rec["uri"] as? String {
                return outcome(uri: uri, did: did, rkey: String(uri.split(separator: "/").last ?? ""), bytes: 0)
            }
        }
        return nil
    }

    static func date(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }

    static func cid(ofBlob blob: String) -> String? {
        let o = (try? JSONSerialization.jsonObject(with: Data(blob.utf8))) as? [String: Any]
        return (o?["ref"] as? [String: Any])?["$link"] as? String
    }

    func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = try session(job) else { return .notStarted }
        if let found = try await findPost(s) { return .published(found) }
        // Not posted: from the blob (or the job) on; the upload itself is never sent twice when a job exists.
        // A job the video service failed is said so (a retry then uploads anew); one it forgot is sent again
        // by `publish` under the same record key.
        if s.blob == nil, let jobId = s.jobId {
            let r = try await xrpc(.GET, videoService, "app.bsky.video.getJobStatus", query: [("jobId", jobId)], auth: .none)
            let st = (r.json?["jobStatus"] as? [String: Any]) ?? r.json ?? [:]
            if r.status == 200, st["state"] as? String == "JOB_STATE_FAILED" {
                // A job failed for a reason worth a new upload made no video: uploaded anew.
                if Self.worthANewUpload(st) { return .notStarted }
                throw Self.jobFailed(st)
            }
        }
        return s.jobId != nil || s.blob != nil ? .processing : .notStarted
    }

    // MARK: Publish

    func publish(_ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
                 progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> PublishOutcome {
        // A text the PDS would refuse is refused before the video spends one of the day's uploads.
        if let e = preflight(job.metadata) { throw DeliveryError(.permanent, e.code, e.message) }
        var s = try session(job) ?? Session(rkey: ATProto.tid())
        func save(_ offset: Int64, _ sent: Int64) async throws {
            try await checkpoint(UploadCheckpoint(session: String(decoding: try JSONEncoder().encode(s), as: UTF8.self), confirmedOffset: offset, bytesSent: sent))
        }
        let (_, did) = try await session.current()
        var sent: Int64 = 0
        // A job the video service no longer knows (it forgot it, or it expired): the video goes again.
        if s.blob == nil, let jobId = s.jobId, try await jobForgotten(jobId) {
            s.jobId = nil
        }
        if s.blob == nil && s.jobId == nil {
            try await save(0, 0)
            try await checkLimits(job.size)
            try await job.beforeRequest("init")
            let token = try await serviceToken(aud: Self.didWeb(pds), lxm: "com.atproto.repo.uploadBlob")
            let name = (job.filePath as NSString).lastPathComponent
            let r = try await resending {
                try await xrpc(.POST, videoService, "app.bsky.video.uploadVideo", query: [("did", did), ("name", name)],
                                   body: .stream(FileStream.body(file: job.filePath), length: .known(job.size)), length: job.size,
                                   contentType: job.contentType, auth: .bearer(token))
            }
            let status = (r.json?["jobStatus"] as? [String: Any]) ?? r.json
            guard r.status == 200 || r.error == "already_exists" || status?["error"] as? String == "already_exists" else { throw failure(r, "uploading the video") }
            sent = job.size
            progress(job.size, job.size)
            if let blob = status?["blob"] as? [String: Any] { s.blob = Self.text(blob) }
            s.jobId = status?["jobId"] as? String ?? r.json?["jobId"] as? String
            guard s.blob != nil || s.jobId != nil else { throw DeliveryError(.retryNow, .platformError, "the video service answered neither a job nor a blob") }
            try await save(job.size, sent)
        }
        if s.blob == nil, let jobId = s.jobId {
            s.blob = try await waitForBlob(jobId)
            try await save(job.size, sent)
        }
        // A resumed delivery may have posted before it was cut off: it looks before posting.
        if job.session != nil, let found = try await findPost(s) { return found }
        return try await createPost(job, s, did: did, sent: sent)
    }

    /// The video upload, sent again when the service answers 5xx or the connection drops mid-body (the
    /// same bytes again are answered `already_exists` with the blob, so a repeat makes no second video),
    /// up to `maxAttempts` times with backoff — as every chunked upload re-sends a cut part.
    func resending(_ send: () async throws -> Reply) async throws -> Reply {
        var tries = 0
        while true {
            tries += 1
            do {
                let r = try await send()
                guard r.status >= 500, tries < settings.maxAttempts else { return r }
            } catch let e as DeliveryError where e.kind == .retryNow && tries < settings.maxAttempts {}
            try await Task.sleep(for: settings.backoff.delay(attempt: tries))
        }
    }

    /// `getUploadLimits` before each upload: a day's videos or bytes used up waits for the next day.
    func checkLimits(_ size: Int64) async throws {
        let token = try await serviceToken(aud: Self.didWeb(videoService), lxm: "app.bsky.video.getUploadLimits")
        let r = try await xrpc(.GET, videoService, "app.bsky.video.getUploadLimits", auth: .bearer(token))
        guard r.status == 200, let j = r.json else { return }   // limits that cannot be read do not stop a post
        let videos = (j["remainingDailyVideos"] as? NSNumber)?.intValue
        let bytes = (j["remainingDailyBytes"] as? NSNumber)?.int64Value
        if j["canUpload"] as? Bool == false || (videos ?? 1) < 1 || (bytes ?? size) < size {
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = TimeZone(identifier: "UTC")!
            let tomorrow = cal.startOfDay(for: Date().addingTimeInterval(86400))
            throw DeliveryError(.retryAt(tomorrow), .quotaExhausted,
                                "Bluesky's upload limits: \(j["message"] as? String ?? "the day's videos or bytes are used up") (\(videos.map { "\($0) videos" } ?? "?"), \(bytes.map { "\($0) bytes" } ?? "?") left; this one is \(size))")
        }
    }

    func jobForgotten(_ jobId: String) async throws -> Bool {
        let r = try await xrpc(.GET, videoService, "app.bsky.video.getJobStatus", query: [("jobId", jobId)], auth: .none)
        return r.status == 404 || r.error == "NotFound"
    }

    func waitForBlob(_ jobId: String) async throws -> String {
        var pacer = poll.pacer()
        let deadline = ContinuousClock.now + pollTimeout
        while ContinuousClock.now < deadline {
            try await pacer.pace()
            let r = try await xrpc(.GET, videoService, "app.bsky.video.getJobStatus", query: [("jobId", jobId)], auth: .none)
            guard r.status == 200 else {
                if r.status >= 500 || r.status == 429 { continue }
                throw failure(r, "asking for the video job \(jobId)")
            }
            let st = (r.json?["jobStatus"] as? [String: Any]) ?? r.json ?? [:]
            if let blob = st["blob"] as? [String: Any] { return Self.text(blob) }
            if st["state"] as? String == "JOB_STATE_FAILED" { throw Self.jobFailed(st) }
        }
        throw DeliveryError(.retryNow, .platformError, "the video job \(jobId) was not done within \(pollTimeout); asked again on the next attempt")
    }

    /// A failed job's `failureCode` (app.bsky.video.defs#jobStatus): `pds_upload_failure` — the video
    /// service could not store the encoded video on the account's PDS — is the service's trouble, not
    /// the file's (Bluesky's own app says to try again), so the next attempt uploads anew; the lexicon
    /// calls no code retryable in words. Every other code (validation, encoding, a blob too large for
    /// the PDS, generic) is final, with the service's words.
    static func worthANewUpload(_ st: [String: Any]) -> Bool { st["failureCode"] as? String == "pds_upload_failure" }

    static func jobFailed(_ st: [String: Any]) -> DeliveryError {
        let code = st["failureCode"] as? String
        let said = "Bluesky could not process the video: \(st["error"] as? String ?? "") \(st["message"] as? String ?? "")" + (code.map { " (\($0))" } ?? "")
        if worthANewUpload(st) { return DeliveryError(.retryNow, .platformError, said + "; it is uploaded again") }
        return DeliveryError(.permanent, .platformError, said)
    }

    func createPost(_ job: UploadJob, _ s: Session, did: String, sent: Int64) async throws -> PublishOutcome {
        guard let blobText = s.blob, let blob = try? JSONSerialization.jsonObject(with: Data(blobText.utf8)) else {
            throw DeliveryError(.permanent, .internalError, "no blob to post")
        }
        let text = self.text(job.metadata)
        var embed: [String: Any] = ["$type": "app.bsky.embed.video", "video": blob]
        if let alt = job.metadata.options["alt"], !alt.isEmpty { embed["alt"] = alt }
        if let f = job.frame, f.width > 0, f.height > 0 { embed["aspectRatio"] = ["width": f.width, "height": f.height] }
        var record: [String: Any] = ["$type": "app.bsky.feed.post", "text": text, "createdAt": ISO8601DateFormatter().string(from: Date()), "embed": embed]
        let facets = try await richText(text)
        if !facets.isEmpty { record["facets"] = facets }
        let r = try await xrpc(.POST, pds, "com.atproto.repo.createRecord",
                               json: ["repo": did, "collection": "app.bsky.feed.post", "rkey": s.rkey, "record": record])
        guard r.status == 200, let uri = r.json?["uri"] as? String else { throw failure(r, "creating the post") }
        return outcome(uri: uri, did: did, rkey: s.rkey, bytes: sent)
    }

    /// Facets for the text: links and hashtags as written; a mention only when its handle resolves to a DID.
    func richText(_ text: String) async throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        for f in BlueskyText.facets(text) {
            let feature: [String: Any]
            switch f.kind {
            case .link(let uri): feature = ["$type": "app.bsky.richtext.facet#link", "uri": uri]
            case .tag(let tag): feature = ["$type": "app.bsky.richtext.facet#tag", "tag": tag]
            case .mention(let handle):
                let r = try await xrpc(.GET, pds, "com.atproto.identity.resolveHandle", query: [("handle", handle)], auth: .none)
                guard r.status == 200, let did = r.json?["did"] as? String else { continue }
                feature = ["$type": "app.bsky.richtext.facet#mention", "did": did]
            }
            out.append(["index": ["byteStart": f.byteStart, "byteEnd": f.byteEnd], "features": [feature]])
        }
        return out
    }

    static func text(_ o: Any) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// Publishes to Vimeo: the video is created with `upload.approach = tus` (name, description, privacy
/// from the sidecar), its URI and upload link are checkpointed before any byte, the bytes go by tus
/// from the offset Vimeo's tus server holds; then Vimeo must transcode it (`transcode.status`:
/// `complete`, `error` or `in_progress`) and the tags must be on it. Every part is part of the delivery:
/// a video Vimeo could not transcode, or whose tags were refused, is not published. An interrupted
/// delivery asks the video itself (its upload status, then its transcode and tags); a create whose
/// answer was lost is found by listing the account's videos — never created a second time.
struct VimeoAdapter: PlatformAdapter, SettingsBacked {
    let settings: AdapterSettings
    let platform = "vimeo"
    var schedulesNatively: Bool { false }
    let poll: PollPolicy
    let transcodeTimeout: Duration

    init(_ settings: AdapterSettings, poll: PollPolicy = PollPolicy(first: .seconds(2), max: .seconds(30), factor: 1.5, perMinute: 30),
         transcodeTimeout: Duration = .seconds(3600)) {
        self.settings = settings
        self.poll = poll
        self.transcodeTimeout = transcodeTimeout
    }

    /// The account's `access_token:`, else the one `accounts add` stored (Vimeo's do not expire).
    func token() async throws -> String {
        if let t = try? settings.account.text("access_token") { return t }
        return try await settings.tokens.accessToken()
    }
    var root: String { settings.account.endpoint.hasSuffix("/") ? String(settings.account.endpoint.dropLast()) : settings.account.endpoint }
    static let accept = "application/vnd.vimeo.*+json;version=3.4"

    /// What the checkpoint holds. Before the create leaves, only `created` (when it was sent): a restart
    /// that finds no URI looks for that video among the account's newest before making one.
    struct Session: Codable {
        var uri: String?
        var uploadLink: String?
        var link: String?
        var created: Date?
    }

    /// Vimeo's privacy word for ours (the descriptor's: private → nobody, followers/friends → contacts).
    static func privacy(_ p: Privacy) -> String {
        VimeoPlatform.descriptor.facts.privacyWord(p, options: [:]) ?? "nobody"
    }

    func call(_ method: HTTPMethod, _ path: String, json: Any? = nil) async throws -> (HTTPClientResponse, [String: Any]?, String) {
        var r = HTTPClientRequest(url: root + path)
        r.method = method
        r.headers.add(name: "Authorization", value: "Bearer \(try await token())")
        r.headers.add(name: "Accept", value: Self.accept)
        r.headers.add(name: "User-Agent", value: "OmniPost/1")
        if let json {
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        do {
            let resp = try await http.execute(r, timeout: .seconds(Int64(requestTimeout.seconds)))
            let body = String(buffer: try await resp.body.collect(upTo: 4 << 20))
            return (resp, (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any], body)
        } catch {
            throw DeliveryError(.retryNow, .networkError, "Vimeo could not be reached: \(error)")
        }
    }

    /// Vimeo's refusal, classified. Its `X-RateLimit-Reset` is a date, not a count of seconds.
    func failure(_ resp: HTTPClientResponse, _ json: [String: Any]?, _ what: String) -> DeliveryError {
        let status = Int(resp.status.code)
        let said = "\(what): Vimeo answered \(status)" + ((json?["developer_message"] as? String ?? json?["error"] as? String).map { " (\($0))" } ?? "")
        switch status {
        case 401: return DeliveryError(.reauthenticate, .authRevoked, said + "; the access token was revoked or lacks the upload scope: make a new one", httpStatus: status)
        case 429:
            let reset = resp.headers.first(name: "X-RateLimit-Reset").flatMap { ISO8601DateFormatter().date(from: $0) }
            return DeliveryError(.retryAt(reset ?? RetryAfter.date(resp.headers, default: 60)), .rateLimited, said, httpStatus: status)
        case 500...: return DeliveryError(.retryNow, .platformError, said, httpStatus: status)
        default: return DeliveryError(.permanent, .platformError, said, httpStatus: status)
        }
    }

    func session(_ job: UploadJob) throws -> Session? {
        guard let s = job.session else { return nil }
        guard let v = try? JSONDecoder().decode(Session.self, from: Data(s.utf8)) else {
            throw DeliveryError(.permanent, .internalError, "the checkpointed Vimeo session cannot be read")
        }
        return v
    }

    func outcome(_ uri: String, link: String?, bytes: Int64) -> PublishOutcome {
        PublishOutcome(remoteId: uri.split(separator: "/").last.map(String.init) ?? uri,
                       url: link ?? "https://vimeo.com" + uri.replacingOccurrences(of: "/videos", with: ""), bytesSent: bytes)
    }

    func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = try session(job) else { return .notStarted }
        // The create was sent and its answer not had: `publish` looks for the video before making one.
        guard let uri = s.uri, let uploadLink = s.uploadLink else { return .partial(confirmedOffset: 0) }
        let (resp, json, _) = try await call(.GET, uri + "?fields=uri,link,upload.status,transcode.status")
        if resp.status == .notFound { return .notStarted }   // the video was deleted
        guard resp.status == .ok else { throw failure(resp, json, "reading \(uri)") }
        // Every byte is there: what is left (the transcode, the tags) is `publish`'s, from the end of the file.
        if (json?["upload"] as? [String: Any])?["status"] as? String == "complete" { return .processing }
        guard let held = try await TusClient(http: http, timeout: requestTimeout).offset(uploadLink) else { return .notStarted }
        return .partial(confirmedOffset: held.offset)
    }

    func publish(_ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
                 progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> PublishOutcome {
        var start = job.confirmedOffset
        let old = try session(job)
        var s: Session
        if let old, old.uri != nil, old.uploadLink != nil {
            s = old
        } else if let old, let created = old.created, let found = try await findCreated(job, since: created) {
            // The create's answer was lost, the video was made: its upload goes on from what tus holds.
            s = found
            start = try await TusClient(http: http, timeout: requestTimeout).offset(found.uploadLink!)?.offset ?? 0
        } else {
            try await job.beforeRequest("init")
            // Checkpointed before the create leaves: a lost answer is then looked for, not created again.
            s = Session(created: Date())
            try await checkpoint(UploadCheckpoint(session: Self.text(s), confirmedOffset: 0, bytesSent: 0))
            var body: [String: Any] = ["upload": ["approach": "tus", "size": job.size], "privacy": ["view": Self.privacy(job.metadata.privacy)]]
            if !job.metadata.title.isEmpty { body["name"] = job.metadata.title }
            if !job.metadata.description.isEmpty { body["description"] = job.metadata.description }
            let (resp, json, _) = try await call(.POST, "/me/videos?fields=uri,link,upload", json: body)
            guard resp.status == .ok || resp.status == .created, let uri = json?["uri"] as? String,
                  let link = (json?["upload"] as? [String: Any])?["upload_link"] as? String else {
                throw failure(resp, json, "creating the video")
            }
            s = Session(uri: uri, uploadLink: link, link: json?["link"] as? String, created: s.created)
            start = 0
        }
        let wasWhole = old?.uri != nil && start >= job.size
        let text = Self.text(s)
        try await checkpoint(UploadCheckpoint(session: text, confirmedOffset: start, bytesSent: 0))
        // Vimeo's upload links authorize themselves: the bytes go without the API token.
        let tus = TusClient(http: http, timeout: requestTimeout)
        let sent = try await tusSend(tus, url: s.uploadLink!, job: job, session: text, from: start, checksum: nil, checkpoint: checkpoint, progress: progress)
        var out = try await finish(s.uri!, link: s.link, job: job, sent: sent)
        out.reconciled = wasWhole && sent == 0
        return out
    }

    static func text(_ s: Session) -> String { String(decoding: (try? JSONEncoder().encode(s)) ?? Data("{}".utf8), as: UTF8.self) }

    // MARK: After the bytes

    /// The rest of the post once every byte is there: Vimeo's transcode waited for (an `error` fails the
    /// delivery), then the tags read back and set where they differ. Each step is idempotent, so an
    /// interrupted one is simply done again by the next attempt.
    func finish(_ uri: String, link: String?, job: UploadJob, sent: Int64) async throws -> PublishOutcome {
        let video = try await waitForTranscode(uri)
        // More tags than the profile's count were refused at validation; never more than that are sent.
        let want = Array(job.metadata.tags.prefix(job.metadata.textRules(platform: platform).tags?.maxCount ?? job.metadata.tags.count))
        if !want.isEmpty {
            let have = (video["tags"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            if have != want { try await setTags(uri, want) }
        }
        return outcome(uri, link: video["link"] as? String ?? link, bytes: sent)
    }

    /// Polls the video until `transcode.status` leaves `in_progress`. `error` is Vimeo refusing the video:
    /// permanent. Past `transcodeTimeout` the delivery is retried later and asks again.
    func waitForTranscode(_ uri: String) async throws -> [String: Any] {
        var pacer = poll.pacer()
        var failures = 0
        let deadline = ContinuousClock.now + transcodeTimeout
        while ContinuousClock.now < deadline {
            try await pacer.pace()
            let (resp, json, _) = try await call(.GET, uri + "?fields=uri,link,status,upload.status,transcode.status,tags.name")
            guard resp.status == .ok, let json else {
                let e = failure(resp, json, "reading \(uri)")
                guard e.kind == .retryNow else { throw e }
                try await afterTransientFailure(e, failures: &failures)
                continue
            }
            failures = 0
            switch (json["transcode"] as? [String: Any])?["status"] as? String {
            case "complete": return json
            case "error":
                throw DeliveryError(.permanent, .rejectedByPlatform,
                                    "Vimeo could not transcode \(uri) (transcode.status: error); the video is in the account but cannot be played — it was not published")
            default: continue
            }
        }
        throw DeliveryError(.retryNow, .platformError, "Vimeo had not finished transcoding \(uri) within \(transcodeTimeout); asked again on the next attempt")
    }

    /// `PUT /videos/{id}/tags`: a 5xx is tried again here, a 429 waits for Vimeo's reset; either way the
    /// delivery is published only once the tags are on the video.
    func setTags(_ uri: String, _ tags: [String]) async throws {
        var failures = 0
        while true {
            let (resp, json, _) = try await call(.PUT, uri + "/tags", json: tags.map { ["name": $0] })
            if (200..<300).contains(Int(resp.status.code)) { return }
            let e = failure(resp, json, "setting the tags of \(uri)")
            guard e.kind == .retryNow else { throw e }
            try await afterTransientFailure(e, failures: &failures)
        }
    }

    /// The video a lost create made: among the account's newest, the one with this upload's size, name
    /// and description, made since the create was sent (a minute's grace for the clocks).
    func findCreated(_ job: UploadJob, since: Date) async throws -> Session? {
        let (resp, json, _) = try await call(.GET, "/me/videos?sort=date&direction=desc&per_page=25&fields=uri,link,name,description,created_time,upload")
        guard resp.status == .ok else { throw failure(resp, json, "listing the account's videos") }
        let f = ISO8601DateFormatter()
        for v in json?["data"] as? [[String: Any]] ?? [] {
            guard let uri = v["uri"] as? String, let upload = v["upload"] as? [String: Any], let link = upload["upload_link"] as? String else { continue }
            let size = (upload["size"] as? NSNumber)?.int64Value ?? Int64(upload["size"] as? String ?? "")
            let made = (v["created_time"] as? String).flatMap { f.date(from: $0) } ?? .distantPast
            let name = v["name"] as? String ?? "", description = v["description"] as? String ?? ""
            if size == job.size, made >= since.addingTimeInterval(-60),
               job.metadata.title.isEmpty || name == job.metadata.title, description == job.metadata.description {
                return Session(uri: uri, uploadLink: link, link: v["link"] as? String, created: since)
            }
        }
        return nil
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import OmniPostCore

/// Reddit (PLATFORMS.md § Reddit): the video and a poster image each leased and form-POSTed to the
/// media host, then `POST /api/submit` with `kind=video`, then the result on the asset's WebSocket.
///
/// Exactly once: the media addresses are persisted before the submit, and the session says
/// `submitting` before the submit leaves. Reddit has no idempotency key; an uncertain submit (killed
/// before its answer was stored, a dropped connection) is settled by reading the account's submitted
/// posts for the video's asset — or, failing that, its title in its subreddit since the submit — and
/// is waited for while Reddit may still be processing it. It is never submitted again: a submit whose
/// post has not shown after `settleWindow` fails as `uncertain_post` for a person to look at. An
/// answered submit that carries `json.errors` made no post, and goes back to `uploaded`.
public struct RedditAdapter: PlatformAdapter, SettingsBacked {
    public let platform = "reddit"
    let settings: AdapterSettings
    let window = RedditWindow()
    /// How long the WebSocket may take to say how the post ended.
    let resultTimeout: Duration
    /// How long an uncertain submit's post is looked for before a person is asked.
    let settleWindow: Duration
    let poll: PollPolicy
    public var account: AccountConfig { settings.account }
    public var schedulesNatively: Bool { false }

    public init(_ settings: AdapterSettings, resultTimeout: Duration = .seconds(600), settleWindow: Duration = .seconds(900),
                poll: PollPolicy = PollPolicy(first: .seconds(5), max: .seconds(60), perMinute: 20)) {
        self.settings = settings
        self.resultTimeout = resultTimeout
        self.settleWindow = settleWindow
        self.poll = poll
    }

    var reddit: RedditAPI {
        RedditAPI(api: settings.api, base: account.endpoint, userAgent: RedditPlatform.userAgent(for: account) ?? Product.userAgent, window: window)
    }

    /// The subreddit a drop goes to: its override, else the account's.
    func subreddit(_ m: PublishMetadata) -> String? {
        (m.options["subreddit"] ?? (try? account.text("subreddit"))).flatMap(RedditPlatform.subredditName)
    }

    /// The subreddit's spelling (its presence, the title's limits and the flags' values are data).
    public func platformChecks(_ m: PublishMetadata) -> OmniError? {
        if let raw = m.options["subreddit"], RedditPlatform.subredditName(raw) == nil {
            return OmniError(.invalidValue, "reddit subreddit '\(Excerpt.quote(raw))' is not a subreddit name (3–21 letters, digits or _)")
        }
        return nil
    }

    /// The persisted remote side.
    struct Session: Codable {
        /// `failed`: Reddit said (on the asset's WebSocket) that it could not process the video — no post came
        /// of it, for sure; kept so that a reconcile can say so (and a person's retry uploads anew).
        enum Phase: String, Codable { case uploading, uploaded, submitting, submitted, failed }
        var username: String
        var subreddit: String
        var title: String
        var assetID: String?
        var videoURL: String?
        var posterURL: String?
        var websocketURL: String?
        /// When the submit left (epoch seconds): posts made since then are candidates.
        var submittedAt: Double?
        var phase: Phase
        /// What Reddit said when its processing failed.
        var failure: String? = nil
    }

    /// Reddit's word that the video could not be processed, checkpointed before it is reported: the
    /// session is then known never to become a post.
    func processingFailed(_ session: Session, _ why: String, sent: Int64, size: Int64,
                          checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void) async throws -> DeliveryError {
        var s = session
        s.phase = .failed
        s.failure = why
        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: size, bytesSent: sent))
        return Self.failedError(s)
    }

    static func failedError(_ s: Session) -> DeliveryError {
        DeliveryError(.permanent, .rejectedByPlatform, "Reddit could not process the video for r/\(s.subreddit): \(s.failure ?? "no reason given")")
    }

    public func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome {
        var sent: Int64 = 0
        var s: Session
        if let saved = job.session.flatMap(Self.decode) { s = saved } else {
            guard let sr = subreddit(job.metadata) else { throw DeliveryError(.permanent, .invalidValue, "no subreddit to post to") }
            s = Session(username: try await username(), subreddit: sr, title: job.metadata.title, phase: .uploading)
        }
        if s.phase == .uploading {
            try Self.checkUnchanged(job)
            let media = RedditMedia(reddit: reddit, http: settings.http, timeout: settings.requestTimeout)
            // A lease's upload made no post: one cut is sent again (`PartRetry`, the engine's one in-attempt retry).
            var retry = PartRetry(settings)
            // The video once: a poster that needs another try does not send the video again.
            var video: RedditMedia.Uploaded? = nil
            while s.videoURL == nil {
                do {
                    if video == nil {
                        let stem = ((job.drop?.stem ?? (job.filePath as NSString).lastPathComponent) as NSString).deletingPathExtension
                        video = try await media.upload(path: job.filePath, name: Self.fileName(stem) + ".mp4", mimetype: job.contentType)
                        sent += job.size
                        progress(job.size, job.size)
                    }
                    let poster = try await media.upload(path: try posterPath(job), name: "poster.jpg", mimetype: "image/jpeg")
                    guard let v = video else { continue }
                    (s.videoURL, s.assetID, s.websocketURL, s.posterURL) = (v.url, v.assetID, v.websocketURL, poster.url)
                } catch let e as DeliveryError where e.kind == .retryNow {
                    try await retry.again(after: e)
                }
            }
            s.phase = .uploaded
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        }
        switch s.phase {
        case .uploading, .uploaded:
            return try await submit(job, s, sent: sent, checkpoint: checkpoint)
        case .submitting, .submitted:
            // The submit may have made a post: listen on the asset's WebSocket again and look for it while
            // Reddit may still be processing it — never submit again.
            let socket: RedditResultSocket? = if let ws = s.websocketURL { await RedditResultSocket.open(url: ws, tls: settings.tls) } else { nil }
            defer { if let socket { Task { await socket.close() } } }
            return try await settle(s, socket: socket, sent: sent, size: job.size, checkpoint: checkpoint)
        case .failed:
            throw Self.failedError(s)
        }
    }

    /// After a submit: the asset's WebSocket listened to and the account's posts read, until one says
    /// how it ended — a post (published), a failed processing (no post: rejected) — or the window for it
    /// passes. A submit whose answer was lost waits `settleWindow` and then asks a person
    /// (`uncertain_post`); a taken one, `resultTimeout`.
    func settle(_ s: Session, socket: RedditResultSocket?, sent: Int64, size: Int64,
                checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void) async throws -> PublishOutcome {
        let since = s.submittedAt.map { Date(timeIntervalSince1970: $0) } ?? Date()
        let until = since.addingTimeInterval(s.phase == .submitting ? settleWindow.seconds : resultTimeout.seconds)
        var pacer = poll.pacer()
        // Reading the posts is safe to repeat: a failure for now is tried again at the poll's pace.
        var retry = PartRetry(settings)
        repeat {
            try await pacer.pace()
            switch await socket?.said() {
            case .failed(let why):
                throw try await processingFailed(s, why, sent: sent, size: size, checkpoint: checkpoint)
            case .success(let redirect):
                if let id = Self.postID(redirect) { return PublishOutcome(remoteId: id, url: Self.siteURL(redirect), bytesSent: sent) }
            case nil: break
            }
            do {
                if let found = try await findPost(s) { return outcome(found, sent) }
                retry.succeeded()
            } catch let e as DeliveryError where e.kind == .retryNow {
                // Reading the posts failed for now (the connection that lost the submit's answer may still be
                // down): the socket and the next read may still say.
                try await retry.again(after: e)
            }
        } while Date() < until
        if s.phase == .submitting {
            throw DeliveryError(.permanent, .uncertainPost,
                                "the submit to r/\(s.subreddit) at \(ISO8601DateFormatter().string(from: since)) lost its answer, and no post of it showed on u/\(s.username) within \(Int(settleWindow.seconds / 60)) min; it was not submitted again (a second post is worse than none). Look at u/\(s.username)'s posts; `omnipost retry` submits it again")
        }
        throw DeliveryError(.permanent, .rejectedByPlatform, "Reddit took the submit to r/\(s.subreddit), but its post never showed on u/\(s.username) (its processing failed?)")
    }

    /// Leaves the submit, having said so first; reads the result from the asset's WebSocket.
    func submit(_ job: UploadJob, _ session: Session, sent: Int64, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void) async throws -> PublishOutcome {
        var s = session
        guard let videoURL = s.videoURL, let posterURL = s.posterURL else { throw DeliveryError(.retryNow, .internalError, "the session has no uploaded media") }
        let socket: RedditResultSocket? = if let ws = s.websocketURL { await RedditResultSocket.open(url: ws, tls: settings.tls) } else { nil }
        defer { if let socket { Task { await socket.close() } } }
        try await job.beforeRequest("init")
        s.phase = .submitting
        s.submittedAt = Date().timeIntervalSince1970
        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        let m = job.metadata
        var form = [("api_type", "json"), ("kind", "video"), ("sr", s.subreddit), ("title", s.title), ("url", videoURL),
                    ("video_poster_url", posterURL), ("resubmit", "true"), ("sendreplies", "true"), ("validate_on_submit", "true")]
        if !m.description.isEmpty { form.append(("text", m.description)) }
        if m.options["nsfw"]?.lowercased() == "true" { form.append(("nsfw", "true")) }
        if m.options["spoiler"]?.lowercased() == "true" { form.append(("spoiler", "true")) }
        if let flair = m.options["flair_id"] ?? (try? account.text("flair_id")) { form.append(("flair_id", flair)) }
        let r: AuthorizedHTTP.Reply
        do { r = try await reddit.send("/api/submit", method: .POST, form: form) } catch let e as DeliveryError where e.code == .rateLimited {
            // Refused before it was taken (a 429, or the window was shut): no post came of it.
            s.phase = .uploaded
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
            throw e
        } catch let e as DeliveryError where e.code == .networkError {
            // The answer was lost: the post may exist, or be processing. The asset's WebSocket, already
            // open, still says how it ends — a failed processing is heard at once, not after the settle window.
            return try await settle(s, socket: socket, sent: sent, size: job.size, checkpoint: checkpoint)
        }
        guard r.status == 200, let json = r.json?["json"] as? [String: Any] else {
            let e = reddit.failure(r, during: "submitting the post")
            // A 5xx leaves the submit uncertain just the same.
            if r.status >= 500 { return try await settle(s, socket: socket, sent: sent, size: job.size, checkpoint: checkpoint) }
            throw e
        }
        if let e = RedditAPI.submitErrors(json["errors"] as? [[Any]] ?? []) {
            s.phase = .uploaded
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
            throw e
        }
        s.phase = .submitted
        if let ws = (json["data"] as? [String: Any])?["websocket_url"] as? String, !ws.isEmpty { s.websocketURL = ws }
        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        let said = await socket?.outcome(within: resultTimeout)
        switch said {
        case .failed(let why):
            throw try await processingFailed(s, why, sent: sent, size: job.size, checkpoint: checkpoint)
        case .success(let redirect):
            if let id = Self.postID(redirect) { return PublishOutcome(remoteId: id, url: Self.siteURL(redirect), bytesSent: sent) }
            fallthrough
        case nil:
            if let found = try await awaitPost(s, until: Date().addingTimeInterval(resultTimeout.seconds)) { return outcome(found, sent) }
            throw DeliveryError(.permanent, .rejectedByPlatform, "Reddit took the submit to r/\(s.subreddit), but its post never showed on u/\(s.username) (its processing failed?)")
        }
    }

    public func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = job.session.flatMap(Self.decode) else { return .notStarted }
        switch s.phase {
        case .uploading: return .notStarted
        case .uploaded: return .processing
        case .failed: throw Self.failedError(s)
        case .submitting, .submitted:
            if let found = try await findPost(s) { return .published(outcome(found, 0)) }
            return .processing
        }
    }

    struct Found { var id: String; var permalink: String }

    /// Reads the account's posts until ours shows, or `until` passes.
    func awaitPost(_ s: Session, until: Date) async throws -> Found? {
        var pacer = poll.pacer()
        repeat {
            try await pacer.pace()
            if let f = try await findPost(s) { return f }
        } while Date() < until
        return nil
    }

    /// The account's recent post that is this submit's: the one carrying the video's asset, or the
    /// same title in the same subreddit made since the submit left.
    func findPost(_ s: Session) async throws -> Found? {
        let r = try await reddit.send("/user/\(s.username)/submitted?limit=100&sort=new")
        guard r.status == 200 else { throw reddit.failure(r, during: "reading u/\(s.username)'s posts") }
        let children = ((r.json?["data"] as? [String: Any])?["children"] as? [[String: Any]] ?? []).compactMap { $0["data"] as? [String: Any] }
        let since = (s.submittedAt ?? 0) - 300
        for d in children {
            guard let id = d["id"] as? String else { continue }
            let permalink = d["permalink"] as? String ?? "/comments/\(id)/"
            if let asset = s.assetID, !asset.isEmpty {
                let media = [d["url"], d["url_overridden_by_dest"], d["media"]].compactMap { $0.map { "\($0)" } }.joined(separator: " ")
                if media.contains(asset) { return Found(id: id, permalink: permalink) }
            }
            let created = (d["created_utc"] as? NSNumber)?.doubleValue ?? 0
            if d["title"] as? String == s.title, (d["subreddit"] as? String)?.lowercased() == s.subreddit.lowercased(), created >= since {
                return Found(id: id, permalink: permalink)
            }
        }
        return nil
    }

    /// Where people see a post: Reddit's site, whatever host the API calls went to (oauth.reddit.com,
    /// the sandbox). A listing's `permalink` is a path on it; the WebSocket's redirect is already a link there.
    static let site = "https://www.reddit.com"

    static func siteURL(_ permalinkOrURL: String) -> String {
        if permalinkOrURL.hasPrefix("https://") || permalinkOrURL.hasPrefix("http://") {
            guard let u = URLComponents(string: permalinkOrURL) else { return permalinkOrURL }
            return site + u.percentEncodedPath + (u.percentEncodedQuery.map { "?" + $0 } ?? "")
        }
        return site + (permalinkOrURL.hasPrefix("/") ? "" : "/") + permalinkOrURL
    }

    func outcome(_ f: Found, _ sent: Int64) -> PublishOutcome {
        PublishOutcome(remoteId: f.id, url: Self.siteURL(f.permalink), bytesSent: sent)
    }

    /// `…/comments/<id>/<slug>/` → `<id>`.
    static func postID(_ url: String) -> String? {
        let parts = url.split(separator: "/")
        guard let i = parts.firstIndex(of: "comments"), i + 1 < parts.count else { return nil }
        return String(parts[i + 1])
    }

    func username() async throws -> String {
        let r = try await reddit.send("/api/v1/me")
        guard r.status == 200, let name = r.json?["name"] as? String else { throw reddit.failure(r, during: "reading who the account is") }
        return name
    }

    /// The poster: the drop's cover, else a frame the convert stage took (Reddit requires one).
    func posterPath(_ job: UploadJob) throws -> String {
        guard let p = job.coverPath, FileManager.default.fileExists(atPath: p) else {
            throw DeliveryError(.permanent, .internalError, "a Reddit video post needs a poster image and this delivery has none")
        }
        return p
    }

    /// The whole file is sent in one request: its bytes are checked against the recorded sha256 first.
    static func checkUnchanged(_ job: UploadJob) throws {
        guard let want = job.expectedSha256 else { return }
        let got: String
        do { got = try FileHashing.sha256(path: job.filePath).hex } catch {
            throw DeliveryError(.permanent, .unreadable, "\((job.filePath as NSString).lastPathComponent) cannot be read: \(error)")
        }
        if got != want { throw DeliveryError(.permanent, .sourceChanged, "\((job.filePath as NSString).lastPathComponent) changed after it was taken; nothing was sent") }
    }

    /// A name the lease takes: letters, digits, `-` and `_`.
    static func fileName(_ stem: String) -> String {
        let s = String(stem.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(80))
        return s.isEmpty ? "video" : s
    }

    static func decode(_ s: String) -> Session? { try? JSONDecoder().decode(Session.self, from: Data(s.utf8)) }
    static func encode(_ s: Session) -> String { String(decoding: (try? JSONEncoder().encode(s)) ?? Data(), as: UTF8.self) }
}

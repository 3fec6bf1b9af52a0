import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// X API v2 (PLATFORMS.md § X): chunked media upload — initialize → append segments in order →
/// finalize → STATUS honouring `check_after_secs` — then `POST /2/tweets` with the media id.
///
/// Exactly once: the media id is persisted before the first byte and each confirmed segment after it;
/// the session records the phase (uploading, finalized, posting) before each step that may make a
/// post. X has no idempotency key for a post, so an uncertain post (killed after `POST /2/tweets` left,
/// before its reply was stored) is settled by reading the account's recent posts for one carrying our
/// media key — never by posting again. A media id that cannot become a post any more — past INIT's
/// `expires_after_secs`, or refused as unknown before it was finalized — is replaced by a new upload
/// from the local bytes: nothing was posted with it, so nothing can be posted twice.
public struct XAdapter: PlatformAdapter, SettingsBacked {
    public let platform = "x"
    let settings: AdapterSettings
    /// X takes APPEND segments of at most 5 MB; 4 MiB keeps well inside it.
    let segmentSize: Int64
    let pollTimeout: Duration
    /// The wait between STATUS checks when X names none (`check_after_secs` missing).
    let defaultPollWait: Duration
    /// Who the account is, asked once per process: `/2/users/me` has its own small per-user window.
    let me = XAccountCache()
    public var account: AccountConfig { settings.account }
    var api: AuthorizedHTTP { settings.api }

    static let maxSegment: Int64 = 4 * 1_048_576
    static let minSegment: Int64 = 1_048_576
    /// A session this close to its `expires_after_secs` is not resumed: a segment sent now could land after it.
    static let expiryMargin: Double = 60

    public init(_ settings: AdapterSettings, pollTimeout: Duration = .seconds(600), defaultPollWait: Duration = .seconds(5)) {
        self.settings = settings
        self.segmentSize = min(max(settings.chunkSize, Self.minSegment), Self.maxSegment)
        self.pollTimeout = pollTimeout
        self.defaultPollWait = defaultPollWait
    }

    public var schedulesNatively: Bool { XPlatform.descriptor.capabilities.nativeScheduling }

    /// The post's text, composed as its profile says (title, description, then the tags as hashtags).
    static func text(_ m: PublishMetadata) -> String { m.caption(platform: "x") }

    /// The persisted remote side.
    struct Session: Codable {
        enum Phase: String, Codable { case uploading, finalized, posting }
        var mediaID: String
        var mediaKey: String
        var segmentSize: Int64
        var userID: String
        var username: String
        var phase: Phase
        /// When X forgets the media id unless it was finalized (INIT's `expires_after_secs`), epoch seconds.
        var expiresAt: Double? = nil

        /// Past its expiry (less a margin) while still unfinished: it can never become a post.
        func lapsed(now: Date = Date()) -> Bool {
            guard phase == .uploading, let e = expiresAt else { return false }
            return now.timeIntervalSince1970 >= e - XAdapter.expiryMargin
        }
    }

    public func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome {
        var sent: Int64 = 0
        var session = job.session.flatMap(Self.decode)
        var offset: Int64 = session == nil ? 0 : job.confirmedOffset
        if let s = session, s.lapsed() { session = nil }
        if session == nil {
            session = try await start(job, checkpoint: checkpoint)
            offset = 0
        }
        guard var s = session else { throw DeliveryError(.permanent, .internalError, "no X session") }
        // At most one new upload per attempt for a refused media id: a fresh one refused too is X's answer.
        var restarted = false
        func restart(_ why: String) async throws {
            guard !restarted else { throw DeliveryError(.retryNow, .platformError, "X refused a fresh media id too (\(why))") }
            restarted = true
            s = try await start(job, checkpoint: checkpoint)
            offset = 0
        }
        var checkAfter: Double? = nil
        while s.phase == .uploading {
            if s.lapsed() { try await restart("the upload passed its expires_after_secs") }
            let reader = PinnedReader(path: job.filePath, size: job.size, expected: job.expectedSha256)
            var failures = 0
            var refused: String? = nil
            while offset < job.size, refused == nil {
                let index = Int(offset / s.segmentSize)
                let length = min(s.segmentSize, job.size - offset)
                do {
                    let chunk = try AuthorizedHTTP.readChunk(reader, from: offset, count: Int(length))
                    var form = MultipartForm()
                    form.field("segment_index", String(index))
                    form.file("media", filename: "segment-\(index)", contentType: "application/octet-stream", chunk)
                    let r = try await api.send(url: account.endpoint + "/2/media/upload/\(s.mediaID)/append", method: .POST,
                                               headers: [("Content-Type", form.contentType)], body: form.body)
                    sent += length
                    if (200..<300).contains(r.status) {
                        offset += length
                        failures = 0
                        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: offset, bytesSent: sent))
                        progress(offset, job.size)
                    } else if Self.sessionRefused(r) {
                        // An unfinished media id X no longer takes (expired, unknown): no post can come of it.
                        refused = Self.message(r)
                    } else {
                        throw classify(r, during: "sending segment \(index)")
                    }
                } catch let e as DeliveryError where e.kind == .retryNow {
                    // X keeps segments by index: the same segment again replaces whatever half of it arrived.
                    try await afterTransientFailure(e, failures: &failures)
                }
            }
            if let why = refused { try await restart(why); continue }
            let r = try await api.send(url: account.endpoint + "/2/media/upload/\(s.mediaID)/finalize", method: .POST, headers: [], body: ByteBuffer())
            guard (200..<300).contains(r.status) else {
                if Self.sessionRefused(r) { try await restart(Self.message(r)); continue }
                throw classify(r, during: "finalizing the upload")
            }
            // No processing_info: the media is ready as it is. Otherwise X says when to ask first.
            let info = ((r.json?["data"] as? [String: Any]) ?? r.json)?["processing_info"] as? [String: Any]
            checkAfter = info == nil ? 0 : (info?["check_after_secs"] as? NSNumber)?.doubleValue ?? defaultPollWait.seconds
            s.phase = .finalized
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        }
        try await waitProcessed(s, firstCheckAfter: checkAfter)
        return try await post(job, s, sent: sent, checkpoint: checkpoint)
    }

    /// Who is posting (for reconciling later), then the media upload's id — persisted before any byte.
    func start(_ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void) async throws -> Session {
        let user = try await whoIsPosting()
        try await job.beforeRequest("init")
        // `tweet_video` is an ordinary post's video; `amplify_video` is for ads (Amplify) only.
        let r = try await api.sendJSON(url: account.endpoint + "/2/media/upload/initialize", [
            "media_type": job.contentType, "total_bytes": job.size,
            "media_category": job.metadata.options["media_category"] ?? "tweet_video",
        ])
        guard (200..<300).contains(r.status), let d = r.json?["data"] as? [String: Any], let id = Self.string(d["id"]) else {
            throw classify(r, during: "initializing the upload")
        }
        let expires = (d["expires_after_secs"] as? NSNumber).map { Date().timeIntervalSince1970 + $0.doubleValue }
        let s = Session(mediaID: id, mediaKey: Self.string(d["media_key"]) ?? "", segmentSize: segmentSize, userID: user.id,
                        username: user.username, phase: .uploading, expiresAt: expires)
        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: 0, bytesSent: 0))
        return s
    }

    /// The account's user id and name: asked of `/2/users/me` once, then remembered for the process.
    func whoIsPosting() async throws -> (id: String, username: String) {
        if let known = await me.value { return known }
        let r = try await api.send(url: account.endpoint + "/2/users/me", method: .GET, headers: [], body: ByteBuffer())
        guard r.status == 200, let user = r.json?["data"] as? [String: Any], let id = user["id"] as? String else {
            throw classify(r, during: "reading the account's user id", accountRead: true)
        }
        let known = (id, user["username"] as? String ?? "")
        await me.set(known)
        return known
    }

    struct Processing {
        var state: String?
        var checkAfter: Double?
        var error: String?
    }

    func status(_ mediaID: String) async throws -> Processing? {
        let r = try await api.send(url: account.endpoint + "/2/media/upload?command=STATUS&media_id=\(mediaID)", method: .GET, headers: [], body: ByteBuffer())
        if Self.sessionRefused(r) { return nil }
        guard r.status == 200 else { throw classify(r, during: "asking for the upload's processing status") }
        let info = (r.json?["data"] as? [String: Any])?["processing_info"] as? [String: Any]
        let err = info?["error"] as? [String: Any]
        return Processing(state: info?["state"] as? String ?? "succeeded", checkAfter: (info?["check_after_secs"] as? NSNumber)?.doubleValue,
                          error: err.map { "\($0["name"] as? String ?? "error") \($0["code"].map { "\($0)" } ?? ""): \($0["message"] as? String ?? "")" })
    }

    /// STATUS until `succeeded`, each check no sooner than X said (`check_after_secs` — FINALIZE's before
    /// the first, when this attempt finalized), within the poll deadline.
    func waitProcessed(_ s: Session, firstCheckAfter: Double?) async throws {
        let end = ContinuousClock.now + pollTimeout
        if let first = firstCheckAfter {
            if first <= 0 { return }
            try await Task.sleep(for: .milliseconds(Int64(first * 1000)))
        }
        while true {
            guard let p = try await status(s.mediaID) else {
                throw DeliveryError(.retryNow, .platformError, "X no longer knows media \(s.mediaID); it is uploaded again")
            }
            switch p.state {
            case "succeeded": return
            case "failed": throw DeliveryError(.permanent, .rejectedByPlatform, "X could not process the video: \(p.error ?? "no reason given")")
            default:
                let wait = p.checkAfter.map { Duration.milliseconds(Int64(max($0, 0) * 1000)) } ?? defaultPollWait
                guard ContinuousClock.now + wait < end else {
                    throw DeliveryError(.retryNow, .platformError, "X had not finished processing after \(Int(pollTimeout.seconds)) s")
                }
                try await Task.sleep(for: wait)
            }
        }
    }

    func post(_ job: UploadJob, _ session: Session, sent: Int64, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void) async throws -> PublishOutcome {
        var s = session
        // From here a post may exist: a restart reads the account's posts before doing anything.
        s.phase = .posting
        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        var body: [String: Any] = ["text": Self.text(job.metadata), "media": ["media_ids": [s.mediaID]]]
        if let r = job.metadata.options["reply_settings"] { body["reply_settings"] = r }
        let r = try await api.sendJSON(url: account.endpoint + "/2/tweets", body)
        guard r.status == 201 || r.status == 200, let d = r.json?["data"] as? [String: Any], let id = Self.string(d["id"]) else {
            throw classify(r, during: "creating the post")
        }
        return outcome(id, s, sent)
    }

    public func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = job.session.flatMap(Self.decode) else { return .notStarted }
        if s.phase != .uploading, let id = try await findPost(s) { return .published(outcome(id, s, 0)) }
        switch s.phase {
        case .uploading:
            // Unfinished past its expiry: X has forgotten it, and no post can come of it.
            if s.lapsed() { return .notStarted }
            // X has no "how much do you hold": the confirmed segments are what the ledger kept.
            return .partial(confirmedOffset: job.confirmedOffset)
        case .finalized, .posting:
            guard let p = try await status(s.mediaID) else { return .notStarted }
            if p.state == "failed" { throw DeliveryError(.permanent, .rejectedByPlatform, "X could not process the video: \(p.error ?? "no reason given")") }
            return .processing
        }
    }

    /// A recent post of this account carrying our media: the post an uncertain `POST /2/tweets` made.
    func findPost(_ s: Session) async throws -> String? {
        guard !s.mediaKey.isEmpty else { return nil }
        let r = try await api.send(url: account.endpoint + "/2/users/\(s.userID)/tweets?max_results=100&tweet.fields=attachments,created_at",
                                   method: .GET, headers: [], body: ByteBuffer())
        guard r.status == 200 else { throw classify(r, during: "reading the account's recent posts", accountRead: true) }
        for t in r.json?["data"] as? [[String: Any]] ?? [] {
            let keys = (t["attachments"] as? [String: Any])?["media_keys"] as? [String] ?? []
            if keys.contains(s.mediaKey), let id = Self.string(t["id"]) { return id }
        }
        return nil
    }

    func outcome(_ id: String, _ s: Session, _ sent: Int64) -> PublishOutcome {
        let base = account.endpoint.contains("api.x.com") || account.endpoint.contains("api.twitter.com")
            ? "https://x.com/\(s.username.isEmpty ? "i" : s.username)/status/" : account.endpoint + "/x/status/"
        return PublishOutcome(remoteId: id, url: base + id, bytesSent: sent)
    }

    /// A media id X does not take any more (never made, expired, forgotten): 404, or a 400 — for an
    /// upload in progress X's 400 names the media id or its segments, never the caller's credentials
    /// (401), rights (403) or pace (429), so any 400 there means this id cannot go on.
    static func sessionRefused(_ r: AuthorizedHTTP.Reply) -> Bool { r.status == 404 || r.status == 400 }

    /// X's error text: a problem document (`detail`, `title`) or an `errors` array.
    static func message(_ r: AuthorizedHTTP.Reply) -> String {
        let j = r.json
        if let d = j?["detail"] as? String { return d }
        if let e = (j?["errors"] as? [[String: Any]])?.first { return e["message"] as? String ?? e["detail"] as? String ?? "\(e)" }
        return j?["title"] as? String ?? String(decoding: r.body.prefix(200), as: UTF8.self)
    }

    /// `accountRead`: a read of the account itself (`/2/users/me`, its recent posts), whose 429 is the
    /// account's window, not this upload's — every delivery of the account waits for its reset.
    func classify(_ r: AuthorizedHTTP.Reply, during: String, accountRead: Bool = false) -> DeliveryError {
        let what = "X answered \(r.status) while \(during): \(Self.message(r))"
        switch r.status {
        case 429:
            // `x-rate-limit-reset` is the epoch second the window reopens.
            var e = DeliveryError(.retryAt(RetryAfter.date(r.headers, default: 900)), .rateLimited, what, httpStatus: r.status)
            e.holdsAccount = accountRead
            return e
        case 401:
            // Still refused after the refresh AuthorizedHTTP made: the grant itself is gone.
            return DeliveryError(.reauthenticate, .authRevoked, what + "; authorize the account again", httpStatus: r.status)
        case 500...599:
            return DeliveryError(.retryNow, .platformError, what, httpStatus: r.status)
        default:
            return DeliveryError(.permanent, .rejectedByPlatform, what, httpStatus: r.status)
        }
    }

    static func string(_ v: Any?) -> String? {
        if let s = v as? String { return s }
        if let n = v as? NSNumber { return n.stringValue }
        return nil
    }
    static func decode(_ s: String) -> Session? { try? JSONDecoder().decode(Session.self, from: Data(s.utf8)) }
    static func encode(_ s: Session) -> String { String(decoding: (try? JSONEncoder().encode(s)) ?? Data(), as: UTF8.self) }
}

/// The account's X user, once known: shared by every delivery of the adapter's account.
actor XAccountCache {
    private(set) var value: (id: String, username: String)?
    func set(_ v: (id: String, username: String)) { value = v }
}

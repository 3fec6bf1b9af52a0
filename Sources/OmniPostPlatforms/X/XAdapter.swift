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
/// from the local bytes: nothing was posted with it, so nothing can be posted twice. The upload engine
/// runs these steps (`ResumableAdapter`); this file holds X's verbs and `XSegments` its APPEND transport.
package struct XAdapter: ResumableAdapter, DescribedAdapter {
    package typealias Module = XPlatform
    package let displayName = "X"
    package let settings: AdapterSettings
    let pollTimeout: Duration
    /// The wait between STATUS checks when X names none (`check_after_secs` missing).
    let defaultPollWait: Duration
    /// Who the account is, asked once per process: `/2/users/me` has its own small per-user window.
    let me = XAccountCache()
    var api: AuthorizedHTTP { settings.api }
    package var transport: XSegments { XSegments(api: settings.parts, endpoint: account.endpoint) }
    /// X names its own waits (`check_after_secs`); it documents no status rate to pace by.
    package var processing: ProcessingPoll { ProcessingPoll(policy: nil, timeout: pollTimeout) }

    /// A session this close to its `expires_after_secs` is not resumed: a segment sent now could land after it.
    static let expiryMargin: Double = 60

    package init(_ settings: AdapterSettings, pollTimeout: Duration = .seconds(600), defaultPollWait: Duration = .seconds(5)) {
        self.settings = settings
        self.pollTimeout = pollTimeout
        self.defaultPollWait = defaultPollWait
    }

    /// The post's text, composed as its profile says (title, description, then the tags as hashtags).
    static func text(_ m: PublishMetadata) -> String { m.caption(platform: "x") }

    /// The persisted remote side.
    package struct Session: Codable, PersistedSession {
        var mediaID: String
        var mediaKey: String
        var segmentSize: Int64
        var userID: String
        var username: String
        package var phase: UploadPhase?
        /// When X forgets the media id unless it was finalized (INIT's `expires_after_secs`), epoch seconds.
        var expiresAt: Double? = nil

        /// Past its expiry (less a margin) while still unfinished: it can never become a post.
        func lapsed(now: Date = Date()) -> Bool {
            guard phase == .uploading, let e = expiresAt else { return false }
            return now.timeIntervalSince1970 >= e - XAdapter.expiryMargin
        }
    }

    package func lapsed(_ s: Session) -> Bool { s.lapsed() }

    /// Who is posting, read before the upload opens (for reconciling later).
    package func prepare(_ job: UploadJob) async throws -> XUser { try await whoIsPosting() }

    /// The media upload's id (the engine persists it before any byte).
    package func start(_ job: UploadJob, _ user: XUser) async throws -> Session {
        // `tweet_video` is an ordinary post's video; `amplify_video` is for ads (Amplify) only.
        let r = try await api.send(
            url: account.endpoint + "/2/media/upload/initialize",
            json: XWire.Initialize(
                media_type: job.contentType, total_bytes: job.size, media_category: job.metadata.options["media_category"] ?? "tweet_video"))
        guard (200..<300).contains(r.status), let d = r.decoded(XWire.Envelope<XWire.Media>.self)?.data else {
            throw Self.classify(r, during: "initializing the upload")
        }
        let expires = d.expires_after_secs.map { Date().timeIntervalSince1970 + $0 }
        return Session(
            mediaID: d.id.value, mediaKey: d.media_key ?? "", segmentSize: partSize, userID: user.id,
            username: user.username, phase: .uploading, expiresAt: expires)
    }

    /// The account's user id and name: asked of `/2/users/me` once, then remembered for the process.
    func whoIsPosting() async throws -> XUser {
        if let known = await me.value { return known }
        let r = try await api.send(url: account.endpoint + "/2/users/me", method: .GET, headers: [], body: ByteBuffer())
        guard r.status == 200, let user = r.decoded(XWire.Envelope<XWire.User>.self)?.data else {
            throw Self.classify(r, during: "reading the account's user id", accountRead: true)
        }
        let known = XUser(id: user.id, username: user.username ?? "")
        await me.set(known)
        return known
    }

    /// FINALIZE. No processing_info: the media is ready as it is; otherwise X says when to ask first.
    package func finish(_ s: inout Session, _ job: UploadJob) async throws -> Processing {
        let r = try await api.send(url: account.endpoint + "/2/media/upload/\(s.mediaID)/finalize", method: .POST, headers: [], body: ByteBuffer())
        guard (200..<300).contains(r.status) else {
            if Self.sessionRefused(r) { throw SessionGone(Self.message(r)) }
            throw Self.classify(r, during: "finalizing the upload")
        }
        let reply = r.decoded(XWire.Envelope<XWire.Media>.self)
        guard let info = reply?.data?.processing_info ?? reply?.processing_info else { return .ready }
        return .pending(after: info.check_after_secs.map(Self.seconds) ?? defaultPollWait)
    }

    /// STATUS, each check no sooner than X said (`check_after_secs`).
    package func status(_ s: Session, _ job: UploadJob) async throws -> Processing {
        let r = try await api.send(url: account.endpoint + "/2/media/upload?command=STATUS&media_id=\(s.mediaID)", method: .GET, headers: [], body: ByteBuffer())
        if Self.sessionRefused(r) {
            return .failed(DeliveryError(.retryNow, .platformError, "X no longer knows media \(s.mediaID); it is uploaded again"))
        }
        guard r.status == 200 else { throw Self.classify(r, during: "asking for the upload's processing status") }
        let info = r.decoded(XWire.Envelope<XWire.Media>.self)?.data?.processing_info
        switch info?.state ?? "succeeded" {
        case "succeeded": return .ready
        case "failed": return .failed(DeliveryError(.permanent, .rejectedByPlatform, "X could not process the video: \(info?.error?.text ?? "no reason given")"))
        default: return .pending(after: info?.check_after_secs.map(Self.seconds) ?? defaultPollWait)
        }
    }

    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        let r = try await api.send(
            url: account.endpoint + "/2/tweets",
            json: XWire.Post(
                text: Self.text(job.metadata), media: .init(media_ids: [s.mediaID]), reply_settings: job.metadata.options["reply_settings"]))
        guard r.status == 201 || r.status == 200, let d = r.decoded(XWire.Envelope<XWire.Tweet>.self)?.data else {
            throw Self.classify(r, during: "creating the post")
        }
        return outcome(d.id.value, s, 0)
    }

    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        if s.phase != .uploading, let id = try await findPost(s) { return .published(outcome(id, s, 0)) }
        switch s.phase ?? .uploading {
        case .uploading:
            // Unfinished past its expiry: X has forgotten it, and no post can come of it.
            if s.lapsed() { return .notStarted }
            // X has no "how much do you hold": the confirmed segments are what the ledger kept.
            return .partial(confirmedOffset: job.confirmedOffset)
        case .finalized, .posting:
            switch try await status(s, job) {
            case .failed(let e) where e.kind == .permanent: throw e
            case .failed: return .notStarted
            default: return .processing
            }
        }
    }

    /// A recent post of this account carrying our media: the post an uncertain `POST /2/tweets` made.
    func findPost(_ s: Session) async throws -> String? {
        guard !s.mediaKey.isEmpty else { return nil }
        let r = try await api.send(
            url: account.endpoint + "/2/users/\(s.userID)/tweets?max_results=100&tweet.fields=attachments,created_at",
            method: .GET, headers: [], body: ByteBuffer())
        guard r.status == 200 else { throw Self.classify(r, during: "reading the account's recent posts", accountRead: true) }
        let tweets = r.decoded(XWire.Envelope<[XWire.Tweet]>.self)?.data ?? []
        return tweets.first { $0.attachments?.media_keys?.contains(s.mediaKey) == true }?.id.value
    }

    func outcome(_ id: String, _ s: Session, _ sent: Int64) -> PublishOutcome {
        let base =
            account.endpoint.contains("api.x.com") || account.endpoint.contains("api.twitter.com")
            ? "https://x.com/\(s.username.isEmpty ? "i" : s.username)/status/" : account.endpoint + "/x/status/"
        return PublishOutcome(remoteId: id, url: base + id, bytesSent: sent)
    }

    static func seconds(_ s: Double) -> Duration { .milliseconds(Int64(max(s, 0) * 1000)) }

    /// A media id X does not take any more (never made, expired, forgotten): 404, or a 400 — for an
    /// upload in progress X's 400 names the media id or its segments, never the caller's credentials
    /// (401), rights (403) or pace (429), so any 400 there means this id cannot go on.
    static func sessionRefused(_ r: AuthorizedHTTP.Reply) -> Bool { r.status == 404 || r.status == 400 }

    /// X's error text: a problem document (`detail`, `title`) or an `errors` array.
    static func message(_ r: AuthorizedHTTP.Reply) -> String {
        let p = r.decoded(XWire.Problem.self)
        if let d = p?.detail { return d }
        if let e = p?.errors?.first { return e.message ?? e.detail ?? "\(e)" }
        return p?.title ?? String(decoding: r.body.prefix(200), as: UTF8.self)
    }

    /// `accountRead`: a read of the account itself (`/2/users/me`, its recent posts), whose 429 is the
    /// account's window, not this upload's — every delivery of the account waits for its reset.
    static func classify(_ r: AuthorizedHTTP.Reply, during: String, accountRead: Bool = false) -> DeliveryError {
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
}

/// The account's X user, as `/2/users/me` names it.
package struct XUser: Sendable {
    var id: String
    var username: String
}

/// The account's X user, once known: shared by every delivery of the adapter's account.
actor XAccountCache {
    private(set) var value: XUser?
    func set(_ v: XUser) { value = v }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import OmniPostCore

/// Reddit (PLATFORMS.md § Reddit): the video and a poster image each leased and form-POSTed to the
/// media host, then `POST /api/submit` with `kind=video`, then the result on the asset's WebSocket.
/// The upload engine runs these steps (`ResumableAdapter`): `prepare` moves the bytes to the media host
/// Reddit fetches them from (as Threads' does), the session is born `uploaded` with their addresses,
/// and `post` submits and hears how it ended (`RedditSubmit`).
///
/// Exactly once: the media addresses are persisted before the submit, and the session says
/// `submitting` before the submit leaves. Reddit has no idempotency key; an uncertain submit (killed
/// before its answer was stored, a dropped connection) is settled by reading the account's submitted
/// posts for the video's asset — or, failing that, its title in its subreddit since the submit — and
/// is waited for while Reddit may still be processing it. It is never submitted again: a submit whose
/// post has not shown after `settleWindow` fails as `uncertain_post` for a person to look at. An
/// answered submit that carries `json.errors` made no post, and goes back to `uploaded`.
package struct RedditAdapter: ResumableAdapter, SettingsBacked {
    package let platform = "reddit"
    package let displayName = "Reddit"
    package let settings: AdapterSettings
    let window = RedditWindow()
    /// How long the WebSocket may take to say how the post ended.
    let resultTimeout: Duration
    /// How long an uncertain submit's post is looked for before a person is asked.
    let settleWindow: Duration
    let poll: PollPolicy
    package var account: AccountConfig { settings.account }
    package var schedulesNatively: Bool { false }

    package init(
        _ settings: AdapterSettings, resultTimeout: Duration = .seconds(600), settleWindow: Duration = .seconds(900),
        poll: PollPolicy = PollPolicy(first: .seconds(5), max: .seconds(60), perMinute: 20)
    ) {
        self.settings = settings
        self.resultTimeout = resultTimeout
        self.settleWindow = settleWindow
        self.poll = poll
    }

    var reddit: RedditAPI {
        RedditAPI(api: settings.api, base: account.endpoint, userAgent: RedditPlatform.userAgent(for: account) ?? Product.userAgent, window: window)
    }

    /// The bytes went to the media host in `prepare`: nothing is left to send in the session.
    package var transport: NothingToSend<Session> { NothingToSend() }
    /// Reddit processes after the submit and says how it went on the WebSocket (`post` listens): nothing
    /// to wait for before it.
    package var processing: ProcessingPoll { ProcessingPoll(policy: nil, timeout: resultTimeout) }
    /// The metered request is the submit (Reddit's posting window), counted by `post` right before it leaves.
    package var metersStart: Bool { false }
    /// `post` is bounded by its own windows (`resultTimeout`, `settleWindow`) while it listens and reads.
    package func verbTimeout(_ verb: UploadVerb) -> Duration? { verb == .post ? nil : settings.verbTimeout ?? settings.requestTimeout * 3 }

    /// The subreddit a drop goes to: its override, else the account's.
    func subreddit(_ m: PublishMetadata) -> String? {
        (m.options["subreddit"] ?? (try? account.text("subreddit"))).flatMap(RedditPlatform.subredditName)
    }

    /// The subreddit's spelling (its presence, the title's limits and the flags' values are data).
    package func platformChecks(_ m: PublishMetadata) -> OmniError? {
        if let raw = m.options["subreddit"], RedditPlatform.subredditName(raw) == nil {
            return OmniError(.invalidValue, "reddit subreddit '\(Excerpt.quote(raw))' is not a subreddit name (3–21 letters, digits or _)")
        }
        return nil
    }

    /// The persisted remote side. Its `phase` key holds Reddit's own steps (`step`), as it always has.
    package struct Session: Codable, PersistedSession {
        /// `failed`: Reddit said (on the asset's WebSocket) that it could not process the video — no post came
        /// of it, for sure; kept so that a reconcile can say so (and a person's retry uploads anew).
        enum Step: String, Codable { case uploading, uploaded, submitting, submitted, failed }
        var username: String
        var subreddit: String
        var title: String
        var assetID: String?
        var videoURL: String?
        var posterURL: String?
        var websocketURL: String?
        /// When the submit left (epoch seconds): posts made since then are candidates.
        var submittedAt: Double?
        var step: Step
        /// What Reddit said when its processing failed.
        var failure: String? = nil

        enum CodingKeys: String, CodingKey {
            case username, subreddit, title, assetID, videoURL, posterURL, websocketURL, submittedAt, failure
            case step = "phase"
        }

        /// The engine's phase: `uploaded` is `finalized` (every byte with the media host), a submit left
        /// or answered is `posting`. The engine's own `posting` mark changes nothing: `post` writes
        /// `submitting` itself once its socket is open and its window spent, right before the submit
        /// leaves — a restart before that submits, one after it never does.
        package var phase: UploadPhase? {
            get {
                switch step {
                case .uploading: .uploading
                case .uploaded: .finalized
                case .submitting, .submitted, .failed: .posting
                }
            }
            set {
                switch newValue {
                case .uploading?: step = .uploading
                case .finalized?: step = .uploaded
                case .posting?, nil: break
                }
            }
        }
    }

    /// What `prepare` moved to the media host: the video and its poster, and who is posting where.
    package struct Uploads: MovesBytes {
        var username: String
        var subreddit: String
        var video: RedditMedia.Uploaded
        var posterURL: String
        package var bytesMoved: Int64
    }

    /// Who is posting and where, then the video and its poster leased and form-POSTed to the media host.
    /// A lease's upload made no post: a cut one is leased and sent again (`PartRetry`, the engine's one
    /// in-attempt retry); a poster that needs another try does not send the video again.
    package func prepare(_ job: UploadJob) async throws -> Uploads {
        guard let sr = subreddit(job.metadata) else { throw DeliveryError(.permanent, .invalidValue, "no subreddit to post to") }
        let name = try await username()
        let clip = try Self.pin(job)
        let media = RedditMedia(reddit: reddit, uploads: settings.uploads, timeout: settings.requestTimeout)
        var retry = PartRetry(settings)
        let stem = ((job.drop?.stem ?? (job.filePath as NSString).lastPathComponent) as NSString).deletingPathExtension
        let video = try await retry.idempotent {
            try await media.upload(.pinned(clip), name: Self.fileName(stem) + ".mp4", mimetype: job.contentType)
        }
        let poster = try await retry.idempotent {
            try await media.upload(.path(try posterPath(job)), name: "poster.jpg", mimetype: "image/jpeg")
        }
        return Uploads(username: name, subreddit: sr, video: video, posterURL: poster.url, bytesMoved: job.size)
    }

    /// The session, born `uploaded`: the engine persists it (with every byte held) before the submit.
    package func start(_ job: UploadJob, _ up: Uploads) async throws -> Session {
        Session(
            username: up.username, subreddit: up.subreddit, title: job.metadata.title, assetID: up.video.assetID, videoURL: up.video.url,
            posterURL: up.posterURL, websocketURL: up.video.websocketURL, step: .uploaded)
    }

    /// Only `post(_:_:uploaded:save:)` is called by the engine: Reddit's submit checkpoints on its way.
    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        try await post(s, job, uploaded: uploaded, save: SessionSave { _ in })
    }

    /// The submit, for a session that has not sent one; for one that did (a restart, a lost answer), how
    /// it ended — listening on the asset's WebSocket again and reading the account's posts, never
    /// submitting again.
    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded, save: SessionSave<Session>) async throws -> PublishOutcome {
        switch s.step {
        case .uploading:
            throw DeliveryError(.retryNow, .internalError, "the session has no uploaded media")
        case .uploaded:
            return try await submit(job, s, save: save)
        case .submitting, .submitted:
            return try await RedditResultSocket.listening(to: s.websocketURL, tls: settings.tls) { socket in
                try await settle(s, socket: socket, save: save)
            }
        case .failed:
            throw Self.failedError(s)
        }
    }

    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        switch s.step {
        case .uploading: return .notStarted
        case .uploaded: return .processing
        case .failed: throw Self.failedError(s)
        case .submitting, .submitted:
            let found: Found?
            do { found = try await findPost(s) } catch let e as DeliveryError where e.kind != .retryNow {
                // A submit that left may be a post: reading the posts failing is tried again later, never
                // taken for a dead session (the engine replaces one reconcile fails permanently).
                throw DeliveryError(.retryNow, e.code, e.message, httpStatus: e.httpStatus)
            }
            if let found { return .published(outcome(found)) }
            // A person retried the delivery this submit failed (uncertain, or taken and never shown), having
            // looked at the account, and its window is over: still no post, so the session is given up and the
            // video posted anew — settling it again would only end where it ended, a retry that goes nowhere.
            // Within the window (a delivery that failed reading the posts) the settling goes on.
            let window = s.step == .submitting ? settleWindow : resultTimeout
            if job.sessionReuse != .resume, Date().timeIntervalSince1970 >= (s.submittedAt ?? 0) + window.seconds {
                throw s.step == .submitting ? uncertain(s) : Self.neverShown(s)
            }
            return .processing
        }
    }

    func username() async throws -> String {
        let r = try await reddit.send("/api/v1/me")
        guard r.status == 200, let me = r.decoded(RedditWire.Me.self) else { throw reddit.failure(r, during: "reading who the account is") }
        return me.name
    }

    /// The poster: the drop's cover, else a frame the convert stage took (Reddit requires one).
    func posterPath(_ job: UploadJob) throws -> String {
        guard let p = job.coverPath, FileManager.default.fileExists(atPath: p) else {
            throw DeliveryError(.permanent, .internalError, "a Reddit video post needs a poster image and this delivery has none")
        }
        return p
    }

    /// The whole file is sent in one request: opened once without following a link (`PinnedFile`), its
    /// size and recorded digest checked through that descriptor, and sent from it — as Bluesky, Webhook
    /// and Command hand on theirs. It was hashed by its name, so a name swapped after it was taken (for a
    /// link to a file of the same bytes, or between the check and the send) was hashed, not refused.
    static func pin(_ job: UploadJob) throws -> PinnedFile {
        do { return try PinnedFile(path: job.filePath, size: job.size, expected: job.changeCheck) } catch let e as OmniError {
            throw DeliveryError(.permanent, e.code == .sourceChanged ? .sourceChanged : .unreadable, e.message)
        }
    }

    /// A name the lease takes: letters, digits, `-` and `_`.
    static func fileName(_ stem: String) -> String {
        let s = String(stem.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(80))
        return s.isEmpty ? "video" : s
    }
}

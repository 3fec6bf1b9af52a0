import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// Facebook Page Reels (PLATFORMS.md § Facebook Page Reels): the Page's token from the user's
/// long-lived one → `video_reels` `upload_phase=start` → bytes to `rupload.facebook.com/video-upload/{v}/{id}`
/// → `upload_phase=finish` with `video_state` PUBLISHED, or SCHEDULED with `scheduled_publish_time`
/// (the Page publishes it then, as YouTube's publishAt) → the video's `status` until published.
///
/// Exactly once: the video id is persisted before any byte, confirmed bytes after each chunk, and the
/// phase before `finish` (the request that makes the post). After a crash the video's own status says
/// what happened: how many bytes arrived (`uploading_phase.bytes_transferred`), and whether `finish`
/// was taken (`publishing_phase`) — a finish is sent again only when it never arrived.
public struct FacebookAdapter: PlatformAdapter, SettingsBacked {
    public let platform = "facebook"
    let settings: AdapterSettings
    let chunkSize: Int64
    let poll: PollPolicy
    let pollTimeout: Duration
    public var account: AccountConfig { settings.account }
    var graph: GraphAPI { GraphAPI(settings: settings, name: "Facebook") }

    public static let statusPolling = PollPolicy(first: .seconds(3), max: .seconds(15), factor: 1.5, perMinute: 20)

    public init(_ settings: AdapterSettings, poll: PollPolicy = FacebookAdapter.statusPolling, pollTimeout: Duration = .seconds(900)) {
        self.settings = settings
        self.chunkSize = min(max(settings.chunkSize, 256 * 1024), 64 * 1_048_576)
        self.poll = poll
        self.pollTimeout = pollTimeout
    }

    public var schedulesNatively: Bool { FacebookPlatform.descriptor.capabilities.nativeScheduling }

    /// How far ahead a Page schedules (its privacy and the description's limit are data).
    public func platformChecks(_ m: PublishMetadata) -> OmniError? {
        if let at = m.publishAt {
            // A Page schedules between 10 minutes and 75 days ahead.
            let ahead = at.timeIntervalSinceNow
            if ahead > 75 * 86400 { return OmniError(.invalidValue, "a Facebook reel can be scheduled at most 75 days ahead; publish_at is \(Int(ahead / 86400)) days away") }
        }
        return nil
    }

    static func description(_ m: PublishMetadata) -> String { m.caption(platform: "facebook") }

    struct Session: Codable {
        enum Phase: String, Codable { case uploading, finishing, finished }
        var video: String
        var page: String
        var phase: Phase
    }

    /// The Page (`id:` under the account, or else the user's first Page) and its access token, asked for
    /// with the user's token.
    func pageToken() async throws -> (page: String, token: String) {
        guard !account.accountID.isEmpty else {
            let r = try await graph.call(.GET, "/me/accounts", [("fields", "id,name,access_token")])
            guard r.status == 200, let first = (r.json?["data"] as? [[String: Any]])?.first,
                  let id = first["id"] as? String, let t = first["access_token"] as? String else {
                if r.status == 200 { throw DeliveryError(.permanent, .configInvalid, "\(account.key): the token's user manages no Page; name one with `id:` under accounts:") }
                throw graph.classify(r, during: "listing the user's Pages")
            }
            return (id, t)
        }
        let r = try await graph.call(.GET, "/\(account.accountID)", [("fields", "access_token")])
        guard r.status == 200, let t = r.json?["access_token"] as? String else { throw graph.classify(r, during: "reading the Page's access token") }
        return (account.accountID, t)
    }

    public func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome {
        var sent: Int64 = 0
        let (page, token) = try await pageToken()
        var s: Session
        var offset: Int64 = 0
        if let resumed = job.session.flatMap(Self.decode) { s = resumed; offset = job.confirmedOffset } else {
            try await job.beforeRequest("init")
            let r = try await graph.call(.POST, "/\(page)/video_reels", [("upload_phase", "start")], as: token)
            guard r.status == 200, let id = r.json?["video_id"] as? String else { throw graph.classify(r, during: "starting the reel's upload") }
            s = Session(video: id, page: page, phase: .uploading)
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: 0, bytesSent: 0))
        }
        if s.phase == .uploading {
            let session = s
            // After a failure the video's status says how many bytes arrived: continue from there.
            sent += try await graph.ruploadFile("/video-upload/\(GraphAPI.version)/\(s.video)", job, from: offset, chunkSize: chunkSize, as: token,
                                                held: { try? await status(session.video, token)?.bytes }) { o, soFar in
                try await checkpoint(UploadCheckpoint(session: Self.encode(session), confirmedOffset: o, bytesSent: soFar))
                progress(o, job.size)
            }
            s.phase = .finishing
        }
        if s.phase == .finishing, job.session != nil, let st = try await status(s.video, token), st.finishArrived {
            // Resumed after `finish` left: it arrived (the video processes or publishes), so it is not sent again.
            s.phase = .finished
        }
        if s.phase == .finishing {
            // From here a post may exist: the phase is stored before `finish` leaves.
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
            let m = job.metadata
            var params = [("upload_phase", "finish"), ("video_id", s.video), ("description", Self.description(m)), ("title", m.title)]
            if let at = m.publishAt, at.timeIntervalSinceNow > 600 {
                params += [("video_state", "SCHEDULED"), ("scheduled_publish_time", String(Int(at.timeIntervalSince1970)))]
            } else {
                params.append(("video_state", "PUBLISHED"))
            }
            let r = try await graph.call(.POST, "/\(s.page)/video_reels", params, as: token)
            guard r.status == 200, r.json?["success"] as? Bool == true else {
                // Refused: read what the video says before failing — a finish that arrived earlier (its reply
                // lost) made the reel, and the refusal of a second is no failure of the post.
                if (400..<500).contains(r.status), GraphAPI.code(r) != 190, let st = try? await status(s.video, token), st.finishArrived {
                    s.phase = .finished
                    try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
                    return try await waitPublished(s, token, sent)
                }
                throw graph.classify(r, during: "finishing the reel")
            }
            s.phase = .finished
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        }
        return try await waitPublished(s, token, sent)
    }

    struct Status {
        var videoStatus: String
        var bytes: Int64
        var processing: String
        var publishing: String
        var publishStatus: String?
        var error: String?

        /// Whether `finish` reached Facebook: the video went on to processing or publishing (publishing
        /// stays not_started until processing is done, so it alone cannot say).
        var finishArrived: Bool {
            processing != "not_started" || publishing != "not_started" || publishStatus == "scheduled"
                || ["processing", "ready", "error"].contains(videoStatus)
        }
    }

    func status(_ video: String, _ token: String) async throws -> Status? {
        let r = try await graph.call(.GET, "/\(video)", [("fields", "status")], as: token)
        if GraphAPI.code(r) == 100 || r.status == 404 { return nil }
        guard r.status == 200, let st = r.json?["status"] as? [String: Any] else { throw graph.classify(r, during: "reading the reel's status") }
        let up = st["uploading_phase"] as? [String: Any], pub = st["publishing_phase"] as? [String: Any]
        let err = (st["processing_phase"] as? [String: Any])?["error"] as? [String: Any]

        let proc = st["processing_phase"] as? [String: Any]
        return Status(videoStatus: st["video_status"] as? String ?? "", bytes: (up?["bytes_transferred"] as? NSNumber)?.int64Value ?? 0,
                      processing: proc?["status"] as? String ?? "not_started",
                      publishing: pub?["status"] as? String ?? "not_started", publishStatus: pub?["publish_status"] as? String,
                      error: err?["message"] as? String)
    }

    func waitPublished(_ s: Session, _ token: String, _ sent: Int64) async throws -> PublishOutcome {
        let end = ContinuousClock.now + pollTimeout
        var pacer = poll.pacer()
        while ContinuousClock.now < end {
            try await pacer.pace()
            guard let st = try await status(s.video, token) else { throw DeliveryError(.retryNow, .platformError, "Facebook no longer knows video \(s.video)") }
            if st.videoStatus == "error" { throw DeliveryError(.permanent, .rejectedByPlatform, "Facebook could not process the reel: \(st.error ?? "no reason given")") }
            if st.publishing == "complete" || st.publishStatus == "scheduled" { return outcome(s, sent) }
        }
        throw DeliveryError(.retryNow, .platformError, "Facebook had not published the reel after \(Int(pollTimeout.seconds)) s")
    }

    public func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = job.session.flatMap(Self.decode) else { return .notStarted }
        let (_, token) = try await pageToken()
        guard let st = try await status(s.video, token) else { return .notStarted }
        if st.videoStatus == "error" { throw DeliveryError(.permanent, .rejectedByPlatform, "Facebook could not process the reel: \(st.error ?? "no reason given")") }
        if st.publishing == "complete" || st.publishStatus == "scheduled" { return .published(outcome(s, 0)) }
        switch s.phase {
        case .uploading: return .partial(confirmedOffset: max(st.bytes, job.confirmedOffset))
        // `finish` may or may not have arrived: publishing_phase says. Not started: it never arrived, send it.
        case .finishing, .finished: return .processing
        }
    }

    func outcome(_ s: Session, _ sent: Int64) -> PublishOutcome {
        let base = account.endpoint.contains("graph.facebook.com") ? "https://www.facebook.com/reel/" : account.endpoint + "/facebook/reel/"
        return PublishOutcome(remoteId: s.video, url: base + s.video, bytesSent: sent)
    }

    static func decode(_ s: String) -> Session? { try? JSONDecoder().decode(Session.self, from: Data(s.utf8)) }
    static func encode(_ s: Session) -> String { String(decoding: (try? JSONEncoder().encode(s)) ?? Data(), as: UTF8.self) }
}

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
/// was taken (`publishing_phase`) — a finish is sent again only when it never arrived. The upload engine
/// runs these steps (`ResumableAdapter`) over Meta's rupload transport (`GraphRupload`); `finish` is
/// the post, and the video's status is polled after it.
package struct FacebookAdapter: ResumableAdapter, DescribedAdapter {
    package typealias Module = FacebookPlatform
    package let displayName = "Facebook"
    package let settings: AdapterSettings
    /// Nothing is processed between the bytes and `finish`; the reel's publishing is polled after it.
    package let processing: ProcessingPoll
    var graph: GraphAPI { GraphAPI(settings: settings, name: "Facebook") }
    /// After a cut chunk the video's status says how many bytes arrived: continue from there.
    package var transport: GraphRupload<Session> {
        GraphRupload(graph: graph, chunkSize: partSize, held: { [self] s in try? await status(s.video, s.token ?? "")?.bytes })
    }

    /// `poll`: instead of the descriptor's status pace (tests).
    package init(_ settings: AdapterSettings, poll: PollPolicy? = nil, pollTimeout: Duration = .seconds(900)) {
        self.settings = settings
        self.processing = Self.polling(poll, timeout: pollTimeout)
    }

    static func description(_ m: PublishMetadata) -> String { m.caption(platform: "facebook") }

    /// The video, its Page, and where it stands — in Facebook's own words for the phases (`uploading`,
    /// `finishing` before the request that makes the post, `finished` after it), as the ledger has always
    /// held them. The Page's token is asked for by each attempt and never persisted.
    package struct Session: Codable, RuploadSession {
        var video: String
        var page: String
        var stage: PhaseWord<Words>
        var token: String? = nil
        enum CodingKeys: String, CodingKey { case video, page, stage = "phase" }
        package var phase: UploadPhase? {
            get { stage.phase }
            set { stage.phase = newValue ?? .uploading }
        }
        package var ruploadPath: String { "/video-upload/\(GraphAPI.version)/\(video)" }
        package var ruploadToken: String? { token }

        package enum Words: PhaseVocabulary {
            package static let read: [String: UploadPhase] = ["uploading": .uploading, "finishing": .posting, "finished": .posting]
            package static let written: [UploadPhase: String] = [.uploading: "uploading", .finalized: "finishing", .posting: "finishing"]
        }
    }

    /// The Page and its access token.
    package struct PageAccess: Sendable {
        var page: String
        var token: String
    }

    /// The Page (`id:` under the account, or else the user's first Page) and its access token, asked for
    /// with the user's token.
    func pageToken() async throws -> PageAccess {
        guard !account.accountID.isEmpty else {
            let r = try await graph.call(.GET, "/me/accounts", [("fields", "id,name,access_token")])
            guard r.status == 200, let first = r.decoded(FacebookWire.Pages.self)?.data?.first, let id = first.id, let t = first.access_token else {
                if r.status == 200 { throw DeliveryError(.permanent, .configInvalid, "\(account.key): the token's user manages no Page; name one with `id:` under accounts:") }
                throw graph.classify(r, during: "listing the user's Pages")
            }
            return PageAccess(page: id, token: t)
        }
        let r = try await graph.call(.GET, "/\(account.accountID)", [("fields", "access_token")])
        guard r.status == 200, let t = r.decoded(FacebookWire.Page.self)?.access_token else { throw graph.classify(r, during: "reading the Page's access token") }
        return PageAccess(page: account.accountID, token: t)
    }

    package func prepare(_ job: UploadJob) async throws -> PageAccess { try await pageToken() }

    /// `upload_phase=start` with the Page's token: the video id, persisted by the engine before any byte.
    package func start(_ job: UploadJob, _ p: PageAccess) async throws -> Session {
        let r = try await graph.call(.POST, "/\(p.page)/video_reels", [("upload_phase", "start")], as: p.token)
        guard r.status == 200, let id = r.decoded(FacebookWire.Started.self)?.video_id else { throw graph.classify(r, during: "starting the reel's upload") }
        return Session(video: id, page: p.page, stage: PhaseWord(.uploading), token: p.token)
    }

    /// A resumed upload asks for the Page's token again (it is never persisted).
    package func resume(_ s: inout Session, _ job: UploadJob) async throws -> Int64? {
        s.token = try await pageToken().token
        return job.confirmedOffset
    }

    /// `upload_phase=finish` — the request that makes the post (its phase is stored before it leaves) —
    /// then the reel's status until published. Resumed after a finish left, the video's status says
    /// whether it arrived: it is sent again only when it never did.
    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        var token = s.token ?? ""
        if s.token == nil { token = try await pageToken().token }
        var arrived = false
        if job.session != nil { arrived = try await status(s.video, token)?.finishArrived ?? false }
        if !arrived {
            let m = job.metadata
            var params = [("upload_phase", "finish"), ("video_id", s.video), ("description", Self.description(m)), ("title", m.title)]
            // Nearer than a Page schedules (the descriptor's window), it is published now.
            if let at = m.publishAt, FacebookPlatform.descriptor.facts.schedule?.schedules(at) == true {
                params += [("video_state", "SCHEDULED"), ("scheduled_publish_time", String(Int(at.timeIntervalSince1970)))]
            } else {
                params.append(("video_state", "PUBLISHED"))
            }
            let r = try await graph.call(.POST, "/\(s.page)/video_reels", params, as: token)
            if r.status != 200 || r.decoded(FacebookWire.Finished.self)?.success != true {
                // Refused: read what the video says before failing — a finish that arrived earlier (its reply
                // lost) made the reel, and the refusal of a second is no failure of the post.
                var earlier = false
                if (400..<500).contains(r.status), GraphAPI.code(r) != 190 { earlier = (try? await status(s.video, token))?.finishArrived == true }
                guard earlier else { throw graph.classify(r, during: "finishing the reel") }
            }
        }
        var poll = processing
        poll.timeoutMessage = "Facebook had not published the reel"
        guard let out = try await poll.wait(.pending(after: nil), platform: displayName, status: { try await published(s, token) }) else {
            throw DeliveryError(.retryNow, .platformError, "Facebook said the reel is published without naming it")
        }
        return out
    }

    /// The reel's publishing, as the engine's poll reads it.
    func published(_ s: Session, _ token: String) async throws -> Processing {
        guard let st = try await status(s.video, token) else { return .failed(DeliveryError(.retryNow, .platformError, "Facebook no longer knows video \(s.video)")) }
        if st.videoStatus == "error" { return .failed(Self.processingFailed(st)) }
        if st.publishing == "complete" || st.publishStatus == "scheduled" { return .published(outcome(s)) }
        return .pending(after: nil)
    }

    /// Facebook's Video API error table says "Retry upload" for 1363019 ("There was a problem uploading
    /// your video. Please try uploading it again."): the reel never became a post, so the next attempt
    /// uploads it anew (`reconcile` answers not started). Every other processing error is final, in
    /// Facebook's words. The post (`finish`) is asked before processing, so this is the upload stage's
    /// next attempt, not a new session within this one.
    static let uploadAgainCodes: Set<Int> = [1363019]

    static func processingFailed(_ st: Status) -> DeliveryError {
        let said = "Facebook could not process the reel: \(st.error ?? "no reason given")" + (st.errorCode.map { " (\($0))" } ?? "")
        if let code = st.errorCode, uploadAgainCodes.contains(code) {
            return DeliveryError(.retryNow, .platformError, said + "; Facebook says to upload it again")
        }
        return DeliveryError(.permanent, .rejectedByPlatform, said)
    }

    struct Status {
        var videoStatus: String
        var bytes: Int64
        var processing: String
        var publishing: String
        var publishStatus: String?
        var error: String?
        var errorCode: Int? = nil

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
        guard r.status == 200, let st = r.decoded(FacebookWire.Video.self)?.status else { throw graph.classify(r, during: "reading the reel's status") }
        return Status(
            videoStatus: st.video_status ?? "", bytes: st.uploading_phase?.bytes_transferred.flatMap { Int64($0.value) } ?? 0,
            processing: st.processing_phase?.status ?? "not_started",
            publishing: st.publishing_phase?.status ?? "not_started", publishStatus: st.publishing_phase?.publish_status,
            error: (st.processing_phase?.errors?.first ?? st.processing_phase?.error)?.message,
            errorCode: st.processing_phase?.errors?.first?.code)
    }

    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        let token = try await pageToken().token
        guard let st = try await status(s.video, token) else { return .notStarted }
        if st.videoStatus == "error" {
            // A processing error Facebook says to upload again after made no post: started afresh.
            if let code = st.errorCode, Self.uploadAgainCodes.contains(code) { return .notStarted }
            throw Self.processingFailed(st)
        }
        if st.publishing == "complete" || st.publishStatus == "scheduled" { return .published(outcome(s)) }
        switch s.phase ?? .uploading {
        case .uploading: return .partial(confirmedOffset: max(st.bytes, job.confirmedOffset))
        // `finish` may or may not have arrived: publishing_phase says. Not started: it never arrived, send it.
        case .finalized, .posting: return .processing
        }
    }

    func outcome(_ s: Session) -> PublishOutcome {
        let base = account.endpoint.contains("graph.facebook.com") ? "https://www.facebook.com/reel/" : account.endpoint + "/facebook/reel/"
        return PublishOutcome(remoteId: s.video, url: base + s.video, bytesSent: 0)
    }
}

/// The bodies of the Graph API's Pages and video_reels endpoints.
enum FacebookWire {
    struct Page: Decodable {
        var id: String?
        var access_token: String?
    }

    struct Pages: Decodable { var data: [Page]? }
    struct Started: Decodable { var video_id: String? }
    struct Finished: Decodable { var success: Bool? }

    struct Video: Decodable {
        struct Phase: Decodable {
            struct Failure: Decodable { var code: Int?, message: String? }
            var status: String?
            var publish_status: String?
            var bytes_transferred: LooseString?
            var error: Failure?
            var errors: [Failure]?  // a failed phase's VideoStatusErrors
        }
        struct Status: Decodable {
            var video_status: String?
            var uploading_phase: Phase?
            var processing_phase: Phase?
            var publishing_phase: Phase?
        }
        var status: Status?
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
import OmniPostWire

/// Posts a video to Bluesky, on the upload engine (`ResumableAdapter`): the upload limits are read
/// first (`prepare`); the session is a record key (a TID) chosen before anything is sent, so the post
/// can always be found; the video goes whole to the video service (`BlueskyVideoUpload`); the job is
/// polled until its blob is ready (`status`, which keeps the blob in the session, checkpointed); then
/// the record is made under that key (`post`). A restart asks `getRecord` for the key (then the
/// account's recent posts for the video's blob) before anything — never posts blind — and goes on from
/// the blob or the job, never uploading a video the service still has. The record key makes the post
/// itself findable and unrepeatable, so the session needs no phase of the engine's.
struct BlueskyAdapter: ResumableAdapter, SettingsBacked {
    let settings: AdapterSettings
    let platform = "bluesky"
    let displayName = "Bluesky"
    var schedulesNatively: Bool { false }
    let session: BlueskySession
    let poll: PollPolicy
    let pollTimeout: Duration

    init(_ settings: AdapterSettings, poll: PollPolicy = PollPolicy(first: .seconds(1), max: .seconds(5), factor: 1.5, perMinute: 60), pollTimeout: Duration = .seconds(1800)) {
        self.settings = settings
        self.poll = poll
        self.pollTimeout = pollTimeout
        let a = settings.account
        session = BlueskySession(
            pds: Self.trim(a.endpoint), identifier: (try? a.text("handle")) ?? "", password: (try? a.text("app_password")) ?? "",
            http: settings.uploads, timeout: settings.requestTimeout, store: settings.tokens.store, account: a.key)
    }

    static func trim(_ s: String) -> String { s.hasSuffix("/") ? String(s.dropLast()) : s }
    var pds: String { Self.trim(settings.account.endpoint) }
    var videoService: String { Self.trim(((try? settings.account.text("video_service")) ?? nil) ?? "https://video.bsky.app") }
    var xrpc: BlueskyXRPC { BlueskyXRPC(session: session, http: settings.uploads, timeout: settings.requestTimeout) }

    var transport: BlueskyVideoUpload { BlueskyVideoUpload(xrpc: xrpc, pds: pds, videoService: videoService) }
    var processing: ProcessingPoll {
        var p = ProcessingPoll(policy: poll, timeout: pollTimeout)
        p.timeoutMessage = "Bluesky's video service had not finished the job"
        return p
    }

    /// What the checkpoint holds: the record key, then the job, then the blob (its JSON, kept whole).
    struct Session: Codable, PersistedSession {
        var rkey: String
        var jobId: String? = nil
        var blob: String? = nil
        /// When the delivery began: an older post with the same video is another delivery's.
        var started: Date = Date()
    }

    func text(_ m: PublishMetadata) -> String { m.caption(platform: platform) }

    // MARK: The verbs

    /// A text the PDS would refuse is refused before the video spends one of the day's uploads; then
    /// the day's limits are read.
    func prepare(_ job: UploadJob) async throws {
        if let e = preflight(job.metadata) { throw DeliveryError(.permanent, e.code, e.message) }
        try await checkLimits(job.size)
    }

    /// The record key, chosen now and persisted by the engine before the video leaves.
    func start(_ job: UploadJob, _ prepared: Void) async throws -> Session { Session(rkey: ATProto.tid()) }

    /// A job the video service no longer knows (it forgot it, or it expired): the video goes again,
    /// under the same record key. Otherwise every byte is with the service already.
    func resume(_ s: inout Session, _ job: UploadJob) async throws -> Int64? {
        if s.blob == nil, let jobId = s.jobId, try await jobForgotten(jobId) {
            s.jobId = nil
            return 0
        }
        return s.jobId != nil || s.blob != nil ? job.size : 0
    }

    func finish(_ s: inout Session, _ job: UploadJob) async throws -> Processing { s.blob != nil ? .ready : .pending(after: nil) }

    /// The job until its blob is ready; the blob goes into the session (checkpointed by the engine), so
    /// a restart posts without asking again. A 5xx on the status read is asked again at the poll's pace;
    /// a 429 is the poll's to wait out (`ProcessingPoll`, until `RateLimit-Reset`).
    func status(updating s: inout Session, _ job: UploadJob) async throws -> Processing {
        guard s.blob == nil, let jobId = s.jobId else { return .ready }
        let r = try await xrpc.call(.GET, videoService, "app.bsky.video.getJobStatus", query: [("jobId", jobId)], auth: .none)
        guard r.status == 200 else {
            if r.status >= 500 { return .pending(after: nil) }
            throw BlueskyXRPC.failure(r, "asking for the video job \(jobId)")
        }
        let st = Self.jobStatus(r)
        if let blob = st?.blob {
            s.blob = Self.text(blob)
            return .ready
        }
        if st?.state == "JOB_STATE_FAILED" {
            // A failure worth a new upload spends this job: the engine opens a fresh one, one post in the end.
            if Self.worthANewUpload(st) { return .gone(Self.jobFailed(st).message) }
            return .failed(Self.jobFailed(st))
        }
        return .pending(after: nil)
    }

    func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        let did = try await session.current().did
        guard let blobText = s.blob, let blob = try? JSONDecoder().decode(BlueskyWire.Blob.self, from: Data(blobText.utf8)) else {
            throw DeliveryError(.permanent, .internalError, "no blob to post")
        }
        let text = self.text(job.metadata)
        let alt = job.metadata.options["alt"].flatMap { $0.isEmpty ? nil : $0 }
        let aspect = job.frame.flatMap { $0.width > 0 && $0.height > 0 ? BlueskyWire.VideoEmbed.AspectRatio(width: $0.width, height: $0.height) : nil }
        let facets = try await richText(text)
        let record = BlueskyWire.Post(
            text: text, createdAt: ISO8601DateFormatter().string(from: Date()),
            embed: .init(video: blob, alt: alt, aspectRatio: aspect), facets: facets.isEmpty ? nil : facets)
        let r = try await xrpc.call(
            .POST, pds, "com.atproto.repo.createRecord",
            body: try BlueskyXRPC.json(BlueskyWire.CreateRecord(repo: did, rkey: s.rkey, record: record)))
        guard r.status == 200, let made = r.decoded(BlueskyWire.RecordRef.self) else { throw BlueskyXRPC.failure(r, "creating the post") }
        return outcome(uri: made.uri, did: did, rkey: s.rkey)
    }

    /// Not posted: from the blob (or the job) on; the upload itself is never sent twice when a job
    /// exists. A job the video service failed is said so (a retry then uploads anew); one it forgot is
    /// sent again under the same record key (`resume`).
    func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        if let found = try await findPost(s) { return .published(found) }
        if s.blob == nil, let jobId = s.jobId {
            let r = try await xrpc.call(.GET, videoService, "app.bsky.video.getJobStatus", query: [("jobId", jobId)], auth: .none)
            if r.status == 200, let st = Self.jobStatus(r), st.state == "JOB_STATE_FAILED" {
                // A job failed for a reason worth a new upload made no video: uploaded anew.
                if Self.worthANewUpload(st) { return .notStarted }
                throw Self.jobFailed(st)
            }
        }
        return s.jobId != nil || s.blob != nil ? .processing : .notStarted
    }

    // MARK: Reading

    func outcome(uri: String, did: String, rkey: String) -> PublishOutcome {
        let handle = (try? settings.account.text("handle")) ?? nil
        return PublishOutcome(remoteId: uri, url: "https://bsky.app/profile/\(handle ?? did)/post/\(rkey)", bytesSent: 0)
    }

    /// The post, if it exists: by its record key, else among the account's posts made since the delivery
    /// began, by the blob it embeds.
    func findPost(_ s: Session) async throws -> PublishOutcome? {
        let did = try await session.current().did
        let r = try await xrpc.call(.GET, pds, "com.atproto.repo.getRecord", query: [("repo", did), ("collection", "app.bsky.feed.post"), ("rkey", s.rkey)])
        if r.status == 200, let found = r.decoded(BlueskyWire.RecordRef.self) { return outcome(uri: found.uri, did: did, rkey: s.rkey) }
        guard r.status == 400 || r.status == 404 else { throw BlueskyXRPC.failure(r, "reading the post \(s.rkey)") }
        guard let blob = s.blob, let cid = try? JSONDecoder().decode(BlueskyWire.Blob.self, from: Data(blob.utf8)).ref.link else { return nil }
        let list = try await xrpc.call(.GET, pds, "com.atproto.repo.listRecords", query: [("repo", did), ("collection", "app.bsky.feed.post"), ("limit", "50")])
        guard list.status == 200 else { throw BlueskyXRPC.failure(list, "listing the account's recent posts") }
        for rec in list.decoded(BlueskyWire.RecordList.self)?.records ?? [] {
            let created = rec.value?.createdAt.flatMap { Self.date($0) } ?? .distantPast
            if rec.value?.embed?.video?.ref.link == cid, created >= s.started.addingTimeInterval(-1) {
                return outcome(uri: rec.uri, did: did, rkey: String(rec.uri.split(separator: "/").last ?? ""))
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

    /// A job status answered at top level or wrapped in `jobStatus`.
    static func jobStatus(_ r: BlueskyXRPC.Reply) -> BlueskyWire.JobStatus? {
        r.decoded(BlueskyWire.JobStatusReply.self)?.jobStatus ?? r.decoded(BlueskyWire.JobStatus.self)
    }

    /// The lexicon calls no failure code retryable; Bluesky's own app offers "try again" when the video
    /// service could not hand the blob to the PDS, and so do we (one new upload, one post).
    static func worthANewUpload(_ st: BlueskyWire.JobStatus?) -> Bool { st?.failureCode == "pds_upload_failure" }

    static func jobFailed(_ st: BlueskyWire.JobStatus?) -> DeliveryError {
        let said = "Bluesky could not process the video: \(st?.error ?? "") \(st?.message ?? "")" + (st?.failureCode.map { " (\($0))" } ?? "")
        if worthANewUpload(st) { return DeliveryError(.retryNow, .platformError, said + "; it is uploaded again") }
        return DeliveryError(.permanent, .platformError, said)
    }

    /// `getUploadLimits` before each upload: a day's videos or bytes used up waits for the next day.
    func checkLimits(_ size: Int64) async throws {
        let token = try await xrpc.serviceToken(pds: pds, aud: BlueskyXRPC.didWeb(videoService), lxm: "app.bsky.video.getUploadLimits")
        let r = try await xrpc.call(.GET, videoService, "app.bsky.video.getUploadLimits", auth: .bearer(token))
        guard r.status == 200, let l = r.decoded(BlueskyWire.UploadLimits.self) else { return }  // limits that cannot be read do not stop a post
        if l.canUpload == false || (l.remainingDailyVideos ?? 1) < 1 || (l.remainingDailyBytes ?? size) < size {
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = TimeZone(identifier: "UTC")!
            let tomorrow = cal.startOfDay(for: Date().addingTimeInterval(86400))
            throw DeliveryError(
                .retryAt(tomorrow), .quotaExhausted,
                "Bluesky's upload limits: \(l.message ?? "the day's videos or bytes are used up") (\(l.remainingDailyVideos.map { "\($0) videos" } ?? "?"), \(l.remainingDailyBytes.map { "\($0) bytes" } ?? "?") left; this one is \(size))"
            )
        }
    }

    func jobForgotten(_ jobId: String) async throws -> Bool {
        let r = try await xrpc.call(.GET, videoService, "app.bsky.video.getJobStatus", query: [("jobId", jobId)], auth: .none)
        return r.status == 404 || r.error == "NotFound"
    }

    /// Facets for the text: links and hashtags as written; a mention only when its handle resolves to a DID.
    func richText(_ text: String) async throws -> [BlueskyWire.Facet] {
        var out: [BlueskyWire.Facet] = []
        for f in BlueskyText.facets(text) {
            let feature: BlueskyWire.Facet.Feature
            switch f.kind {
            case .link(let uri): feature = .init(type: "app.bsky.richtext.facet#link", uri: uri)
            case .tag(let tag): feature = .init(type: "app.bsky.richtext.facet#tag", tag: tag)
            case .mention(let handle):
                let r = try await xrpc.call(.GET, pds, "com.atproto.identity.resolveHandle", query: [("handle", handle)], auth: .none)
                guard r.status == 200, let did = r.decoded(BlueskyWire.ResolvedHandle.self)?.did else { continue }
                feature = .init(type: "app.bsky.richtext.facet#mention", did: did)
            }
            out.append(.init(index: .init(byteStart: f.byteStart, byteEnd: f.byteEnd), features: [feature]))
        }
        return out
    }

    /// A blob as the session keeps it: its JSON, keys sorted.
    static func text(_ blob: BlueskyWire.Blob) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(blob)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

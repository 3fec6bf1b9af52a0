import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// Instagram Reels through the Graph API (PLATFORMS.md § Instagram Reels): a REELS container with
/// `upload_type=resumable` → bytes to `rupload.facebook.com/ig-api-upload/{v}/{container}` with
/// `offset`/`file_size` → the container's `status_code` until FINISHED → `media_publish`.
///
/// Exactly once: the container id is persisted before any byte, confirmed bytes after each chunk, and
/// the phase before publishing. An uncertain publish is reconciled from the container's own
/// `status_code` (PUBLISHED) — never by publishing again. The account's publishing limit is read from
/// `content_publishing_limit` before a container is made: a spent quota waits, it does not fail.
public struct InstagramAdapter: PlatformAdapter, SettingsBacked {
    public let platform = "instagram"
    let settings: AdapterSettings
    let chunkSize: Int64
    let poll: PollPolicy
    let pollTimeout: Duration
    public var account: AccountConfig { settings.account }
    var graph: GraphAPI { GraphAPI(settings: settings, name: "Instagram") }
    var container: GraphContainer {
        var c = GraphContainer(graph: graph, stateField: "status_code", reasonField: "status", poll: poll, pollTimeout: pollTimeout, noun: "the reel")
        // Instagram's error table: where it says to make a new container (2207053, 2207020, …), do.
        c.renewable = { InstagramErrors.action(forStatus: $0) == .newContainer }
        c.explain = { InstagramErrors.explain($0) }
        return c
    }

    /// Container status checks: every 3 s growing to 15 s (Meta meters calls per hour per account).
    public static let statusPolling = PollPolicy(first: .seconds(3), max: .seconds(15), factor: 1.5, perMinute: 20)

    public init(_ settings: AdapterSettings, poll: PollPolicy = InstagramAdapter.statusPolling, pollTimeout: Duration = .seconds(900)) {
        self.settings = settings
        self.chunkSize = min(max(settings.chunkSize, 256 * 1024), 64 * 1_048_576)
        self.poll = poll
        self.pollTimeout = pollTimeout
    }

    public var schedulesNatively: Bool { InstagramPlatform.descriptor.capabilities.nativeScheduling }

    /// Title, description, then the tags as hashtags (those not already in the text).
    static func caption(_ m: PublishMetadata) -> String { m.caption(platform: "instagram") }


    struct Session: Codable {
        enum Phase: String, Codable { case uploading, processing, publishing }
        var container: String
        var igUser: String
        var phase: Phase
    }

    public func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome {
        try await publish(job, checkpoint: checkpoint, progress: progress, renewals: 0)
    }

    /// `renewals`: containers this attempt already found spent and replaced.
    func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void,
        renewals: Int
    ) async throws -> PublishOutcome {
        var sent: Int64 = 0
        var s: Session
        var offset: Int64 = 0
        if let resumed = job.session.flatMap(Self.decode) { s = resumed; offset = job.confirmedOffset } else { s = try await start(job, checkpoint: checkpoint) }
        if s.phase == .uploading {
            let session = s
            sent += try await graph.ruploadFile("/ig-api-upload/\(GraphAPI.version)/\(s.container)", job, from: offset, chunkSize: chunkSize) { o, soFar in
                try await checkpoint(UploadCheckpoint(session: Self.encode(session), confirmedOffset: o, bytesSent: soFar))
                progress(o, job.size)
            }
            s.phase = .processing
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        }
        switch try await container.waitFinished(s.container) {
        case .expired:
            // A container that expired was never published: a new one cannot post twice.
            return try await publish(Self.fresh(job), checkpoint: checkpoint, progress: progress, renewals: renewals)
        case .renew(let why):
            // Spent in processing (2207053 and the others the table says to retry with a new container).
            let next = try container.renewal(why, renewals: renewals)
            return try await publish(Self.fresh(job), checkpoint: checkpoint, progress: progress, renewals: next)
        case .published:
            return try await outcome(mediaID: nil, s, sent)
        case .finished:
            break
        }
        s.phase = .publishing
        // From here a post may exist: a restart reads the container's status_code before anything else.
        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        var pacer = poll.pacer()
        let end = ContinuousClock.now + pollTimeout
        while true {
            let r = try await graph.call(.POST, "/\(s.igUser)/media_publish", [("creation_id", s.container)])
            if r.status == 200, let id = r.json?["id"] as? String { return try await outcome(mediaID: id, s, sent) }
            // 9007 / 2207027: the media is not ready to publish yet.
            let sub = GraphAPI.subcode(r)
            if GraphAPI.code(r) == 9007 && (sub == nil || sub == 2207027), ContinuousClock.now < end { try await pacer.pace(); continue }
            var e = graph.classify(r, during: "publishing the reel")
            if let sub, let row = InstagramErrors.table[sub] {
                e.message += " (\(row.meaning))"
                switch row.action {
                case .newContainer where e.kind == .permanent:
                    // A refused publish made no post, and the table says to try again: the next attempt
                    // reads the container first (spent → a new one; FINISHED → publish; PUBLISHED → done).
                    e.kind = .retryNow
                    e.code = .platformError
                case .wait where sub == 2207042:
                    e = DeliveryError(.retryAt(Date().addingTimeInterval(3600)), .quotaExhausted, e.message + "; it waits for room", httpStatus: r.status)
                default: break
                }
            }
            throw e
        }
    }

    /// Who posts, whether the publishing limit has room, then the container — persisted before any byte.
    func start(_ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void) async throws -> Session {
        let ig = try await container.userID(account)
        try await container.checkPublishingLimit("/\(ig)/content_publishing_limit", report: job.reportLimit)
        try await job.beforeRequest("init")
        let m = job.metadata
        var params = [("media_type", "REELS"), ("upload_type", "resumable"), ("caption", Self.caption(m))]
        if let ms = m.coverAtMs { params.append(("thumb_offset", String(ms))) }
        if let v = m.options["share_to_feed"] { params.append(("share_to_feed", v.lowercased())) }
        if let v = m.options["collaborators"] {
            let names = v.split(separator: ",").map { "\"\($0.trimmingCharacters(in: .whitespaces))\"" }
            params.append(("collaborators", "[" + names.joined(separator: ",") + "]"))
        }
        if let v = m.options["location_id"] { params.append(("location_id", v)) }
        let r = try await graph.call(.POST, "/\(ig)/media", params)
        guard r.status == 200, let id = r.json?["id"] as? String else { throw graph.classify(r, during: "creating the reel's container") }
        let s = Session(container: id, igUser: ig, phase: .uploading)
        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: 0, bytesSent: 0))
        return s
    }

    public func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = job.session.flatMap(Self.decode) else { return .notStarted }
        return try await container.reconcile(s.container, inFlight: s.phase == .uploading ? .partial(confirmedOffset: job.confirmedOffset) : .processing) {
            try await outcome(mediaID: nil, s, 0)
        }
    }

    /// The published media: its id from media_publish, or — found PUBLISHED by reconciling, when the
    /// publish reply was lost — the container's id, which is all Instagram names it by then.
    func outcome(mediaID: String?, _ s: Session, _ sent: Int64) async throws -> PublishOutcome {
        let media = mediaID ?? s.container
        let link = try? await graph.call(.GET, "/\(media)", [("fields", "permalink")])
        let url = link?.json?["permalink"] as? String ?? "https://www.instagram.com/"
        return PublishOutcome(remoteId: media, url: url, bytesSent: sent)
    }

    /// The job without its spent session: a new container, from the first byte.
    static func fresh(_ job: UploadJob) -> UploadJob {
        var fresh = job
        fresh.session = nil
        fresh.confirmedOffset = 0
        return fresh
    }

    static func decode(_ s: String) -> Session? { try? JSONDecoder().decode(Session.self, from: Data(s.utf8)) }
    static func encode(_ s: Session) -> String { String(decoding: (try? JSONEncoder().encode(s)) ?? Data(), as: UTF8.self) }
}

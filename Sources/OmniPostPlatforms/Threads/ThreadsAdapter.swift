import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// Threads (PLATFORMS.md § Threads): Threads fetches the video itself from a public URL. The rendition
/// is PUT to the pipeline's `media_host:` bucket (signed with its sha256, so changed bytes are refused)
/// and handed over as a presigned link that expires → `POST /{v}/{user}/threads` (VIDEO, `video_url`,
/// `text`) → the container's `status` until FINISHED (ERROR with `error_message`, EXPIRED) →
/// `threads_publish`. The container id is persisted before Threads fetches anything; an uncertain
/// publish is reconciled from the container's `status` (PUBLISHED), never by publishing again.
public struct ThreadsAdapter: PlatformAdapter, SettingsBacked {
    public let platform = "threads"
    let settings: AdapterSettings
    let poll: PollPolicy
    let pollTimeout: Duration
    public var account: AccountConfig { settings.account }
    var graph: GraphAPI { GraphAPI(settings: settings, name: "Threads", version: "v1.0") }
    var container: GraphContainer {
        var c = GraphContainer(graph: graph, stateField: "status", reasonField: "error_message", poll: poll, pollTimeout: pollTimeout, noun: "the video")
        c.renewable = { ThreadsAdapter.renewable($0) }
        return c
    }

    /// Threads' container errors (`error_message`) that say nothing against the media: the fetch of our
    /// link failed (FAILED_DOWNLOADING_VIDEO — the link lapsed, the serving daemon restarted mid-fetch),
    /// or Threads does not say (UNKNOWN). The container never became a post: a new one, with a fresh
    /// link to the same bytes, is safe. The rest (INVALID_DURATION, FAILED_PROCESSING_VIDEO, …) is the media's.
    static func renewable(_ reason: String?) -> Bool {
        guard let r = reason?.uppercased() else { return false }
        return r.contains("FAILED_DOWNLOADING_VIDEO") || r.hasPrefix("UNKNOWN")
    }

    public static let statusPolling = PollPolicy(first: .seconds(3), max: .seconds(15), factor: 1.5, perMinute: 20)

    public init(_ settings: AdapterSettings, poll: PollPolicy = ThreadsAdapter.statusPolling, pollTimeout: Duration = .seconds(900)) {
        self.settings = settings
        self.poll = poll
        self.pollTimeout = pollTimeout
    }

    public var schedulesNatively: Bool { ThreadsPlatform.descriptor.capabilities.nativeScheduling }

    /// Threads turns one hashtag into the post's topic: the profile's caption adds the first tag when the text has none.
    static func text(_ m: PublishMetadata) -> String { m.caption(platform: "threads") }

    /// A media host to put the video on for Threads to fetch (privacy and text limits are data).
    public func platformChecks(_ m: PublishMetadata) -> OmniError? {
        if settings.mediaHost == nil {
            return OmniError(.configInvalid, "\(account.key): Threads fetches the video from a public link, and this pipeline has no `media_host:` (an S3-compatible bucket) to put it in")
        }
        return nil
    }

    struct Session: Codable {
        enum Phase: String, Codable { case processing, publishing }
        var container: String
        var user: String
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
        if let resumed = job.session.flatMap(Self.decode) { s = resumed } else {
            (s, sent) = try await start(job, checkpoint: checkpoint)
            progress(job.size, job.size)
        }
        if s.phase == .processing {
            switch try await container.waitFinished(s.container) {
            case .expired:
                var fresh = job
                fresh.session = nil
                return try await publish(fresh, checkpoint: checkpoint, progress: progress, renewals: renewals)
            case .renew(let why):
                // Threads could not fetch the video (or will not say why): a new container, a fresh link.
                let next = try container.renewal(why, renewals: renewals)
                var fresh = job
                fresh.session = nil
                return try await publish(fresh, checkpoint: checkpoint, progress: progress, renewals: next)
            case .published:
                return try await outcome(s.container, sent)
            case .finished:
                break
            }
            s.phase = .publishing
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        }
        let r = try await graph.call(.POST, "/\(s.user)/threads_publish", [("creation_id", s.container)])
        guard r.status == 200, let id = r.json?["id"] as? String else { throw graph.classify(r, during: "publishing the post") }
        return try await outcome(id, sent)
    }

    /// Who posts, whether the publishing limit has room, the rendition on the media host, then the
    /// container — persisted before Threads fetches a byte.
    func start(_ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void) async throws -> (Session, Int64) {
        guard let host = settings.mediaHost else {
            throw DeliveryError(.permanent, .configInvalid, "\(account.key): Threads needs `media_host:` to fetch the video from")
        }
        let user = try await container.userID(account)
        try await container.checkPublishingLimit("/\(user)/threads_publishing_limit", report: job.reportLimit)
        let sha = try job.expectedSha256 ?? FileHashing.sha256(path: job.filePath).hex
        let link = try await host.publish(file: job.filePath, sha256: sha, size: job.size, contentType: job.contentType)
        try await job.beforeRequest("init")
        let r = try await graph.call(.POST, "/\(user)/threads", [("media_type", "VIDEO"), ("video_url", link), ("text", Self.text(job.metadata))])
        guard r.status == 200, let id = r.json?["id"] as? String else { throw graph.classify(r, during: "creating the post's container") }
        let s = Session(container: id, user: user, phase: .processing)
        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: job.size))
        return (s, job.size)
    }

    public func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = job.session.flatMap(Self.decode) else { return .notStarted }
        return try await container.reconcile(s.container, inFlight: .processing) { try await outcome(s.container, 0) }
    }

    func outcome(_ id: String, _ sent: Int64) async throws -> PublishOutcome {
        let link = try? await graph.call(.GET, "/\(id)", [("fields", "permalink")])
        return PublishOutcome(remoteId: id, url: link?.json?["permalink"] as? String ?? "https://www.threads.net/", bytesSent: sent)
    }

    static func decode(_ s: String) -> Session? { try? JSONDecoder().decode(Session.self, from: Data(s.utf8)) }
    static func encode(_ s: Session) -> String { String(decoding: (try? JSONEncoder().encode(s)) ?? Data(), as: UTF8.self) }
}

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
/// publish is reconciled from the container's `status` (PUBLISHED), never by publishing again. The
/// upload engine runs these steps (`ResumableAdapter`); Threads fetches the bytes, so none are sent.
package struct ThreadsAdapter: ResumableAdapter, DescribedAdapter {
    package typealias Module = ThreadsPlatform
    package let displayName = "Threads"
    package let settings: AdapterSettings
    package let processing: ProcessingPoll
    var graph: GraphAPI { GraphAPI(settings: settings, name: "Threads", version: "v1.0") }
    /// A container whose fetch of our link failed (or that does not say why) is made again, as the Graph
    /// family's error table says (`GraphErrors.reasons`); the rest is the media's.
    var container: GraphContainer { GraphContainer(graph: graph, stateField: "status", reasonField: "error_message", noun: "the video") }
    package var transport: NothingToSend<Session> { NothingToSend() }
    /// Containers one attempt may make again for spent ones (expired, or whose fetch failed).
    package var freshSessions: Int { GraphContainer.maxRenewals }

    /// `poll`: instead of the descriptor's status pace (tests).
    package init(_ settings: AdapterSettings, poll: PollPolicy? = nil, pollTimeout: Duration = .seconds(900)) {
        self.settings = settings
        self.processing = Self.polling(poll, timeout: pollTimeout)
    }

    /// Threads turns one hashtag into the post's topic: the profile's caption adds the first tag when the text has none.
    static func text(_ m: PublishMetadata) -> String { m.caption(platform: "threads") }

    /// A media host to put the video on for Threads to fetch (privacy and text limits are data).
    package func platformChecks(_ m: PublishMetadata) -> OmniError? {
        if settings.mediaHost == nil {
            return OmniError(
                .configInvalid, "\(account.key): Threads fetches the video from a public link, and this pipeline has no `media_host:` (an S3-compatible bucket) to put it in")
        }
        return nil
    }

    /// The container, who posts, and where it stands — in Threads' own words for the phases, as the
    /// ledger has always held them.
    package struct Session: Codable, PersistedSession {
        var container: String
        var user: String
        var stage: PhaseWord<Words>
        enum CodingKeys: String, CodingKey { case container, user, stage = "phase" }
        package var phase: UploadPhase? {
            get { stage.phase }
            set { stage.phase = newValue ?? .finalized }
        }

        package enum Words: PhaseVocabulary {
            package static let read: [String: UploadPhase] = ["processing": .finalized, "publishing": .posting]
            package static let written: [UploadPhase: String] = [.uploading: "processing", .finalized: "processing", .posting: "publishing"]
        }
    }

    /// Who posts, and the rendition's link on the media host (put there now: the bytes this attempt moved).
    package struct Prepared: MovesBytes {
        var user: String
        var link: String
        package var bytesMoved: Int64
    }

    /// Who posts, whether the publishing limit has room, then the rendition on the media host.
    package func prepare(_ job: UploadJob) async throws -> Prepared {
        guard let host = settings.mediaHost else {
            throw DeliveryError(.permanent, .configInvalid, "\(account.key): Threads needs `media_host:` to fetch the video from")
        }
        let user = try await container.userID(account)
        try await container.checkPublishingLimit("/\(user)/threads_publishing_limit", report: job.reportLimit)
        let sha = try job.expectedSha256 ?? FileHashing.sha256(path: job.filePath).hex
        let link = try await host.publish(file: job.filePath, sha256: sha, size: job.size, contentType: job.contentType)
        return Prepared(user: user, link: link, bytesMoved: job.size)
    }

    /// The container — persisted (by the engine) before Threads fetches a byte.
    package func start(_ job: UploadJob, _ p: Prepared) async throws -> Session {
        let r = try await graph.call(.POST, "/\(p.user)/threads", [("media_type", "VIDEO"), ("video_url", p.link), ("text", Self.text(job.metadata))])
        guard r.status == 200, let id = r.decoded(GraphWire.Created.self)?.id else { throw graph.classify(r, during: "creating the post's container") }
        return Session(container: id, user: p.user, stage: PhaseWord(.finalized))
    }

    /// The container's status until FINISHED; Threads could not fetch the video (or will not say why), or
    /// the container expired: a new container, a fresh link.
    package func status(_ s: Session, _ job: UploadJob) async throws -> Processing {
        try await container.processing(s.container) { try await outcome(s.container) }
    }

    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        if case .published(let out) = uploaded { return out }
        let r = try await graph.call(.POST, "/\(s.user)/threads_publish", [("creation_id", s.container)])
        guard r.status == 200, let id = r.decoded(GraphWire.Created.self)?.id else { throw graph.classify(r, during: "publishing the post") }
        return try await outcome(id)
    }

    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        try await container.reconcile(s.container, inFlight: .processing) { try await outcome(s.container) }
    }

    func outcome(_ id: String) async throws -> PublishOutcome {
        let link = try? await graph.call(.GET, "/\(id)", [("fields", "permalink")])
        return PublishOutcome(remoteId: id, url: link?.decoded(GraphWire.Permalink.self)?.permalink ?? "https://www.threads.net/", bytesSent: 0)
    }
}

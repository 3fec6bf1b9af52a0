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
/// `content_publishing_limit` before a container is made: a spent quota waits, it does not fail. The
/// upload engine runs these steps (`ResumableAdapter`) over Meta's rupload transport (`GraphRupload`).
package struct InstagramAdapter: ResumableAdapter, DescribedAdapter {
    package typealias Module = InstagramPlatform
    package let displayName = "Instagram"
    package let settings: AdapterSettings
    package let processing: ProcessingPoll
    var graph: GraphAPI { GraphAPI(settings: settings, name: "Instagram") }
    /// Where the Graph family's error table says to make a new container (2207053, 2207020, …), it is made.
    var container: GraphContainer { GraphContainer(graph: graph, stateField: "status_code", reasonField: "status", noun: "the reel") }
    package var transport: GraphRupload<Session> { GraphRupload(graph: graph, chunkSize: partSize) }
    /// Containers one attempt may make again for spent ones (expired, or the error table says so).
    package var freshSessions: Int { GraphContainer.maxRenewals }

    /// `poll`: instead of the descriptor's status pace (tests).
    package init(_ settings: AdapterSettings, poll: PollPolicy? = nil, pollTimeout: Duration = .seconds(900)) {
        self.settings = settings
        self.processing = Self.polling(poll, timeout: pollTimeout)
    }

    /// Title, description, then the tags as hashtags (those not already in the text).
    static func caption(_ m: PublishMetadata) -> String { m.caption(platform: "instagram") }

    /// The container, its Instagram user, and where it stands — in Instagram's own words for the phases,
    /// as the ledger has always held them.
    package struct Session: Codable, RuploadSession {
        var container: String
        var igUser: String
        var stage: PhaseWord<Words>
        enum CodingKeys: String, CodingKey { case container, igUser, stage = "phase" }
        package var phase: UploadPhase? {
            get { stage.phase }
            set { stage.phase = newValue ?? .uploading }
        }
        package var ruploadPath: String { "/ig-api-upload/\(GraphAPI.version)/\(container)" }
        package var ruploadToken: String? { nil }

        package enum Words: PhaseVocabulary {
            package static let read: [String: UploadPhase] = ["uploading": .uploading, "processing": .finalized, "publishing": .posting]
            package static let written: [UploadPhase: String] = [.uploading: "uploading", .finalized: "processing", .posting: "publishing"]
        }
    }

    /// Who posts, whether the publishing limit has room, and a cover file's link: Instagram takes a cover
    /// image only as `cover_url`, so the image goes to the pipeline's media host first. A frame time
    /// (`at_ms`) goes as `thumb_offset`, Instagram's own way.
    package func prepare(_ job: UploadJob) async throws -> Prepared {
        let ig = try await container.userID(account)
        try await container.checkPublishingLimit("/\(ig)/content_publishing_limit", report: job.reportLimit)
        guard job.metadata.coverAtMs == nil, let cover = job.coverPath, let host = settings.mediaHost, FileManager.default.fileExists(atPath: cover) else {
            return Prepared(ig: ig)
        }
        let hash = try FileHashing.sha256(path: cover)
        let link = try await host.publish(file: cover, sha256: hash.hex, size: hash.bytes, contentType: "image/jpeg")
        return Prepared(ig: ig, coverLink: link)
    }

    package struct Prepared: Sendable {
        var ig: String
        var coverLink: String? = nil
    }

    /// The REELS container (resumable) — persisted by the engine before any byte.
    package func start(_ job: UploadJob, _ prepared: Prepared) async throws -> Session {
        let m = job.metadata, ig = prepared.ig
        var params = [("media_type", "REELS"), ("upload_type", "resumable"), ("caption", Self.caption(m))]
        if let link = prepared.coverLink {
            params.append(("cover_url", link))
        } else if let ms = m.coverAtMs {
            params.append(("thumb_offset", String(ms)))
        }
        if let v = m.options["share_to_feed"] { params.append(("share_to_feed", v.lowercased())) }
        if let v = m.options["collaborators"] {
            let names = v.split(separator: ",").map { "\"\($0.trimmingCharacters(in: .whitespaces))\"" }
            params.append(("collaborators", "[" + names.joined(separator: ",") + "]"))
        }
        if let v = m.options["location_id"] { params.append(("location_id", v)) }
        let r = try await graph.call(.POST, "/\(ig)/media", params)
        guard r.status == 200, let id = r.decoded(GraphWire.Created.self)?.id else { throw graph.classify(r, during: "creating the reel's container") }
        return Session(container: id, igUser: ig, stage: PhaseWord(.uploading))
    }

    /// Every byte is with the host: Instagram processes the reel.
    package func finish(_ s: inout Session, _ job: UploadJob) async throws -> Processing { .pending(after: nil) }

    /// The container's status_code until FINISHED; a spent one (expired, 2207053 and the others the
    /// table says to retry with a new container) is made again.
    package func status(_ s: Session, _ job: UploadJob) async throws -> Processing {
        try await container.processing(s.container) { try await outcome(mediaID: nil, s) }
    }

    /// media_publish. Until the media is ready (9007 / 2207027) it is asked again at the poll's pace —
    /// waiting for readiness, not retrying a failure.
    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        coverNoted(try await publish(s, job, uploaded: uploaded), job)
    }

    /// A cover file with no media host to put it on: the reel is published with the frame Instagram (or
    /// `at_ms`) picks, and the outcome says why the file was not used.
    func coverNoted(_ out: PublishOutcome, _ job: UploadJob) -> PublishOutcome {
        guard job.coverPath != nil, job.metadata.coverAtMs == nil else { return out }
        var out = out
        out.coverSet = settings.mediaHost != nil
        if settings.mediaHost == nil {
            out.coverError = "Instagram takes a cover image only from a link (`cover_url`), and this pipeline has no `media_host:` to put it on"
        }
        return out
    }

    func publish(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        if case .published(let out) = uploaded { return out }
        var pacer = (processing.policy ?? GraphAPI.statusPolling).pacer()
        let end = ContinuousClock.now + processing.timeout
        while true {
            let r = try await graph.call(.POST, "/\(s.igUser)/media_publish", [("creation_id", s.container)])
            if r.status == 200, let id = r.decoded(GraphWire.Created.self)?.id { return try await outcome(mediaID: id, s) }
            let sub = GraphAPI.subcode(r)
            let row = sub.flatMap { graph.errors.subcodes[$0] }
            let notReady = GraphAPI.code(r).flatMap { graph.errors.codes[$0] } == .notReady && (sub == nil || row?.action == .notReady)
            if notReady, ContinuousClock.now < end { try await pacer.pace(); continue }
            var e = graph.classify(r, during: "publishing the reel")
            if let row {
                e.message += " (\(row.meaning))"
                switch row.action {
                case .newContainer where e.kind == .permanent:
                    // A refused publish made no post, and the table says to try again: the next attempt
                    // reads the container first (spent → a new one; FINISHED → publish; PUBLISHED → done).
                    e.kind = .retryNow
                    e.code = .platformError
                case .quota:
                    e = DeliveryError(.retryAt(Date().addingTimeInterval(3600)), .quotaExhausted, e.message + "; it waits for room", httpStatus: r.status)
                default: break
                }
            }
            throw e
        }
    }

    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        try await container.reconcile(s.container, inFlight: s.phase == .uploading ? .partial(confirmedOffset: job.confirmedOffset) : .processing) {
            try await outcome(mediaID: nil, s)
        }
    }

    /// The published media: its id from media_publish, or — found PUBLISHED by reconciling, when the
    /// publish reply was lost — the container's id, which is all Instagram names it by then.
    func outcome(mediaID: String?, _ s: Session) async throws -> PublishOutcome {
        let media = mediaID ?? s.container
        let link = try? await graph.call(.GET, "/\(media)", [("fields", "permalink")])
        return PublishOutcome(remoteId: media, url: link?.decoded(GraphWire.Permalink.self)?.permalink ?? "https://www.instagram.com/", bytesSent: 0)
    }
}

import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// Kuaishou's open platform, creating a video (创建视频: 发起上传, 上传视频, 发布视频): `photo/start_upload`
/// hands out an upload token and the upload gateway's host; the file goes there in one request
/// (`api/upload`, the bytes as the body) when it fits in one part, otherwise as fragments numbered from 0
/// (`api/upload/fragment`) merged by `api/upload/complete` with their count; `photo/publish` then makes
/// the work with its caption and a cover image (required).
///
/// Exactly once: the upload token is persisted before the first byte and each confirmed fragment after
/// it; the session records the phase before the publish, that the publish left, and the work's id once
/// Kuaishou answers with one (`KuaishouPublish`). The publish has no idempotency key, and Kuaishou says it
/// is asynchronous ("该接口返回结果后，不代表视频已经同步发布到用户P页"): a work answered is a work, looked
/// for in `photo/list` a while and recorded by its id either way; a publish whose answer was lost is
/// settled by reading that list for our caption made since the upload ended — never by publishing again.
package struct KuaishouAdapter: ListedPostAdapter, DescribedAdapter {
    package typealias Module = KuaishouPlatform
    package let displayName = "Kuaishou"
    package let settings: AdapterSettings
    var api: AuthorizedHTTP { settings.api }
    package var transport: KuaishouFragments { KuaishouFragments(adapter: self) }
    /// How far before the end of the upload a work's `create_time` may be and still be ours (clocks differ).
    static let clockSlack: Double = 300
    /// A cover is an image under 10 MB (发布视频: "cover … 不超过10M").
    static let maxCover = 10 * 1_048_576

    /// How long a work Kuaishou answered for is looked for in `photo/list` before it is recorded by the id
    /// the publish answered (the list shows it once processed).
    var listWindow: Duration = .seconds(30)
    /// How long a publish whose answer was lost is looked for before a person is asked (`uncertain_post`).
    var settleWindow: Duration = .seconds(600)
    var poll = PollPolicy(first: .seconds(2), max: .seconds(15), perMinute: 20)

    package init(_ settings: AdapterSettings) { self.settings = settings }

    package struct Session: Codable, FixedPartSession {
        var uploadToken: String
        /// The upload gateway's host as `start_upload` named it (a scheme added where it named none).
        var endpoint: String
        /// The size of every fragment but the last; the whole file when it goes in one request.
        package var partSize: Int64
        var single: Bool
        var caption: String
        var startedAt: Double
        var finishedAt: Double?
        package var phase: UploadPhase?
        /// When `photo/publish` left (set before it does): from then on it is never sent again for this session.
        var publishSentAt: Double?
        /// The work Kuaishou's publish answered with: the post, whether or not the list shows it yet.
        var photoId: String?
    }

    /// The caption as the profile composes it: title, description, then the tags as #topics.
    static func caption(_ m: PublishMetadata) -> String { m.caption(platform: "kuaishou") }

    func url(_ path: String, _ query: [(String, String)] = []) -> String {
        account.endpoint + "/openapi/" + path + "?" + TokenProvider.form([("app_id", account.clientID)] + query)
    }

    /// A cover is required: the drop's, or the frame the convert stage takes.
    package func prepare(_ job: UploadJob) async throws {
        guard let path = job.coverPath, let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else {
            throw DeliveryError(.retryNow, .internalError, "no cover image for the Kuaishou work (the convert stage takes a frame)")
        }
        if size >= Self.maxCover {
            throw DeliveryError(.permanent, .invalidValue, "Kuaishou takes a cover under 10 MB; \(path) is \(size) bytes")
        }
    }

    package func start(_ job: UploadJob, _ prepared: Void) async throws -> Session {
        let r = try await api.send(url: url("photo/start_upload"), method: .POST, headers: [], body: ByteBuffer())
        let s = try Self.answer(r, KuaishouWire.Started.self, during: "starting the upload")
        guard let token = s.upload_token, let host = s.endpoint, !host.isEmpty else {
            throw DeliveryError(.retryNow, .platformError, "Kuaishou's start_upload answer had no upload_token or endpoint")
        }
        let single = job.size <= partSize
        return Session(
            uploadToken: token, endpoint: host.contains("://") ? host : "http://" + host, partSize: single ? job.size : partSize, single: single,
            caption: Self.caption(job.metadata), startedAt: Date().timeIntervalSince1970, phase: .uploading)
    }

    /// Fragments are merged (`api/upload/complete` with their count); a single upload is whole already.
    package func finish(_ s: inout Session, _ job: UploadJob) async throws -> Processing {
        if !s.single {
            let count = Int((job.size + s.partSize - 1) / s.partSize)
            let r = try await api.send(
                url: gateway(s, "complete", [("fragment_count", String(count))]), method: .POST, headers: [], body: ByteBuffer(), authorize: false)
            if Self.sessionRefused(r) { throw SessionGone(Self.message(r)) }
            _ = try Self.answer(r, KuaishouWire.Status.self, during: "completing the fragment upload")
        }
        s.finishedAt = Date().timeIntervalSince1970
        return .ready
    }

    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        switch s.phase ?? .uploading {
        case .uploading:
            guard !s.single else { return .partial(confirmedOffset: job.confirmedOffset) }
            // 断点续传: the gateway says which fragments it holds; it is asked rather than trusted from the ledger.
            let r = try await api.send(url: gateway(s, "resume"), method: .GET, headers: [], body: ByteBuffer(), authorize: false)
            if Self.sessionRefused(r) { return .notStarted }
            let held = try Self.answer(r, KuaishouWire.Resume.self, during: "asking which fragments the gateway holds")
            guard held.existed == true, let last = held.fragment_index, last >= 0 else { return .partial(confirmedOffset: 0) }
            return .partial(confirmedOffset: min(job.size, Int64(last + 1) * s.partSize))
        case .finalized, .posting:
            return try await listed.reconcile(s, reuse: job.sessionReuse)
        }
    }

    /// An address at the upload gateway: `api/upload` itself (nil), or one of its verbs.
    func gateway(_ s: Session, _ verb: String?, _ query: [(String, String)] = []) -> String {
        s.endpoint + "/api/upload" + (verb.map { "/" + $0 } ?? "") + "?" + TokenProvider.form([("upload_token", s.uploadToken)] + query)
    }

    /// The account's works (newest first): the one with this id, or — after an uncertain publish — with
    /// our caption, made since the bytes were all in.
    func findWork(_ s: Session, id: String?) async throws -> KuaishouWire.Work? {
        let r = try await api.send(url: url("photo/list", [("count", "20")]), method: .GET, headers: [], body: ByteBuffer())
        let list = try Self.answer(r, KuaishouWire.WorkList.self, during: "reading the account's works").video_list ?? []
        if let id { return list.first { $0.photo_id == id } }
        let since = (s.finishedAt ?? s.startedAt) - Self.clockSlack
        return list.first { $0.caption == s.caption && $0.createdAt >= since }
    }

    func outcome(_ w: KuaishouWire.Work) -> PublishOutcome { outcome(id: w.photo_id ?? "") }

    func outcome(id: String) -> PublishOutcome {
        let base = account.endpoint.contains("kuaishou.com") ? "https://www.kuaishou.com/short-video/" : account.endpoint + "/kuaishou/work/"
        return PublishOutcome(remoteId: id, url: base + id, bytesSent: 0)
    }

    /// An upload token the gateway no longer takes: a wrong parameter naming it (100400). Nothing else
    /// of ours is a parameter at the gateway (the fragments' numbers and count are the engine's).
    static func sessionRefused(_ r: AuthorizedHTTP.Reply) -> Bool { KuaishouErrors.code(r) == 100_400 }

    /// The answer decoded when its `result` is 1; otherwise the classified failure.
    static func answer<T: Decodable>(_ r: AuthorizedHTTP.Reply, _ type: T.Type, during: String) throws -> T {
        if (200..<300).contains(r.status), r.decoded(KuaishouWire.Status.self)?.result == 1, let v = r.decoded(T.self) { return v }
        throw classify(r, during: during)
    }

    static func message(_ r: AuthorizedHTTP.Reply) -> String {
        r.decoded(KuaishouWire.Status.self)?.error_msg ?? String(decoding: r.body.prefix(200), as: UTF8.self)
    }

    /// The answer's `result`, looked up in Kuaishou's table; HTTP's own failures where there is none.
    static func classify(_ r: AuthorizedHTTP.Reply, during: String) -> DeliveryError {
        KuaishouErrors.kuaishou.classify(r, code: KuaishouErrors.code(r), platform: "Kuaishou", message: message(r), during: during)
    }
}

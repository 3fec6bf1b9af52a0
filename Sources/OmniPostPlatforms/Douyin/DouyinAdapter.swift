import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// Douyin Open Platform video publishing (developer.open-douyin.com, 内容能力 › 视频发布): the file goes
/// up in one `upload_video` request when it fits in one part, otherwise as numbered parts
/// (`init_video_part_upload` → `upload_video_part` by `part_number` → `complete_video_part_upload`); either
/// way Douyin hands back a `video_id`, and `create_video` makes the post with the text, the cover time and
/// the @-mentioned users.
///
/// Exactly once: the upload id is persisted before the first byte and each confirmed part after it; the
/// session records the phase before the create, that the create left, and the item's id once answered
/// (`ListedPost`). A `video_id` is good for one create only, and Douyin has no idempotency key, so an
/// answered item is the post (looked for in `video_list`, recorded by its id either way) and an uncertain
/// create (killed after it left, before its reply was stored) is settled by reading the account's recent
/// items for one with our text made since the upload finished — never by creating again. An upload id Douyin no longer takes (it lives two
/// hours) never became a post: a new upload from the local bytes cannot post twice.
package struct DouyinAdapter: ListedPostAdapter, DescribedAdapter {
    package typealias Module = DouyinPlatform
    package let displayName = "Douyin"
    package let settings: AdapterSettings
    var api: AuthorizedHTTP { settings.api }
    package var transport: DouyinParts { DouyinParts(adapter: self) }

    /// An upload id lives two hours (the part-upload docs: "有效时间为2小时"); this close to its end it is
    /// not resumed, since a part sent now could land after it.
    static let uploadLifetime: Double = 7200
    static let expiryMargin: Double = 120
    /// How far before the end of the upload an item's `create_time` may be and still be ours (clocks differ).
    static let clockSlack: Double = 300

    /// How long a created item is looked for in `video_list` before it is recorded by its id, and how long a
    /// create whose answer was lost is looked for before a person is asked (`ListedPost`).
    var listWindow: Duration = .seconds(30)
    var settleWindow: Duration = .seconds(600)
    var poll = PollPolicy(first: .seconds(2), max: .seconds(15), perMinute: 20)

    package init(_ settings: AdapterSettings) { self.settings = settings }

    /// The persisted remote side.
    package struct Session: Codable, FixedPartSession {
        var openID: String
        /// The size of every part but the last; the whole file when it goes in one request.
        package var partSize: Int64
        /// The part upload's id; nil when the file goes in one `upload_video` request.
        var uploadID: String?
        /// When the upload started, epoch seconds (the upload id's two hours run from here).
        var startedAt: Double
        /// What the upload came to: the id `create_video` takes (good for one create).
        var videoID: String?
        /// When the bytes were all in, epoch seconds: a matching item made after this is our create.
        var finishedAt: Double?
        /// The text the create sends, kept so a restart looks for exactly it.
        var text: String
        package var phase: UploadPhase?
        /// When `create_video` left (set before it does): never sent again for this session (`ListedPost`).
        var createSentAt: Double?
        /// The item Douyin's create answered with: the post, whether or not the list shows it yet.
        var itemID: String?

        func lapsed(now: Date = Date()) -> Bool {
            guard phase == .uploading, uploadID != nil else { return false }
            return now.timeIntervalSince1970 >= startedAt + DouyinAdapter.uploadLifetime - DouyinAdapter.expiryMargin
        }
    }

    package func lapsed(_ s: Session) -> Bool { s.lapsed() }

    /// The post's text as the profile composes it: title, description, then the tags as #topics.
    static func text(_ m: PublishMetadata) -> String { m.caption(platform: "douyin") }

    var openID: String { account.accountID }

    func url(_ path: String, _ query: [(String, String)] = []) -> String {
        account.endpoint + "/api/douyin/v1/video/" + path + "?" + TokenProvider.form([("open_id", openID)] + query)
    }

    /// A file that fits in one part goes whole (no session to open); a larger one opens a part upload.
    package func start(_ job: UploadJob, _ prepared: Void) async throws -> Session {
        let text = Self.text(job.metadata)
        let now = Date().timeIntervalSince1970
        guard job.size > partSize else {
            return Session(openID: openID, partSize: job.size, uploadID: nil, startedAt: now, text: text, phase: .uploading)
        }
        let r = try await api.send(url: url("init_video_part_upload/"), method: .POST, headers: [], body: ByteBuffer())
        guard let id = try Self.envelope(r, DouyinWire.PartInit.self, during: "starting the part upload").upload_id else {
            throw DeliveryError(.retryNow, .platformError, "Douyin's init_video_part_upload answer had no upload_id")
        }
        return Session(openID: openID, partSize: partSize, uploadID: id, startedAt: now, text: text, phase: .uploading)
    }

    /// The part upload is completed into a `video_id` (a whole-file upload has its id already).
    package func finish(_ s: inout Session, _ job: UploadJob) async throws -> Processing {
        if let id = s.uploadID, s.videoID == nil {
            let r = try await api.send(url: url("complete_video_part_upload/", [("upload_id", id)]), method: .POST, headers: [], body: ByteBuffer())
            if Self.sessionRefused(r) { throw SessionGone(Self.message(r)) }
            guard let video = try Self.envelope(r, DouyinWire.Uploaded.self, during: "completing the part upload").video?.video_id else {
                throw DeliveryError(.retryNow, .platformError, "Douyin's complete_video_part_upload answer had no video_id")
            }
            s.videoID = video
        }
        guard s.videoID != nil else { throw SessionGone("the upload ended without a video_id") }
        s.finishedAt = Date().timeIntervalSince1970
        return .ready
    }

    /// `create_video`, then the account's items read back: a post counts when it is seen there.
    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        switch s.phase ?? .uploading {
        case .uploading:
            // Past its two hours Douyin has forgotten the upload id, and no post can come of it.
            if s.lapsed() { return .notStarted }
            // Douyin has no "which parts do you hold": the confirmed parts are what the ledger kept.
            return .partial(confirmedOffset: s.videoID != nil ? job.size : job.confirmedOffset)
        case .finalized, .posting:
            return try await listed.reconcile(s, reuse: job.sessionReuse)
        }
    }

    /// The account's recent items (`video_list`, newest first): the one with this id, or — after an
    /// uncertain create — with our text, made since the bytes were all in.
    func findItem(_ s: Session, id: String?) async throws -> DouyinWire.Item? {
        let r = try await api.send(url: url("video_list/", [("cursor", "0"), ("count", "20")]), method: .GET, headers: [], body: ByteBuffer())
        let items = try Self.envelope(r, DouyinWire.ItemList.self, during: "reading the account's recent items").list ?? []
        if let id { return items.first { $0.item_id == id } }
        let since = (s.finishedAt ?? s.startedAt) - Self.clockSlack
        return items.first { $0.title == s.text && Double($0.create_time ?? 0) >= since }
    }

    func outcome(_ item: DouyinWire.Item) -> PublishOutcome {
        let id = item.item_id ?? ""
        return PublishOutcome(remoteId: id, url: item.share_url ?? account.endpoint + "/douyin/video/" + id, bytesSent: 0)
    }

    /// A created item the list does not show yet, by the id the create answered.
    func outcome(id: String) -> PublishOutcome {
        let base = account.endpoint.contains("douyin.com") ? "https://www.douyin.com/video/" : account.endpoint + "/douyin/video/"
        return PublishOutcome(remoteId: id, url: base + id, bytesSent: 0)
    }

    /// A part upload's id Douyin no longer takes (unknown, completed or past its two hours): a parameter
    /// error naming it. Nothing else of ours is a parameter while parts go up (their sizes are Douyin's).
    static func sessionRefused(_ r: AuthorizedHTTP.Reply) -> Bool {
        guard let code = DouyinWire.errorCode(r) else { return false }
        return code == 2_100_005 || code == 28_001_007
    }

    /// The reply's `data` when its error code is 0; otherwise the classified failure.
    static func envelope<T: Decodable>(_ r: AuthorizedHTTP.Reply, _ type: T.Type, during: String) throws -> T {
        if (200..<300).contains(r.status), (DouyinWire.errorCode(r) ?? -1) == 0, let data = r.decoded(DouyinWire.Envelope<T>.self)?.data { return data }
        throw classify(r, during: during)
    }

    static func message(_ r: AuthorizedHTTP.Reply) -> String {
        let e = r.decoded(DouyinWire.Envelope<DouyinWire.Failure>.self)
        return e?.data?.description ?? e?.extra?.description ?? String(decoding: r.body.prefix(200), as: UTF8.self)
    }

    /// The envelope's code, looked up in Douyin's table; HTTP's own failures where there is none.
    static func classify(_ r: AuthorizedHTTP.Reply, during: String, now: Date = Date()) -> DeliveryError {
        DouyinErrors.douyin.classify(r, code: DouyinWire.errorCode(r), platform: "Douyin", message: message(r), during: during, now: now)
    }
}

import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// Bilibili's open platform, video archives (视频稿件投递): `video/init` (`utype` 1: the file in one
/// request up to 100 MB; 0: numbered parts to the upload host, then `video/complete`), the cover to
/// `cover/upload`, and `add-by-utoken` submits the archive with its title, category (`tid`), tags,
/// description and copyright (2, a repost, names its `source`).
///
/// Exactly once: the upload token is persisted before the first byte and each confirmed part after it; the
/// session records the phase before the submit, that the submit left, and the archive's id once answered
/// (`ListedPost`). The submit has no idempotency key: an answered archive is the post (looked for in
/// `viewlist`, recorded by its id either way), and an uncertain one is settled by reading the account's
/// archives for our title made since the upload ended — never by submitting again. An upload token spends
/// itself on one archive.
package struct BilibiliAdapter: ListedPostAdapter, DescribedAdapter {
    package typealias Module = BilibiliPlatform
    package let displayName = "Bilibili"
    package let settings: AdapterSettings
    var api: AuthorizedHTTP { settings.api }
    package var transport: BilibiliParts { BilibiliParts(adapter: self) }
    /// How far before the end of the upload an archive's `ctime` may be and still be ours (clocks differ).
    static let clockSlack: Double = 300
    /// The most one request carries ("文件不超过100M时…单个小视频文件上传").
    static let oneRequest: Int64 = 100 * 1_048_576

    /// How long a submitted archive is looked for in `viewlist` before it is recorded by its id, and how long
    /// a submit whose answer was lost is looked for before a person is asked (`ListedPost`).
    var listWindow: Duration = .seconds(30)
    var settleWindow: Duration = .seconds(600)
    var poll = PollPolicy(first: .seconds(2), max: .seconds(15), perMinute: 20)

    package init(_ settings: AdapterSettings) { self.settings = settings }

    package struct Session: Codable, FixedPartSession {
        var uploadToken: String
        /// The size of every part but the last; the whole file when it goes in one request.
        package var partSize: Int64
        var single: Bool
        var title: String
        var startedAt: Double
        var finishedAt: Double?
        package var phase: UploadPhase?
        /// When `add-by-utoken` left (set before it does): never sent again for this session (`ListedPost`).
        var submitSentAt: Double?
        /// The archive Bilibili's submit answered with: the post, whether or not the list shows it yet.
        var resourceID: String?
    }

    var uploadHost: String { ((try? account.text("upload_endpoint")) ?? nil) ?? BilibiliPlatform.uploadHost }

    func url(_ path: String, _ query: [(String, String)] = []) -> String {
        account.endpoint + "/arcopen/fn/" + path + "?" + TokenProvider.form([("client_id", account.clientID)] + query)
    }

    /// What Bilibili requires that a sidecar may leave out: a tag, and a repost's source.
    package func prepare(_ job: UploadJob) async throws {
        let m = job.metadata
        if m.tags.isEmpty {
            throw DeliveryError(.permanent, .invalidValue, "Bilibili requires at least one tag: give the drop tags:")
        }
        if m.options["copyright"] == "2", (m.options["source"] ?? "").isEmpty {
            throw DeliveryError(.permanent, .invalidValue, "a Bilibili repost (copyright: 2) must name its source: overrides: {bilibili: {source: …}}")
        }
    }

    package func start(_ job: UploadJob, _ prepared: Void) async throws -> Session {
        let single = job.size <= min(partSize, Self.oneRequest)
        let stem = ((job.drop?.stem ?? (job.filePath as NSString).lastPathComponent) as NSString).deletingPathExtension
        let r = try await api.send(url: url("archive/video/init"), json: BilibiliWire.Init(name: stem + ".mp4", utype: single ? "1" : "0"))
        guard let token = try Self.envelope(r, BilibiliWire.Started.self, during: "starting the upload").upload_token else {
            throw DeliveryError(.retryNow, .platformError, "Bilibili's video/init answer had no upload_token")
        }
        return Session(
            uploadToken: token, partSize: single ? job.size : partSize, single: single, title: job.metadata.title,
            startedAt: Date().timeIntervalSince1970, phase: .uploading)
    }

    /// Parts are merged (`video/complete`); a single upload is whole already.
    package func finish(_ s: inout Session, _ job: UploadJob) async throws -> Processing {
        if !s.single {
            let r = try await api.send(url: url("archive/video/complete", [("upload_token", s.uploadToken)]), json: BilibiliWire.Nothing())
            if Self.sessionRefused(r) { throw SessionGone(Self.message(r)) }
            _ = try Self.envelope(r, BilibiliWire.Nothing.self, during: "merging the parts")
        }
        s.finishedAt = Date().timeIntervalSince1970
        return .ready
    }

    /// `cover/upload` (multipart `file`, JPEG or PNG ≤ 5 MB): the URL the submit names.
    func uploadCover(_ job: UploadJob) async throws -> String {
        guard let path = job.coverPath, let bytes = FileManager.default.contents(atPath: path) else {
            throw DeliveryError(.retryNow, .internalError, "no cover image for the Bilibili archive (the convert stage takes a frame)")
        }
        var form = MultipartForm()
        form.file("file", filename: "cover.jpg", contentType: "image/jpeg", ByteBuffer(data: bytes))
        let r = try await api.send(url: url("archive/cover/upload"), method: .POST, headers: [("Content-Type", form.contentType)], body: form.body)
        guard let link = try Self.envelope(r, BilibiliWire.Cover.self, during: "uploading the cover").url else {
            throw DeliveryError(.retryNow, .platformError, "Bilibili's cover/upload answer had no url")
        }
        return link
    }

    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        switch s.phase ?? .uploading {
        case .uploading:
            return .partial(confirmedOffset: job.confirmedOffset)
        case .finalized, .posting:
            return try await listed.reconcile(s, reuse: job.sessionReuse)
        }
    }

    /// The account's archives (newest first): the one with this id, or — after an uncertain submit —
    /// with our title, made since the bytes were all in.
    func findArchive(_ s: Session, id: String?) async throws -> BilibiliWire.Archive? {
        let r = try await api.send(url: url("archive/viewlist", [("pn", "1"), ("ps", "20")]), method: .GET, headers: [], body: ByteBuffer())
        let list = try Self.envelope(r, BilibiliWire.ArchiveList.self, during: "reading the account's archives").list ?? []
        if let id { return list.first { $0.resource_id == id } }
        let since = (s.finishedAt ?? s.startedAt) - Self.clockSlack
        return list.first { $0.title == s.title && Double($0.ctime ?? 0) >= since }
    }

    func outcome(_ a: BilibiliWire.Archive) -> PublishOutcome { outcome(id: a.resource_id ?? "") }

    func outcome(id: String) -> PublishOutcome {
        let base = account.endpoint.contains("bilibili.com") ? "https://www.bilibili.com/video/" : account.endpoint + "/bilibili/video/"
        return PublishOutcome(remoteId: id, url: base + id, bytesSent: 0)
    }

    /// An upload token Bilibili no longer takes: a bad request naming it (-400, -404).
    static func sessionRefused(_ r: AuthorizedHTTP.Reply) -> Bool {
        guard let code = BilibiliErrors.code(r) else { return false }
        return code == -400 || code == -404
    }

    static func envelope<T: Decodable>(_ r: AuthorizedHTTP.Reply, _ type: T.Type, during: String) throws -> T {
        if (200..<300).contains(r.status), let e = r.decoded(BilibiliWire.Envelope<T>.self), e.code == 0 {
            if let data = e.data { return data }
            if let empty = BilibiliWire.Nothing() as? T { return empty }
        }
        throw classify(r, during: during)
    }

    static func message(_ r: AuthorizedHTTP.Reply) -> String {
        r.decoded(BilibiliWire.Envelope<BilibiliWire.Nothing>.self)?.message ?? String(decoding: r.body.prefix(200), as: UTF8.self)
    }

    /// The answer's code, looked up in Bilibili's table; HTTP's own failures where there is none.
    static func classify(_ r: AuthorizedHTTP.Reply, during: String) -> DeliveryError {
        BilibiliErrors.bilibili.classify(r, code: BilibiliErrors.code(r), platform: "Bilibili", message: message(r), during: during)
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OmniPostCore

/// Publishes to Vimeo: the video is created with `upload.approach = tus` (name, description, privacy
/// from the sidecar), its URI and upload link are checkpointed before any byte, the bytes go by tus
/// from the offset Vimeo's tus server holds; then Vimeo must transcode it (`transcode.status`:
/// `complete`, `error` or `in_progress`) and the tags must be on it. Every part is part of the delivery:
/// a video Vimeo could not transcode, or whose tags were refused, is not published. An interrupted
/// delivery asks the video itself (its upload status, then its transcode and tags); a create whose
/// answer was lost is found by listing the account's videos — never created a second time. The upload
/// engine runs these steps (`ResumableAdapter`) over the shared tus transport (`TusOffsets`).
struct VimeoAdapter: ResumableAdapter, DescribedAdapter {
    typealias Module = VimeoPlatform
    let settings: AdapterSettings
    let displayName = "Vimeo"
    /// Vimeo transcodes after the last byte: its status is read at the descriptor's pace (`poll` in
    /// tests), within `transcodeTimeout`.
    let processing: ProcessingPoll

    init(_ settings: AdapterSettings, poll: PollPolicy? = nil, transcodeTimeout: Duration = .seconds(3600)) {
        self.settings = settings
        self.processing = Self.polling(poll, timeout: transcodeTimeout)
    }

    /// The account's `access_token:`, else the one `accounts add` stored (Vimeo's do not expire).
    func token() async throws -> String {
        if let t = try? settings.account.text("access_token") { return t }
        return try await settings.tokens.accessToken()
    }
    var root: String { settings.account.endpoint.hasSuffix("/") ? String(settings.account.endpoint.dropLast()) : settings.account.endpoint }
    static let accept = "application/vnd.vimeo.*+json;version=3.4"

    /// What the checkpoint holds. Before the create leaves, only `created` (when it was sent): a restart
    /// that finds no URI looks for that video among the account's newest before making one.
    struct Session: Codable, TusUploadSession {
        var uri: String?
        var uploadLink: String?
        var link: String?
        var created: Date?
        /// Vimeo's upload links authorize themselves: the bytes go without the API token.
        var uploadURL: String { uploadLink ?? "" }
        var checksum: String? { nil }
    }

    var transport: TusOffsets<Session> {
        TusOffsets(client: TusClient(http: settings.uploads, timeout: settings.requestTimeout), chunkSize: settings.chunkSize)
    }

    /// Vimeo's privacy word for ours (the descriptor's: private → nobody, followers/friends → contacts).
    static func privacy(_ p: Privacy) -> String {
        VimeoPlatform.descriptor.facts.privacyWord(p, options: [:]) ?? "nobody"
    }

    func call(_ method: HTTPMethod, _ path: String, json: (any Encodable)? = nil) async throws -> (HTTPClientResponse, Data) {
        var r = HTTPClientRequest(url: root + path)
        r.method = method
        r.headers.add(name: "Authorization", value: "Bearer \(try await token())")
        r.headers.add(name: "Accept", value: Self.accept)
        r.headers.add(name: "User-Agent", value: "OmniPost/1")
        if let json {
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(json)))
        }
        let resp: HTTPClientResponse
        let body: Data
        do {
            // On the client that follows no redirect, as the tus PATCHes are: one connection for the upload;
            // a 307 sent again at once, once (the body is JSON bytes).
            let (answer, bytes) = try await UploadRedirect.execute(r, on: settings.uploads, timeout: settings.requestTimeout, collect: 4 << 20)
            (resp, body) = (answer, Data(buffer: bytes))
        } catch {
            throw DeliveryError(.retryNow, .networkError, "Vimeo could not be reached: \(error)")
        }
        try UploadRedirect.refuse(
            status: Int(resp.status.code), headers: resp.headers, url: r.url, what: "to \(method.rawValue) \(UploadRedirect.bare(r.url))", platform: "Vimeo")
        return (resp, body)
    }

    /// Vimeo's refusal, classified. Its `X-RateLimit-Reset` is a date, not a count of seconds.
    func failure(_ resp: HTTPClientResponse, _ body: Data, _ what: String) -> DeliveryError {
        let status = Int(resp.status.code)
        let e = try? JSONDecoder().decode(VimeoWire.Failure.self, from: body)
        let said = "\(what): Vimeo answered \(status)" + ((e?.developer_message ?? e?.error).map { " (\($0))" } ?? "")
        switch status {
        case 401: return DeliveryError(.reauthenticate, .authRevoked, said + "; the access token was revoked or lacks the upload scope: make a new one", httpStatus: status)
        case 429:
            let reset = resp.headers.first(name: "X-RateLimit-Reset").flatMap { ISO8601DateFormatter().date(from: $0) }
            return DeliveryError(.retryAt(reset ?? RetryAfter.date(resp.headers, default: 60)), .rateLimited, said, httpStatus: status)
        case 500...: return DeliveryError(.retryNow, .platformError, said, httpStatus: status)
        default: return DeliveryError(.permanent, .platformError, said, httpStatus: status)
        }
    }

    /// A video read from the API; a failure answer is classified.
    func video(_ path: String, _ what: String) async throws -> VimeoWire.Video? {
        let (resp, body) = try await call(.GET, path)
        if resp.status == .notFound { return nil }
        guard resp.status == .ok, let v = try? JSONDecoder().decode(VimeoWire.Video.self, from: body) else { throw failure(resp, body, what) }
        return v
    }

    func outcome(_ uri: String, link: String?, bytes: Int64) -> PublishOutcome {
        PublishOutcome(
            remoteId: uri.split(separator: "/").last.map(String.init) ?? uri,
            url: link ?? "https://vimeo.com" + uri.replacingOccurrences(of: "/videos", with: ""), bytesSent: bytes)
    }

    func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        // The create was sent and its answer not had: `resume` looks for the video before making one.
        guard let uri = s.uri, let uploadLink = s.uploadLink else { return .partial(confirmedOffset: 0) }
        // The video was deleted: start afresh.
        guard let v = try await video(uri + "?fields=uri,link,upload.status,transcode.status", "reading \(uri)") else { return .notStarted }
        // Every byte is there: what is left (the transcode, the tags) is `publish`'s, from the end of the file.
        if v.upload?.status == "complete" { return .processing }
        guard let held = try await TusClient(http: settings.uploads, timeout: settings.requestTimeout).offset(uploadLink) else { return .notStarted }
        return .partial(confirmedOffset: held.offset)
    }

    /// Checkpointed before the create leaves: a lost answer is then looked for, not created again.
    func intent(_ job: UploadJob) -> Session? { Session(created: Date()) }

    /// A session whose create answer was lost: the video it made, found among the account's newest,
    /// goes on from what tus holds; none found — a new one is created.
    func resume(_ s: inout Session, _ job: UploadJob) async throws -> Int64? {
        if s.uri != nil, s.uploadLink != nil { return job.confirmedOffset }
        guard let created = s.created, let found = try await findCreated(job, since: created) else { return nil }
        s = found
        return try await TusClient(http: settings.uploads, timeout: settings.requestTimeout).offset(found.uploadURL)?.offset ?? 0
    }

    func start(_ job: UploadJob, _ prepared: Void) async throws -> Session {
        let m = job.metadata
        let created = Date()
        let body = VimeoWire.Create(
            upload: .init(approach: "tus", size: job.size), privacy: .init(view: Self.privacy(m.privacy)),
            name: m.title.isEmpty ? nil : m.title, description: m.description.isEmpty ? nil : m.description)
        let (resp, data) = try await call(.POST, "/me/videos?fields=uri,link,upload", json: body)
        guard resp.status == .ok || resp.status == .created, let v = try? JSONDecoder().decode(VimeoWire.Video.self, from: data),
            let uri = v.uri, let link = v.upload?.upload_link
        else {
            throw failure(resp, data, "creating the video")
        }
        return Session(uri: uri, uploadLink: link, link: v.link, created: created)
    }

    // MARK: After the bytes

    /// After the last byte Vimeo transcodes: its status is asked at the poll's pace.
    func finish(_ s: inout Session, _ job: UploadJob) async throws -> Processing { .pending(after: nil) }

    /// `transcode.status` leaving `in_progress`. `error` is Vimeo refusing the video: permanent.
    func status(_ s: Session, _ job: UploadJob) async throws -> Processing {
        let uri = s.uri ?? ""
        guard let v = try await video(uri + "?fields=uri,link,status,upload.status,transcode.status", "reading \(uri)") else {
            return .failed(DeliveryError(.retryNow, .platformError, "Vimeo no longer knows \(uri); it is uploaded again"))
        }
        switch v.transcode?.status {
        case "complete": return .ready
        case "error":
            return .failed(
                DeliveryError(
                    .permanent, .rejectedByPlatform,
                    "Vimeo could not transcode \(uri) (transcode.status: error); the video is in the account but cannot be played — it was not published"))
        default: return .pending(after: nil)
        }
    }

    /// The rest of the post once the video plays: the tags read back and set where they differ. Each
    /// step is idempotent, so an interrupted one is simply done again by the next attempt.
    func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        let uri = s.uri ?? ""
        guard let v = try await video(uri + "?fields=uri,link,tags.name", "reading \(uri)") else {
            throw DeliveryError(.retryNow, .platformError, "Vimeo no longer knows \(uri); it is uploaded again")
        }
        // More tags than the profile's count were refused at validation; never more than that are sent.
        let want = Array(job.metadata.tags.prefix(job.metadata.textRules(platform: platform).tags?.maxCount ?? job.metadata.tags.count))
        if !want.isEmpty, (v.tags ?? []).compactMap(\.name) != want { try await setTags(uri, want) }
        var out = outcome(uri, link: v.link ?? s.link, bytes: 0)
        // Found whole when reconciling: nothing was sent this time.
        out.reconciled = job.session != nil && job.confirmedOffset >= job.size
        return try await setCover(job, out, uri: uri)
    }

    /// A cover from a file as the video's thumbnail ("Working with thumbnail uploads"): a picture made,
    /// its image PUT to the picture's link, then made active. Each step is repeated by `PartRetry` on a
    /// transient failure, and a persisting one leaves the delivery for the next attempt. A refusal for
    /// good is noted on the outcome without failing the video, which is up already. A repeat makes
    /// another picture, never another video.
    func setCover(_ job: UploadJob, _ out: PublishOutcome, uri: String) async throws -> PublishOutcome {
        try await job.settingCover(on: out) { cover, image in
            var retry = PartRetry(settings)
            let picture: VimeoWire.Picture = try await retry.idempotent {
                let (resp, body) = try await call(.POST, uri + "/pictures")
                guard resp.status == .created, let p = try? JSONDecoder().decode(VimeoWire.Picture.self, from: body) else {
                    throw failure(resp, body, "making a picture for \(uri)")
                }
                return p
            }
            try await retry.idempotent {
                var put = HTTPClientRequest(url: picture.link)
                put.method = .PUT
                put.headers.add(name: "Content-Type", value: cover.hasSuffix(".png") ? "image/png" : "image/jpeg")
                put.body = .bytes(ByteBuffer(data: image))
                let resp = try await settings.uploads.execute(put, timeout: .seconds(Int64(settings.requestTimeout.seconds)))
                let body = Data(buffer: try await resp.body.collect(upTo: 1 << 20))
                try UploadRedirect.refuse(
                    status: Int(resp.status.code), headers: resp.headers, url: picture.link,
                    what: "while sending the cover image (PUT \(UploadRedirect.bare(picture.link)))", platform: "Vimeo")
                guard resp.status == .ok else { throw failure(resp, body, "sending the cover image of \(uri)") }
            }
            try await retry.idempotent {
                let (resp, body) = try await call(.PATCH, picture.uri, json: VimeoWire.Activate(active: true))
                guard resp.status == .ok else { throw failure(resp, body, "making the cover of \(uri) its thumbnail") }
            }
        }
    }

    /// `PUT /videos/{id}/tags`, idempotent, so a 5xx is tried again here (`PartRetry`); a 429 waits for
    /// Vimeo's reset. Either way the delivery is published only once the tags are on the video.
    func setTags(_ uri: String, _ tags: [String]) async throws {
        var retry = PartRetry(settings)
        try await retry.idempotent {
            let (resp, body) = try await call(.PUT, uri + "/tags", json: tags.map { VimeoWire.Tag(name: $0) })
            guard (200..<300).contains(Int(resp.status.code)) else { throw failure(resp, body, "setting the tags of \(uri)") }
        }
    }

    /// The video a lost create made: among the account's newest, the one with this upload's size, name
    /// and description, made since the create was sent (a minute's grace for the clocks).
    func findCreated(_ job: UploadJob, since: Date) async throws -> Session? {
        let (resp, body) = try await call(.GET, "/me/videos?sort=date&direction=desc&per_page=25&fields=uri,link,name,description,created_time,upload")
        guard resp.status == .ok else { throw failure(resp, body, "listing the account's videos") }
        let f = ISO8601DateFormatter()
        for v in (try? JSONDecoder().decode(VimeoWire.Page.self, from: body))?.data ?? [] {
            guard let uri = v.uri, let link = v.upload?.upload_link else { continue }
            let made = v.created_time.flatMap { f.date(from: $0) } ?? .distantPast
            if v.upload?.size.flatMap({ Int64($0.value) }) == job.size, made >= since.addingTimeInterval(-60),
                job.metadata.title.isEmpty || (v.name ?? "") == job.metadata.title, (v.description ?? "") == job.metadata.description
            {
                return Session(uri: uri, uploadLink: link, link: v.link, created: since)
            }
        }
        return nil
    }
}

/// The bodies of Vimeo's API (v3.4) this adapter sends and reads.
enum VimeoWire {
    /// A picture made for a custom thumbnail: its URI, and the link its image is PUT to.
    struct Picture: Decodable {
        var uri: String
        var link: String
    }

    struct Activate: Encodable {
        var active: Bool
    }

    struct Create: Encodable {
        struct Upload: Encodable {
            var approach: String
            var size: Int64
        }
        struct Privacy: Encodable { var view: String }
        var upload: Upload
        var privacy: Privacy
        var name: String?
        var description: String?
    }

    struct Tag: Codable { var name: String? }

    struct Video: Decodable {
        struct Upload: Decodable {
            var status: String?
            var upload_link: String?
            var size: LooseString?
        }
        struct Transcode: Decodable { var status: String? }
        var uri: String?
        var link: String?
        var name: String?
        var description: String?
        var created_time: String?
        var upload: Upload?
        var transcode: Transcode?
        var tags: [Tag]?
    }

    struct Page: Decodable { var data: [Video]? }

    struct Failure: Decodable {
        var developer_message: String?
        var error: String?
    }
}

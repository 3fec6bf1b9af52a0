import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// LinkedIn Videos and Posts API (PLATFORMS.md § LinkedIn): `initializeUpload` → PUT each part exactly
/// as `uploadInstructions` say, keeping every ETag → `finalizeUpload` with the ETags in order → poll the
/// video until AVAILABLE → `POST /rest/posts`, whose URN comes back in `x-restli-id`.
///
/// Exactly once: the video URN, upload token and part list are persisted before the first byte and
/// every part's ETag as it is confirmed, so a resumed upload re-sends only the parts without one. The
/// phase is persisted before finalizing and before the post; an uncertain post is reconciled by reading
/// the author's posts for one carrying this video — never by posting again. The upload engine runs
/// these steps (`ResumableAdapter`); `LinkedInParts` is the part-with-ETag transport.
package struct LinkedInAdapter: ResumableAdapter, DescribedAdapter {
    package typealias Module = LinkedInPlatform
    package let displayName = "LinkedIn"
    package let settings: AdapterSettings
    package let processing: ProcessingPoll
    var api: AuthorizedHTTP { settings.api }
    package var transport: LinkedInParts { LinkedInParts(adapter: self) }

    /// `poll`: instead of the descriptor's status pace (tests).
    package init(_ settings: AdapterSettings, poll: PollPolicy? = nil, pollTimeout: Duration = .seconds(900)) {
        self.settings = settings
        self.processing = Self.polling(poll, timeout: pollTimeout)
    }

    /// LinkedIn ships a dated API version every month and retires each after a year: the month before
    /// this one always exists and is supported.
    package static func apiVersion(now: Date = Date()) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let last = cal.date(byAdding: .month, value: -1, to: now) ?? now
        let c = cal.dateComponents([.year, .month], from: last)
        return String(format: "%04d%02d", c.year ?? 2026, c.month ?? 1)
    }

    /// LinkedIn's visibility for our privacy (the descriptor's: followers and friends are connections).
    static func visibility(_ m: PublishMetadata) -> String? {
        LinkedInPlatform.descriptor.facts.privacyWord(m.privacy, options: m.options)
    }

    /// One of `uploadInstructions`, with the ETag LinkedIn answered its PUT with once it has.
    struct Part: Codable {
        private(set) var url: String
        private(set) var first: Int64
        private(set) var last: Int64
        private(set) var etag: String?
        /// This part as the session's text holds it, encoded when the part is made or read and again
        /// when it gets its ETag — never at a checkpoint (`Session.persisted`). Not itself persisted.
        private(set) var json = ""
        var length: Int64 { last - first + 1 }

        enum CodingKeys: String, CodingKey { case url, first, last, etag }

        init(url: String, first: Int64, last: Int64, etag: String? = nil) {
            (self.url, self.first, self.last, self.etag) = (url, first, last, etag)
            json = Session.json(self)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                url: try c.decode(String.self, forKey: .url), first: try c.decode(Int64.self, forKey: .first),
                last: try c.decode(Int64.self, forKey: .last), etag: try c.decodeIfPresent(String.self, forKey: .etag))
        }

        /// LinkedIn took the part: its ETag, kept for finalizeUpload.
        mutating func confirm(_ etag: String) {
            self.etag = etag
            json = Session.json(self)
        }
    }

    package struct Session: Codable, PersistedSession {
        var video: String
        var uploadToken: String
        var owner: String
        var parts: [Part]
        var expiresAt: Double?
        package var phase: UploadPhase?
        /// Bytes in parts LinkedIn has confirmed (with an ETag).
        var confirmed: Int64 { parts.reduce(0) { $1.etag == nil ? $0 : $0 + $1.length } }

        /// The same text `JSONEncoder` with sorted keys makes of the whole session (what the ledger has
        /// always held), put together from each part's own encoding: a checkpoint after every part used
        /// to encode all of a 500 MiB upload's 125 signed URLs again for the one ETag that changed — 7 %
        /// of the upload's CPU, ~0.36 ms a part (issue 30). Keys in the encoder's sorted order.
        package var persisted: String {
            var fields: [String] = []
            if let expiresAt { fields.append(#""expiresAt":"# + Self.json(expiresAt)) }
            fields.append(#""owner":"# + Self.json(owner))
            fields.append(#""parts":["# + parts.map(\.json).joined(separator: ",") + "]")
            if let phase { fields.append(#""phase":"# + Self.json(phase)) }
            fields.append(#""uploadToken":"# + Self.json(uploadToken))
            fields.append(#""video":"# + Self.json(video))
            return "{" + fields.joined(separator: ",") + "}"
        }

        /// One value as `JSONEncoder` with sorted keys writes it inside the session.
        static func json<T: Encodable>(_ value: T) -> String {
            let e = JSONEncoder()
            e.outputFormatting = .sortedKeys
            return String(decoding: (try? e.encode(value)) ?? Data(), as: UTF8.self)
        }
    }

    func headers(_ extra: [(String, String)] = []) -> [(String, String)] {
        [("LinkedIn-Version", Self.apiVersion()), ("X-Restli-Protocol-Version", "2.0.0")] + extra
    }

    func rest(_ path: String) async throws -> AuthorizedHTTP.Reply {
        try await api.send(url: account.endpoint + path, method: .GET, headers: headers(), body: ByteBuffer())
    }

    func rest<T: Encodable>(_ path: String, json: T) async throws -> AuthorizedHTTP.Reply {
        try await api.send(url: account.endpoint + path, json: json, headers: headers(), contentType: "application/json")
    }

    /// Signed upload URLs past their expiry while unfinished: no post can come of them.
    package func lapsed(_ s: Session) -> Bool {
        guard s.phase == .uploading, let exp = s.expiresAt else { return false }
        return exp < Date().timeIntervalSince1970
    }

    package func prepare(_ job: UploadJob) async throws -> String { try await poster() }

    /// Who posts (and comments): the account's `id:`, or the member the token belongs to.
    func poster() async throws -> String {
        if !account.accountID.isEmpty { return account.accountID }
        let me = try await api.send(url: account.endpoint + "/v2/userinfo", method: .GET, headers: [], body: ByteBuffer())
        guard me.status == 200, let sub = me.decoded(LinkedInWire.UserInfo.self)?.sub else { throw Self.classify(me, during: "reading who the token belongs to") }
        return "urn:li:person:" + sub
    }

    /// initializeUpload: the video URN and its parts (the engine persists them before any byte).
    package func start(_ job: UploadJob, _ owner: String) async throws -> Session {
        let r = try await rest(
            "/rest/videos?action=initializeUpload",
            json: LinkedInWire.Initialize(
                initializeUploadRequest: .init(
                    owner: owner, fileSizeBytes: job.size, uploadCaptions: false, uploadThumbnail: false)))
        guard r.status == 200, let v = r.decoded(LinkedInWire.Value<LinkedInWire.Upload>.self)?.value, !v.uploadInstructions.isEmpty else {
            throw Self.classify(r, during: "initializing the upload")
        }
        let parts = v.uploadInstructions.map { Part(url: $0.uploadUrl, first: $0.firstByte, last: $0.lastByte) }
        // The parts must cover the file exactly, in order: anything else cannot be finalized.
        var next: Int64 = 0
        for p in parts {
            guard p.first == next, p.last >= p.first else { throw DeliveryError(.permanent, .platformError, "LinkedIn's upload instructions do not cover the file in order") }
            next = p.last + 1
        }
        guard next == job.size else { throw DeliveryError(.permanent, .platformError, "LinkedIn's upload instructions cover \(next) of \(job.size) bytes") }
        return Session(
            video: v.video, uploadToken: v.uploadToken ?? "", owner: owner, parts: parts,
            expiresAt: v.uploadUrlsExpireAt.map { $0 / 1000 }, phase: .uploading)
    }

    /// finalizeUpload with the ETags in order; then the video processes.
    package func finish(_ s: inout Session, _ job: UploadJob) async throws -> Processing {
        let r = try await rest(
            "/rest/videos?action=finalizeUpload",
            json: LinkedInWire.Finalize(
                finalizeUploadRequest: .init(
                    video: s.video, uploadToken: s.uploadToken, uploadedPartIds: s.parts.compactMap(\.etag))))
        guard (200..<300).contains(r.status) else { throw Self.classify(r, during: "finalizing the upload") }
        return .pending(after: nil)
    }

    package func status(_ s: Session, _ job: UploadJob) async throws -> Processing {
        guard let st = try await videoStatus(s.video) else {
            return .failed(DeliveryError(.retryNow, .platformError, "LinkedIn no longer knows \(s.video); it is uploaded again"))
        }
        switch st.status {
        case "AVAILABLE": return .ready
        case "PROCESSING_FAILED": return .failed(Self.processingFailed(st.reason))
        default: return .pending(after: nil)
        }
    }

    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        let m = job.metadata
        let r = try await rest(
            "/rest/posts",
            json: LinkedInWire.Post(
                author: s.owner, commentary: LinkedInText.commentary(m),
                visibility: Self.visibility(m) ?? "PUBLIC", content: .init(media: .init(title: m.title, id: s.video))))
        guard r.status == 201, let urn = r.headers.first(name: "x-restli-id") else { throw Self.classify(r, during: "creating the post") }
        return outcome(urn, 0)
    }

    static func processingFailed(_ reason: String?) -> DeliveryError {
        DeliveryError(.permanent, .rejectedByPlatform, "LinkedIn could not process the video: \(reason ?? "no reason given")")
    }

    /// The video's processing status: AVAILABLE, PROCESSING, PROCESSING_FAILED (with its reason), or nil
    /// when LinkedIn does not know it.
    func videoStatus(_ urn: String) async throws -> (status: String, reason: String?)? {
        let r = try await rest("/rest/videos/" + Self.encodeURN(urn))
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw Self.classify(r, during: "reading the video's status") }
        let v = r.decoded(LinkedInWire.Video.self)
        return (v?.status ?? "", v?.processingFailureReason)
    }

    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        switch s.phase ?? .uploading {
        case .uploading:
            if lapsed(s) { return .notStarted }
            return .partial(confirmedOffset: s.confirmed)
        case .finalized, .posting:
            if let urn = try await findPost(s) { return .published(outcome(urn, 0)) }
            guard let st = try await videoStatus(s.video) else { return .notStarted }
            if st.status == "PROCESSING_FAILED" { throw Self.processingFailed(st.reason) }
            return .processing
        }
    }

    /// The author's post carrying this video, if an uncertain `POST /rest/posts` made one.
    func findPost(_ s: Session) async throws -> String? {
        let r = try await rest("/rest/posts?q=author&author=\(Self.encodeURN(s.owner))&count=50&sortBy=LAST_MODIFIED")
        guard r.status == 200 else { throw Self.classify(r, during: "reading the author's posts") }
        return r.decoded(LinkedInWire.Posts.self)?.elements?.first { $0.content?.media?.id == s.video }?.id
    }

    func outcome(_ urn: String, _ sent: Int64) -> PublishOutcome {
        let base = account.endpoint.contains("linkedin.com") ? "https://www.linkedin.com/feed/update/" : account.endpoint + "/linkedin/feed/update/"
        return PublishOutcome(remoteId: urn, url: base + urn, bytesSent: sent)
    }

    /// A URN in a path or query: its colons percent-encoded, as Rest.li 2.0 wants.
    static func encodeURN(_ urn: String) -> String {
        urn.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? urn
    }

    /// LinkedIn errors: `{"status", "serviceErrorCode", "code", "message"}`.
    static func classify(_ r: AuthorizedHTTP.Reply, during: String) -> DeliveryError {
        let e = r.decoded(LinkedInWire.Failure.self)
        let code = e?.serviceErrorCode.map { " serviceErrorCode \($0.value)" } ?? ""
        let what = "LinkedIn answered \(r.status)\(code) while \(during): \(e?.message ?? String(decoding: r.body.prefix(200), as: UTF8.self))"
        switch r.status {
        case 429:
            // Daily quotas reset at midnight UTC; LinkedIn sends no Retry-After of its own.
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = TimeZone(identifier: "UTC")!
            let midnight = cal.nextDate(after: Date(), matching: DateComponents(hour: 0, minute: 0, second: 5), matchingPolicy: .nextTime) ?? Date().addingTimeInterval(3600)
            let when = r.headers.first(name: "Retry-After") != nil ? RetryAfter.date(r.headers, default: 3600) : midnight
            return DeliveryError(.retryAt(when), .rateLimited, what, httpStatus: r.status)
        case 401:
            return DeliveryError(.retryNow, .authRevoked, what, httpStatus: r.status)
        case 500...599:
            return DeliveryError(.retryNow, .platformError, what, httpStatus: r.status)
        default:
            return DeliveryError(.permanent, .rejectedByPlatform, what, httpStatus: r.status)
        }
    }
}

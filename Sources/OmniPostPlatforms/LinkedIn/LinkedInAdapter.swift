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
/// the author's posts for one carrying this video — never by posting again.
public struct LinkedInAdapter: PlatformAdapter, SettingsBacked {
    public let platform = "linkedin"
    let settings: AdapterSettings
    let poll: PollPolicy
    let pollTimeout: Duration
    public var account: AccountConfig { settings.account }
    var api: AuthorizedHTTP { settings.api }

    /// Video status is read at most every 2 s, growing to 15 s: LinkedIn meters calls per day.
    public static let statusPolling = PollPolicy(first: .seconds(2), max: .seconds(15), factor: 1.5, perMinute: 30)

    public init(_ settings: AdapterSettings, poll: PollPolicy = LinkedInAdapter.statusPolling, pollTimeout: Duration = .seconds(900)) {
        self.settings = settings
        self.poll = poll
        self.pollTimeout = pollTimeout
    }

    public var schedulesNatively: Bool { LinkedInPlatform.descriptor.capabilities.nativeScheduling }

    /// LinkedIn ships a dated API version every month and retires each after a year: the month before
    /// this one always exists and is supported.
    public static func apiVersion(now: Date = Date()) -> String {
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

    struct Part: Codable {
        var url: String
        var first: Int64
        var last: Int64
        var etag: String?
    }

    struct Session: Codable {
        enum Phase: String, Codable { case uploading, finalized, posting }
        var video: String
        var uploadToken: String
        var owner: String
        var parts: [Part]
        var expiresAt: Double?
        var phase: Phase
        /// Bytes in parts LinkedIn has confirmed (with an ETag).
        var confirmed: Int64 { parts.filter { $0.etag != nil }.reduce(0) { $0 + $1.last - $1.first + 1 } }
    }

    func headers(_ extra: [(String, String)] = []) -> [(String, String)] {
        [("LinkedIn-Version", Self.apiVersion()), ("X-Restli-Protocol-Version", "2.0.0")] + extra
    }

    func rest(_ path: String, _ method: HTTPMethod = .GET, json: [String: Any]? = nil) async throws -> AuthorizedHTTP.Reply {
        var h = headers()
        var body = ByteBuffer()
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]))
            h.append(("Content-Type", "application/json"))
        }
        return try await api.send(url: account.endpoint + path, method: method, headers: h, body: body)
    }

    public func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome {
        var sent: Int64 = 0
        var s: Session
        if let resumed = job.session.flatMap(Self.decode) { s = resumed } else { s = try await start(job, checkpoint: checkpoint) }
        if s.phase == .uploading {
            let reader = PinnedReader(path: job.filePath, size: job.size, expected: job.expectedSha256)
            var failures = 0
            var i = 0
            while i < s.parts.count {
                let part = s.parts[i]
                if part.etag != nil { i += 1; continue }
                do {
                    let body = try AuthorizedHTTP.readChunk(reader, from: part.first, count: Int(part.last - part.first + 1))
                    // Upload URLs are signed: no bearer token goes with the bytes.
                    let r = try await api.send(url: part.url, method: .PUT, headers: [("Content-Type", "application/octet-stream")], body: body, authorize: false)
                    sent += part.last - part.first + 1
                    if (200..<300).contains(r.status), let etag = r.headers.first(name: "etag") {
                        s.parts[i].etag = etag
                        failures = 0
                        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: s.confirmed, bytesSent: sent))
                        progress(s.confirmed, job.size)
                        i += 1
                    } else if r.status == 403 || r.status == 404 {
                        // The signed URLs expired before the upload was finalized: no post can come of it.
                        s = try await start(job, checkpoint: checkpoint)
                        i = 0
                    } else {
                        throw classify(r, during: "sending part \(i + 1) of \(s.parts.count)")
                    }
                } catch let e as DeliveryError where e.kind == .retryNow {
                    try await afterTransientFailure(e, failures: &failures)
                }
            }
            let r = try await rest("/rest/videos?action=finalizeUpload", .POST, json: ["finalizeUploadRequest": [
                "video": s.video, "uploadToken": s.uploadToken, "uploadedPartIds": s.parts.compactMap(\.etag),
            ]])
            guard (200..<300).contains(r.status) else { throw classify(r, during: "finalizing the upload") }
            s.phase = .finalized
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        }
        try await waitAvailable(s)
        s.phase = .posting
        // From here a post may exist: a restart reads the author's posts before anything else.
        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: job.size, bytesSent: sent))
        let m = job.metadata
        let r = try await rest("/rest/posts", .POST, json: [
            "author": s.owner,
            "commentary": LinkedInText.commentary(m),
            "visibility": Self.visibility(m) ?? "PUBLIC",
            "distribution": ["feedDistribution": "MAIN_FEED", "targetEntities": [Any](), "thirdPartyDistributionChannels": [Any]()],
            "content": ["media": ["title": m.title, "id": s.video]],
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false,
        ])
        guard r.status == 201, let urn = r.headers.first(name: "x-restli-id") else { throw classify(r, during: "creating the post") }
        return outcome(urn, sent)
    }

    /// Who posts (the account's `id:`, or the member the token belongs to), then the upload: its video
    /// URN and parts persisted before any byte.
    func start(_ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void) async throws -> Session {
        var owner = account.accountID
        if owner.isEmpty {
            let me = try await api.send(url: account.endpoint + "/v2/userinfo", method: .GET, headers: [], body: ByteBuffer())
            guard me.status == 200, let sub = me.json?["sub"] as? String else { throw classify(me, during: "reading who the token belongs to") }
            owner = "urn:li:person:" + sub
        }
        try await job.beforeRequest("init")
        let r = try await rest("/rest/videos?action=initializeUpload", .POST, json: ["initializeUploadRequest": [
            "owner": owner, "fileSizeBytes": job.size, "uploadCaptions": false, "uploadThumbnail": false,
        ]])
        guard r.status == 200, let v = r.json?["value"] as? [String: Any], let video = v["video"] as? String,
              let instructions = v["uploadInstructions"] as? [[String: Any]], !instructions.isEmpty else {
            throw classify(r, during: "initializing the upload")
        }
        let parts = instructions.compactMap { i -> Part? in
            guard let url = i["uploadUrl"] as? String, let f = (i["firstByte"] as? NSNumber)?.int64Value,
                  let l = (i["lastByte"] as? NSNumber)?.int64Value else { return nil }
            return Part(url: url, first: f, last: l)
        }
        // The parts must cover the file exactly, in order: anything else cannot be finalized.
        var next: Int64 = 0
        for p in parts {
            guard p.first == next, p.last >= p.first else { throw DeliveryError(.permanent, .platformError, "LinkedIn's upload instructions do not cover the file in order") }
            next = p.last + 1
        }
        guard next == job.size else { throw DeliveryError(.permanent, .platformError, "LinkedIn's upload instructions cover \(next) of \(job.size) bytes") }
        let s = Session(video: video, uploadToken: v["uploadToken"] as? String ?? "", owner: owner, parts: parts,
                        expiresAt: (v["uploadUrlsExpireAt"] as? NSNumber).map { $0.doubleValue / 1000 }, phase: .uploading)
        try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: 0, bytesSent: 0))
        return s
    }

    /// The video's processing status: AVAILABLE, PROCESSING, PROCESSING_FAILED (with its reason), or nil
    /// when LinkedIn does not know it.
    func videoStatus(_ urn: String) async throws -> (status: String, reason: String?)? {
        let r = try await rest("/rest/videos/" + Self.encodeURN(urn))
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw classify(r, during: "reading the video's status") }
        return (r.json?["status"] as? String ?? "", r.json?["processingFailureReason"] as? String)
    }

    func waitAvailable(_ s: Session) async throws {
        let end = ContinuousClock.now + pollTimeout
        var pacer = poll.pacer()
        while ContinuousClock.now < end {
            try await pacer.pace()
            guard let st = try await videoStatus(s.video) else {
                throw DeliveryError(.retryNow, .platformError, "LinkedIn no longer knows \(s.video); it is uploaded again")
            }
            switch st.status {
            case "AVAILABLE": return
            case "PROCESSING_FAILED": throw DeliveryError(.permanent, .rejectedByPlatform, "LinkedIn could not process the video: \(st.reason ?? "no reason given")")
            default: continue
            }
        }
        throw DeliveryError(.retryNow, .platformError, "LinkedIn had not finished processing after \(Int(pollTimeout.seconds)) s")
    }

    public func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = job.session.flatMap(Self.decode) else { return .notStarted }
        switch s.phase {
        case .uploading:
            if let exp = s.expiresAt, exp < Date().timeIntervalSince1970 { return .notStarted }
            return .partial(confirmedOffset: s.confirmed)
        case .finalized, .posting:
            if let urn = try await findPost(s) { return .published(outcome(urn, 0)) }
            guard let st = try await videoStatus(s.video) else { return .notStarted }
            if st.status == "PROCESSING_FAILED" {
                throw DeliveryError(.permanent, .rejectedByPlatform, "LinkedIn could not process the video: \(st.reason ?? "no reason given")")
            }
            return .processing
        }
    }

    /// The author's post carrying this video, if an uncertain `POST /rest/posts` made one.
    func findPost(_ s: Session) async throws -> String? {
        let r = try await rest("/rest/posts?q=author&author=\(Self.encodeURN(s.owner))&count=50&sortBy=LAST_MODIFIED")
        guard r.status == 200 else { throw classify(r, during: "reading the author's posts") }
        for p in r.json?["elements"] as? [[String: Any]] ?? [] {
            let media = ((p["content"] as? [String: Any])?["media"] as? [String: Any])?["id"] as? String
            if media == s.video, let id = p["id"] as? String { return id }
        }
        return nil
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
    func classify(_ r: AuthorizedHTTP.Reply, during: String) -> DeliveryError {
        let j = r.json
        let code = (j?["serviceErrorCode"] as? NSNumber).map { " serviceErrorCode \($0)" } ?? ""
        let what = "LinkedIn answered \(r.status)\(code) while \(during): \(j?["message"] as? String ?? String(decoding: r.body.prefix(200), as: UTF8.self))"
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

    static func decode(_ s: String) -> Session? { try? JSONDecoder().decode(Session.self, from: Data(s.utf8)) }
    static func encode(_ s: Session) -> String { String(decoding: (try? JSONEncoder().encode(s)) ?? Data(), as: UTF8.self) }
}

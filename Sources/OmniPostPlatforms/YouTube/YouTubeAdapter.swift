import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OmniPostCore

/// YouTube Data API v3 resumable upload (PLATFORMS.md): persist the session URI before the first
/// byte, send 256 KiB-multiple chunks, trust the server's `Range`, and after any error ask
/// `bytes */T` where the upload stands instead of starting over.
public struct YouTubeAdapter: PlatformAdapter, SettingsBacked {
    public let platform = "youtube"
    let settings: AdapterSettings
    /// Within YouTube's rule: a multiple of 256 KiB.
    let chunkSize: Int64
    public var account: AccountConfig { settings.account }

    public init(_ settings: AdapterSettings) {
        self.settings = settings
        self.chunkSize = max(262_144, settings.chunkSize / 262_144 * 262_144)
    }

    public init(account: AccountConfig, tokens: TokenProvider, http: HTTPClient, chunkSize: Int64, maxAttempts: Int = 10,
                requestTimeout: Duration = .seconds(120), backoff: Backoff = Backoff()) {
        precondition(chunkSize > 0 && chunkSize % 262_144 == 0, "YouTube chunks are multiples of 256 KiB")
        self.init(AdapterSettings(account: account, tokens: tokens, http: http, chunkSize: chunkSize, maxAttempts: maxAttempts,
                                  requestTimeout: requestTimeout, backoff: backoff))
    }

    /// Public watch URLs for the real service; the sandbox serves its own watch page.
    var watchBase: String {
        account.endpoint.contains("googleapis.com") ? "https://www.youtube.com/watch?v=" : account.endpoint + "/watch?v="
    }


    public func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome {
        var bytesSent: Int64 = 0
        var failures = 0
        var session = job.session
        // The stage reconciled a persisted session before calling: continue where the platform said.
        var offset: Int64 = job.session == nil ? 0 : job.confirmedOffset
        // Hashes what it sends; the last chunk (the one that makes the post) only if it all matches.
        let reader = PinnedReader(path: job.filePath, size: job.size, expected: job.expectedSha256)

        let id = try await upload(job, &session, &offset, &bytesSent, &failures, reader: reader, checkpoint: checkpoint, progress: progress)
        // The video exists; its cover is part of the delivery (its failures are the cover's own, not the upload's).
        return try await setCover(job, outcome(id, bytesSent))
    }

    /// The bytes, chunk by chunk, until YouTube answers with the video's id.
    func upload(_ job: UploadJob, _ session: inout String?, _ offset: inout Int64, _ bytesSent: inout Int64, _ failures: inout Int, reader: PinnedReader,
                checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
                progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> String {
        while true {
            if session == nil {
                let s = try await startSession(job)
                // Persisted before a single byte of the file leaves.
                try await checkpoint(UploadCheckpoint(session: s, confirmedOffset: 0, bytesSent: bytesSent))
                session = s
                offset = 0
            }
            guard let s = session else { continue }
            let end = min(offset + chunkSize, job.size)
            do {
                let reply = try await putChunk(s, reader: reader, from: offset, to: end, total: job.size, contentType: job.contentType)
                bytesSent += end - offset
                switch reply {
                case .complete(let id):
                    progress(job.size, job.size)
                    return id
                case .offset(let o):
                    offset = o
                    failures = 0
                    try await checkpoint(UploadCheckpoint(session: s, confirmedOffset: o, bytesSent: bytesSent))
                    progress(o, job.size)
                case .expired:
                    session = nil
                    failures += 1
                }
            } catch let e as DeliveryError where e.kind == .retryNow {
                try await afterTransientFailure(e, failures: &failures)
                // Where does the upload stand? Resume from the server's offset, not ours.
                switch try await statusQuery(s, total: job.size) {
                case .complete(let id): return id
                case .offset(let o):
                    offset = o
                    try await checkpoint(UploadCheckpoint(session: s, confirmedOffset: o, bytesSent: bytesSent))
                case .expired: session = nil
                }
            }
        }
    }

    public var schedulesNatively: Bool { YouTubePlatform.descriptor.capabilities.nativeScheduling }

    /// The `bytes */T` status query: 308 + Range (partial), 200/201 (the video exists), 404/410 (expired).
    public func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = job.session else { return .notStarted }
        switch try await statusQuery(s, total: job.size) {
        case .complete(let id): return .published(try await setCover(job, outcome(id, 0)))
        case .offset(let o): return .partial(confirmedOffset: o)
        case .expired: return .notStarted
        }
    }

    func outcome(_ id: String, _ sent: Int64) -> PublishOutcome {
        PublishOutcome(remoteId: id, url: watchBase + id, bytesSent: sent)
    }

    /// thumbnails.set after the video exists: part of the delivery. Setting it again replaces it, so a
    /// resumed delivery repeats it safely. A transient failure (5xx, the network) is tried again here; one
    /// that persists, a rate limit or a spent quota leaves the delivery unpublished — the next attempt finds
    /// the video whole (`bytes */T`) and sets the cover then. Only a refusal for good (an unverified
    /// channel, a bad image) is noted on the outcome without failing the video, which is up already.
    func setCover(_ job: UploadJob, _ out: PublishOutcome) async throws -> PublishOutcome {
        guard let cover = job.coverPath else { return out }
        var out = out
        guard let data = FileManager.default.contents(atPath: cover) else {
            out.coverSet = false
            out.coverError = "cover \(cover) missing"
            return out
        }
        var failures = 0
        while true {
            let e: DeliveryError
            do {
                let resp = try await send(url: account.endpoint + "/upload/youtube/v3/thumbnails/set?videoId=\(out.remoteId)", method: .POST,
                                          headers: [("Content-Type", cover.hasSuffix(".png") ? "image/png" : "image/jpeg")], body: ByteBuffer(bytes: data))
                if resp.status == 200 {
                    out.coverSet = true
                    return out
                }
                e = classify(resp, during: "setting the thumbnail of \(out.remoteId)")
            } catch let d as DeliveryError {
                e = d
            }
            switch e.kind {
            case .permanent:
                out.coverSet = false
                out.coverError = e.message
                return out
            case .retryNow where e.code != .authRevoked:
                try await afterTransientFailure(e, failures: &failures)
            default:
                throw e
            }
        }
    }

    enum ChunkReply { case offset(Int64), complete(String), expired }

    func startSession(_ job: UploadJob) async throws -> String {
        let m = job.metadata
        var snippet: [String: Any] = ["title": m.title, "description": m.description, "tags": m.tags]
        snippet["categoryId"] = m.options["category_id"] ?? "22"
        var status: [String: Any] = ["privacyStatus": m.privacy.rawValue]
        if let at = m.publishAt {
            // YouTube publishes natively at publishAt, which it accepts only on private videos.
            status["privacyStatus"] = "private"
            status["publishAt"] = ISO8601DateFormatter().string(from: at)
        }
        status["selfDeclaredMadeForKids"] = (m.options["made_for_kids"].map { ["true", "yes", "1"].contains($0.lowercased()) }) ?? false
        if let s = m.options["contains_synthetic_media"] { status["containsSyntheticMedia"] = ["true", "yes", "1"].contains(s.lowercased()) }
        let body = try JSONSerialization.data(withJSONObject: ["snippet": snippet, "status": status], options: [.sortedKeys])
        let url = account.endpoint + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status"
        let resp = try await send(url: url, method: .POST, headers: [
            ("Content-Type", "application/json; charset=UTF-8"),
            ("X-Upload-Content-Length", String(job.size)),
            ("X-Upload-Content-Type", job.contentType),
        ], body: ByteBuffer(bytes: body))
        guard resp.status == 200, let location = resp.headers.first(name: "Location") else {
            throw classify(resp, during: "starting the upload session")
        }
        return location
    }

    func putChunk(_ session: String, reader: PinnedReader, from: Int64, to end: Int64, total: Int64, contentType: String) async throws -> ChunkReply {
        let bytes = try AuthorizedHTTP.readChunk(reader, from: from, count: Int(end - from))
        let resp = try await send(url: session, method: .PUT, headers: [
            ("Content-Type", contentType),
            ("Content-Range", "bytes \(from)-\(end - 1)/\(total)"),
        ], body: bytes)
        return try interpret(resp, during: "sending bytes \(from)–\(end - 1)")
    }

    enum StatusReply { case offset(Int64), complete(String), expired }

    func statusQuery(_ session: String, total: Int64) async throws -> StatusReply {
        for attempt in 1...maxAttempts {
            do {
                let resp = try await send(url: session, method: .PUT, headers: [("Content-Range", "bytes */\(total)")], body: ByteBuffer())
                switch try interpret(resp, during: "asking where the upload stands") {
                case .offset(let o): return .offset(o)
                case .complete(let id): return .complete(id)
                case .expired: return .expired
                }
            } catch let e as DeliveryError where e.kind == .retryNow && attempt < maxAttempts {
                try await Task.sleep(for: backoff.delay(attempt: attempt))
            }
        }
        throw DeliveryError(.retryNow, .networkError, "the upload's status could not be read")
    }

    func interpret(_ resp: Reply, during: String) throws -> ChunkReply {
        switch resp.status {
        case 308:
            // Always trust Range. No Range header: nothing stored yet.
            if let r = resp.headers.first(name: "Range"), let dash = r.lastIndex(of: "-"), let last = Int64(r[r.index(after: dash)...]) {
                return .offset(last + 1)
            }
            return .offset(0)
        case 200, 201:
            guard let json = try? JSONSerialization.jsonObject(with: resp.body) as? [String: Any], let id = json["id"] as? String else {
                throw DeliveryError(.retryNow, .rejectedByPlatform, "the final reply carried no video id", httpStatus: resp.status)
            }
            if let st = json["status"] as? [String: Any], let us = st["uploadStatus"] as? String, ["failed", "rejected"].contains(us) {
                let why = (st["failureReason"] as? String) ?? (st["rejectionReason"] as? String) ?? us
                throw DeliveryError(.permanent, .rejectedByPlatform, "YouTube \(us) the video: \(why)", httpStatus: resp.status)
            }
            return .complete(id)
        case 404, 410:
            return .expired
        default:
            throw classify(resp, during: during)
        }
    }

    /// Maps YouTube's answers onto retry-now / retry-at / re-authenticate / permanent (PLATFORMS.md §6).
    func classify(_ resp: Reply, during: String) -> DeliveryError {
        let json = (try? JSONSerialization.jsonObject(with: resp.body)) as? [String: Any]
        let err = json?["error"] as? [String: Any]
        let message = err?["message"] as? String ?? "HTTP \(resp.status)"
        let reason = ((err?["errors"] as? [[String: Any]])?.first?["reason"] as? String) ?? ""
        let what = "YouTube answered \(resp.status) \(reason.isEmpty ? "" : "(\(reason)) ")while \(during): \(message)"
        switch (resp.status, reason) {
        case (401, _):
            return DeliveryError(.retryNow, .authRevoked, what, httpStatus: resp.status)
        case (403, "quotaExceeded"):
            return DeliveryError(.retryAt(Self.nextPacificMidnight(after: Date())), .quotaExhausted, what, httpStatus: resp.status)
        case (400, "uploadLimitExceeded"):
            return DeliveryError(.retryAt(Date().addingTimeInterval(86400)), .quotaExhausted, what, httpStatus: resp.status)
        case (429, _), (403, "rateLimitExceeded"), (403, "userRateLimitExceeded"):
            return DeliveryError(.retryAt(RetryAfter.date(resp.headers, default: 60)), .rateLimited, what, httpStatus: resp.status)
        case (500...599, _), (408, _):
            return DeliveryError(.retryNow, .platformError, what, httpStatus: resp.status)
        default:
            return DeliveryError(.permanent, .rejectedByPlatform, what, httpStatus: resp.status)
        }
    }

    /// YouTube's daily quota resets at midnight Pacific time.
    static func nextPacificMidnight(after date: Date) -> Date {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "America/Los_Angeles")!
        let start = cal.startOfDay(for: date)
        return cal.date(byAdding: .day, value: 1, to: start)!
    }

    func send(url: String, method: HTTPMethod, headers: [(String, String)], body: ByteBuffer) async throws -> Reply {
        try await settings.api.send(url: url, method: method, headers: headers, body: body)
    }

    typealias Reply = AuthorizedHTTP.Reply
}

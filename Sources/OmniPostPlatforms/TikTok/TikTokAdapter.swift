import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// TikTok Content Posting API, direct post with FILE_UPLOAD (PLATFORMS.md): creator_info, init with
/// the chunk arithmetic, chunks PUT in order (206 … 201), then status/fetch until PUBLISH_COMPLETE.
/// The publish id and upload URL are persisted before the first byte; after a crash the adapter asks
/// status/fetch what happened — finished, or how many bytes arrived — and never inits a second post
/// for an upload that may still complete.
public struct TikTokAdapter: PlatformAdapter, SettingsBacked {
    public let platform = "tiktok"
    let settings: AdapterSettings
    /// Within TikTok's rule: 5–64 MB.
    let chunkSize: Int64
    let poll: PollPolicy
    let pollTimeout: Duration
    public var account: AccountConfig { settings.account }

    /// status/fetch allows 30 requests a minute per access token (TikTok's rate-limit table): never
    /// faster than every 2 s, growing to 10 s while a long video processes.
    public static let statusPolling = PollPolicy(first: .seconds(2), max: .seconds(10), factor: 1.5, perMinute: 30)

    static let minChunk: Int64 = 5 * 1_048_576
    static let maxChunk: Int64 = 64_000_000

    public init(_ settings: AdapterSettings, poll: PollPolicy = TikTokAdapter.statusPolling, pollTimeout: Duration = .seconds(600)) {
        self.settings = settings
        self.chunkSize = min(max(settings.chunkSize, Self.minChunk), Self.maxChunk)
        self.poll = poll
        self.pollTimeout = pollTimeout
    }

    public init(account: AccountConfig, tokens: TokenProvider, http: HTTPClient, chunkSize: Int64 = 10 * 1_048_576, maxAttempts: Int = 10,
                requestTimeout: Duration = .seconds(120), backoff: Backoff = Backoff(), poll: PollPolicy = TikTokAdapter.statusPolling,
                pollTimeout: Duration = .seconds(600)) {
        self.init(AdapterSettings(account: account, tokens: tokens, http: http, chunkSize: chunkSize, maxAttempts: maxAttempts,
                                  requestTimeout: requestTimeout, backoff: backoff), poll: poll, pollTimeout: pollTimeout)
    }

    var api: AuthorizedHTTP { settings.api }

    /// Our privacy words in TikTok's terms (the descriptor's); `privacy_level` in overrides wins.
    static func privacyLevel(_ m: PublishMetadata) -> String? {
        TikTokPlatform.descriptor.facts.privacyWord(m.privacy, options: m.options)
    }

    /// The persisted remote side: what status/fetch needs, and where to keep sending.
    struct Session: Codable {
        var publishID: String
        var uploadURL: String
        var chunkSize: Int64
        var chunkCount: Int
    }

    /// FILE_UPLOAD arithmetic, as TikTok checks it (Content Posting API, "Media Transfer Guide"):
    /// a file under 5 MiB, or one no larger than the preferred chunk, goes whole (chunk_size =
    /// video_size, one chunk); otherwise total_chunk_count = floor(video_size / chunk_size) and the
    /// last chunk absorbs the remainder (under 2 chunks, so ≤ 128 MB). At most 1000 chunks.
    static func chunks(size: Int64, preferred: Int64) -> (size: Int64, count: Int) {
        if size < minChunk || size <= preferred { return (size, 1) }
        var chunk = preferred
        if size / chunk > 1000 { chunk = min(maxChunk, (size + 999) / 1000) }
        return (chunk, Int(size / chunk))
    }

    public func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome {
        var sent: Int64 = 0
        var session = job.session.flatMap { try? JSONDecoder().decode(Session.self, from: Data($0.utf8)) }
        // The stage reconciled a persisted session before calling: continue from the bytes TikTok holds.
        var offset: Int64 = session == nil ? 0 : job.confirmedOffset
        if session == nil {
            let s = try await start(job)
            try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: 0, bytesSent: 0))
            session = s
            offset = 0
        }
        guard var s = session else { throw DeliveryError(.permanent, .internalError, "no TikTok session") }
        // Hashes what it sends; the last chunk (the one that makes the post) only if it all matches.
        let reader = PinnedReader(path: job.filePath, size: job.size, expected: job.expectedSha256)
        var failures = 0
        while offset < job.size {
            let index = Int(offset / s.chunkSize)
            let length = index == s.chunkCount - 1 ? job.size - offset : s.chunkSize
            do {
                let body = try AuthorizedHTTP.readChunk(reader, from: offset, count: Int(length))
                let r = try await api.send(url: s.uploadURL, method: .PUT, headers: [
                    ("Content-Type", job.contentType), ("Content-Range", "bytes \(offset)-\(offset + length - 1)/\(job.size)"),
                ], body: body, authorize: false)
                sent += length
                switch r.status {
                case 206, 201:
                    offset += length
                    failures = 0
                    try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: offset, bytesSent: sent))
                    progress(offset, job.size)
                case 403, 404:
                    // The upload URL expired (it lives an hour) before the last chunk: that publish can never
                    // complete, so a fresh init cannot double-post.
                    s = try await start(job)
                    try await checkpoint(UploadCheckpoint(session: Self.encode(s), confirmedOffset: 0, bytesSent: sent))
                    offset = 0
                default:
                    throw classify(r, during: "sending chunk \(index + 1) of \(s.chunkCount)")
                }
            } catch let e as DeliveryError where e.kind == .retryNow {
                try await afterTransientFailure(e, failures: &failures)
                // Chunks go strictly in order: continue from what TikTok says it holds.
                offset = (try await fetchStatus(s.publishID)).uploadedBytes
            }
        }
        return try await waitPublished(s, sent)
    }

    public var schedulesNatively: Bool { TikTokPlatform.descriptor.capabilities.nativeScheduling }

    /// status/fetch on the persisted publish id: finished, still processing, or how many bytes arrived.
    public func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = job.session.flatMap({ try? JSONDecoder().decode(Session.self, from: Data($0.utf8)) }) else { return .notStarted }
        let st = try await fetchStatus(s.publishID)
        switch st.status {
        case "PUBLISH_COMPLETE", "SEND_TO_USER_INBOX": return .published(outcome(st, s, 0))
        case "PROCESSING_DOWNLOAD": return .processing
        case "FAILED": throw DeliveryError(.permanent, .rejectedByPlatform, "TikTok failed the post: \(st.failReason ?? "no reason given")")
        case nil: return .notStarted   // the platform does not know it: it never started
        default: return st.uploadedBytes >= job.size ? .processing : .partial(confirmedOffset: st.uploadedBytes)
        }
    }

    func start(_ job: UploadJob) async throws -> Session {
        let m = job.metadata
        let info = try await envelope(api.sendJSON(url: account.endpoint + "/v2/post/publish/creator_info/query/", [:]), during: "reading creator info")
        let level = Self.privacyLevel(m) ?? "SELF_ONLY"
        if let options = info["privacy_level_options"] as? [String], !options.contains(level) {
            throw DeliveryError(.permanent, .rejectedByPlatform, "this creator cannot post \(level); allowed: \(options.joined(separator: ", "))")
        }
        let (chunk, count) = Self.chunks(size: job.size, preferred: chunkSize)
        // 6 inits a minute per token: counted when this request leaves, not when the delivery was claimed.
        try await job.beforeRequest("init")
        var post: [String: Any] = [
            "title": m.caption(platform: platform), "privacy_level": level,
            "disable_duet": Self.flag(m.options["disable_duet"]), "disable_stitch": Self.flag(m.options["disable_stitch"]),
            "disable_comment": Self.flag(m.options["disable_comment"]),
            "brand_content_toggle": Self.flag(m.options["brand_content_toggle"]), "brand_organic_toggle": Self.flag(m.options["brand_organic_toggle"]),
            "is_aigc": Self.flag(m.options["is_aigc"]),
        ]
        if let ms = m.coverAtMs { post["video_cover_timestamp_ms"] = ms }
        let data = try await envelope(api.sendJSON(url: account.endpoint + "/v2/post/publish/video/init/", [
            "post_info": post,
            "source_info": ["source": "FILE_UPLOAD", "video_size": job.size, "chunk_size": chunk, "total_chunk_count": count],
        ]), during: "starting the post")
        guard let id = data["publish_id"] as? String, let url = data["upload_url"] as? String else {
            throw DeliveryError(.retryNow, .rejectedByPlatform, "TikTok's init reply had no publish_id or upload_url")
        }
        return Session(publishID: id, uploadURL: url, chunkSize: chunk, chunkCount: count)
    }

    struct Status {
        var status: String?
        var failReason: String?
        var postIDs: [String]
        var uploadedBytes: Int64
    }

    func fetchStatus(_ publishID: String) async throws -> Status {
        let r = try await api.sendJSON(url: account.endpoint + "/v2/post/publish/status/fetch/", ["publish_id": publishID])
        if (r.json?["error"] as? [String: Any])?["code"] as? String == "invalid_publish_id" {
            return Status(status: nil, failReason: nil, postIDs: [], uploadedBytes: 0)
        }
        let d = try envelope(r, during: "asking for the post's status")
        return Status(status: d["status"] as? String, failReason: d["fail_reason"] as? String,
                      postIDs: (d["publicaly_available_post_id"] as? [Any])?.map { "\($0)" } ?? [],
                      uploadedBytes: (d["uploaded_bytes"] as? NSNumber)?.int64Value ?? 0)
    }

    func waitPublished(_ s: Session, _ sent: Int64) async throws -> PublishOutcome {
        let end = ContinuousClock.now + pollTimeout
        var pacer = poll.pacer()
        while ContinuousClock.now < end {
            try await pacer.pace()
            let st: Status
            do { st = try await fetchStatus(s.publishID) } catch let e as DeliveryError {
                // A 429 on a status check: wait as told (within the poll deadline) and ask again; the
                // post itself is fine, and deferring the whole delivery would record it late.
                guard case .retryAt(let when) = e.kind, e.code == .rateLimited, when < Date().addingTimeInterval(pollTimeout.seconds) else { throw e }
                try await Task.sleep(for: .milliseconds(Int64(max(0, when.timeIntervalSinceNow) * 1000)))
                continue
            }
            switch st.status {
            case "PUBLISH_COMPLETE", "SEND_TO_USER_INBOX": return outcome(st, s, sent)
            case "FAILED": throw DeliveryError(.permanent, .rejectedByPlatform, "TikTok failed the post: \(st.failReason ?? "no reason given")")
            default: continue
            }
        }
        throw DeliveryError(.retryNow, .platformError, "TikTok had not finished processing after \(Int(pollTimeout.seconds)) s")
    }

    func outcome(_ st: Status, _ s: Session, _ sent: Int64) -> PublishOutcome {
        let id = st.postIDs.first ?? s.publishID
        let base = account.endpoint.contains("tiktokapis.com") ? "https://www.tiktok.com/@\(account.key.split(separator: ":").last ?? "")/video/" : account.endpoint + "/tiktok/video/"
        return PublishOutcome(remoteId: id, url: base + id, bytesSent: sent)
    }

    /// TikTok reports errors in `error.code`, sometimes under HTTP 200: success is code "ok" only.
    func envelope(_ r: AuthorizedHTTP.Reply, during: String) throws -> [String: Any] {
        let code = (r.json?["error"] as? [String: Any])?["code"] as? String
        if (200..<300).contains(r.status), code == "ok" { return r.json?["data"] as? [String: Any] ?? [:] }
        throw classify(r, during: during)
    }

    func classify(_ r: AuthorizedHTTP.Reply, during: String) -> DeliveryError {
        let err = r.json?["error"] as? [String: Any]
        let code = err?["code"] as? String ?? "http_\(r.status)"
        let what = "TikTok answered \(r.status) (\(code)) while \(during): \(err?["message"] as? String ?? "")"
        switch (r.status, code) {
        case (_, "rate_limit_exceeded"), (429, _):
            return DeliveryError(.retryAt(RetryAfter.date(r.headers, default: 60)), .rateLimited, what, httpStatus: r.status)
        case (_, "spam_risk_too_many_posts"), (_, "spam_risk_user_banned_from_posting"):
            return DeliveryError(.retryAt(Date().addingTimeInterval(86400)), .quotaExhausted, what, httpStatus: r.status)
        case (_, "access_token_invalid"), (401, _):
            return DeliveryError(.retryNow, .authRevoked, what, httpStatus: r.status)
        case (500...599, _), (_, "internal_error"):
            return DeliveryError(.retryNow, .platformError, what, httpStatus: r.status)
        default:
            return DeliveryError(.permanent, .rejectedByPlatform, what, httpStatus: r.status)
        }
    }

    static func flag(_ v: String?) -> Bool { v.map { ["true", "yes", "1"].contains($0.lowercased()) } ?? false }
    static func encode(_ s: Session) -> String { String(decoding: (try? JSONEncoder().encode(s)) ?? Data(), as: UTF8.self) }
}

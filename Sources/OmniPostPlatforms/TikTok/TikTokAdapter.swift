import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// TikTok Content Posting API, direct post with FILE_UPLOAD (PLATFORMS.md): creator_info, init with
/// the chunk arithmetic, chunks PUT in order (206 … 201), then status/fetch until PUBLISH_COMPLETE.
/// The publish id and upload URL are persisted before the first byte; after a crash the adapter asks
/// status/fetch what happened — finished, or how many bytes arrived — and never inits a second post
/// for an upload that may still complete. The upload engine runs these steps (`ResumableAdapter`);
/// `TikTokChunks` is the FILE_UPLOAD transport.
package struct TikTokAdapter: ResumableAdapter, DescribedAdapter {
    package typealias Module = TikTokPlatform
    package let displayName = "TikTok"
    package let settings: AdapterSettings
    package let processing: ProcessingPoll

    /// `poll`: instead of the descriptor's status pace (tests).
    package init(_ settings: AdapterSettings, poll: PollPolicy? = nil, pollTimeout: Duration = .seconds(600)) {
        self.settings = settings
        self.processing = Self.polling(poll, timeout: pollTimeout)
    }

    package init(
        account: AccountConfig, tokens: TokenProvider, http: HTTPClient, uploads: HTTPClient? = nil, chunkSize: Int64 = 10 * 1_048_576, maxAttempts: Int = 10,
        requestTimeout: Duration = .seconds(120), backoff: Backoff = Backoff(), poll: PollPolicy? = nil,
        pollTimeout: Duration = .seconds(600)
    ) {
        self.init(
            AdapterSettings(
                account: account, tokens: tokens, http: http, uploads: uploads, chunkSize: chunkSize, maxAttempts: maxAttempts,
                requestTimeout: requestTimeout, backoff: backoff), poll: poll, pollTimeout: pollTimeout)
    }

    var api: AuthorizedHTTP { settings.api }
    package var transport: TikTokChunks { TikTokChunks(adapter: self) }

    /// Our privacy words in TikTok's terms (the descriptor's); `privacy_level` in overrides wins.
    static func privacyLevel(_ m: PublishMetadata) -> String? {
        TikTokPlatform.descriptor.facts.privacyWord(m.privacy, options: m.options)
    }

    /// The persisted remote side: what status/fetch needs, and where to keep sending.
    package struct Session: Codable, PersistedSession {
        var publishID: String
        /// Where the chunks go (the bench's curl baseline sends its own there).
        package var uploadURL: String
        var chunkSize: Int64
        var chunkCount: Int
    }

    /// FILE_UPLOAD arithmetic, as TikTok checks it (Content Posting API, "Media Transfer Guide"):
    /// a file under 5 MiB, or one no larger than the preferred chunk, goes whole (chunk_size =
    /// video_size, one chunk); otherwise total_chunk_count = floor(video_size / chunk_size) and the
    /// last chunk absorbs the remainder (under 2 chunks, so ≤ 128 MB). At most 1000 chunks. The sizes
    /// and the count are the descriptor's (`parts`).
    static func chunks(size: Int64, preferred: Int64, parts: PartSizes = Module.descriptor.parts!) -> (size: Int64, count: Int) {
        if size < parts.min || size <= preferred { return (size, 1) }
        var chunk = preferred
        if let most = parts.maxCount, size / chunk > most { chunk = min(parts.max, (size + most - 1) / most) }
        return (chunk, Int(size / chunk))
    }

    /// status/fetch on the persisted publish id: finished, still processing, or how many bytes arrived.
    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        let st = try await fetchStatus(s.publishID)
        switch st.status {
        case "PUBLISH_COMPLETE", "SEND_TO_USER_INBOX": return .published(outcome(st, s))
        case "PROCESSING_DOWNLOAD": return .processing
        // A post failed for a reason TikTok calls retryable is no post: uploaded anew.
        case "FAILED" where Self.worthANewUpload(st.fail_reason): return .notStarted
        case "FAILED": throw Self.failed(st.fail_reason)
        case nil: return .notStarted  // the platform does not know it: it never started
        default:
            let held = st.uploaded_bytes ?? 0
            return held >= job.size ? .processing : .partial(confirmedOffset: held)
        }
    }

    /// creator_info before each post, obeyed as TikTok's UX guidelines ask: the privacy asked must be one
    /// of the creator's options, the clip within the creator's longest post, and an interaction the
    /// creator turned off stays off (not metered: it is no init).
    package func prepare(_ job: UploadJob) async throws -> TikTokWire.CreatorInfo {
        // Upload to inbox sets nothing creator_info governs: the creator finishes the post in the app.
        if Self.toInbox(job.metadata) { return TikTokWire.CreatorInfo() }
        let info =
            try await Self.envelope(
                api.send(url: account.endpoint + "/v2/post/publish/creator_info/query/", json: EmptyBody()),
                TikTokWire.CreatorInfo.self, during: "reading creator info") ?? TikTokWire.CreatorInfo()
        let level = Self.privacyLevel(job.metadata) ?? "SELF_ONLY"
        if let options = info.privacy_level_options, !options.contains(level) {
            throw DeliveryError(.permanent, .rejectedByPlatform, "this creator cannot post \(level); allowed: \(options.joined(separator: ", "))")
        }
        if let most = info.max_video_post_duration_sec, let d = job.durationS, d > Double(most) {
            throw DeliveryError(
                .permanent, .durationOutOfRange, "this creator can post videos of up to \(most) s (creator_info); this one is \(Int(d.rounded(.up))) s")
        }
        return info
    }

    /// init with the chunk arithmetic: the publish id and upload URL.
    package func start(_ job: UploadJob, _ creator: TikTokWire.CreatorInfo) async throws -> Session {
        let m = job.metadata
        let (chunk, count) = Self.chunks(size: job.size, preferred: partSize)
        let source = TikTokWire.SourceInfo(source: "FILE_UPLOAD", video_size: job.size, chunk_size: chunk, total_chunk_count: count)
        if Self.toInbox(m) {
            let data = try await Self.envelope(
                api.send(url: account.endpoint + "/v2/post/publish/inbox/video/init/", json: TikTokWire.InboxInit(source_info: source)),
                TikTokWire.Started.self, during: "starting the upload to the creator's inbox")
            guard let id = data?.publish_id, let url = data?.upload_url else {
                throw DeliveryError(.retryNow, .rejectedByPlatform, "TikTok's inbox init reply had no publish_id or upload_url")
            }
            return Session(publishID: id, uploadURL: url, chunkSize: chunk, chunkCount: count)
        }
        let post = TikTokWire.PostInfo(
            title: m.caption(platform: platform), privacy_level: Self.privacyLevel(m) ?? "SELF_ONLY",
            disable_duet: Self.flag(m.options["disable_duet"]) || creator.duet_disabled == true,
            disable_stitch: Self.flag(m.options["disable_stitch"]) || creator.stitch_disabled == true,
            disable_comment: Self.flag(m.options["disable_comment"]) || creator.comment_disabled == true,
            brand_content_toggle: Self.flag(m.options["brand_content_toggle"]), brand_organic_toggle: Self.flag(m.options["brand_organic_toggle"]),
            is_aigc: Self.flag(m.options["is_aigc"]), video_cover_timestamp_ms: m.coverAtMs)
        let data = try await Self.envelope(
            api.send(url: account.endpoint + "/v2/post/publish/video/init/", json: TikTokWire.Init(post_info: post, source_info: source)),
            TikTokWire.Started.self, during: "starting the post")
        guard let id = data?.publish_id, let url = data?.upload_url else {
            throw DeliveryError(.retryNow, .rejectedByPlatform, "TikTok's init reply had no publish_id or upload_url")
        }
        return Session(publishID: id, uploadURL: url, chunkSize: chunk, chunkCount: count)
    }

    /// After the last chunk TikTok processes and publishes by itself: its status is asked at once.
    package func finish(_ s: inout Session, _ job: UploadJob) async throws -> Processing { .pending(after: nil) }

    package func status(_ s: Session, _ job: UploadJob) async throws -> Processing {
        let st = try await fetchStatus(s.publishID)
        switch st.status {
        case "PUBLISH_COMPLETE", "SEND_TO_USER_INBOX": return .published(outcome(st, s))
        case "FAILED" where Self.worthANewUpload(st.fail_reason):
            return .gone("TikTok failed publish \(s.publishID) with fail_reason \(st.fail_reason ?? ""), which it documents as retryable")
        case "FAILED": return .failed(Self.failed(st.fail_reason))
        default: return .pending(after: nil)
        }
    }

    /// Get Post Status documents `internal` as "a retryable error": a new init uploads the file again.
    /// Every other fail_reason (the file's format, duration, frame rate or size, spam risk, a cancelled
    /// publish, removed authorization) is final and said in TikTok's words.
    static func worthANewUpload(_ failReason: String?) -> Bool { failReason == "internal" }

    static func failed(_ failReason: String?) -> DeliveryError {
        DeliveryError(.permanent, .rejectedByPlatform, "TikTok failed the post: \(failReason ?? "no reason given")")
    }

    /// TikTok made the post itself (direct post): what its status said.
    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        guard case .published(let out) = uploaded else {
            throw DeliveryError(.retryNow, .platformError, "TikTok's status never said publish \(s.publishID) was complete")
        }
        return out
    }

    /// status/fetch; an id TikTok does not know (`invalid_publish_id`) has no status.
    func fetchStatus(_ publishID: String) async throws -> TikTokWire.Status {
        let r = try await api.send(url: account.endpoint + "/v2/post/publish/status/fetch/", json: TikTokWire.StatusQuery(publish_id: publishID))
        if r.decoded(TikTokWire.Envelope<TikTokWire.Status>.self)?.error?.code == "invalid_publish_id" { return TikTokWire.Status() }
        return try Self.envelope(r, TikTokWire.Status.self, during: "asking for the post's status") ?? TikTokWire.Status()
    }

    func outcome(_ st: TikTokWire.Status, _ s: Session) -> PublishOutcome {
        // A draft in the creator's inbox has no post, and no link, until the creator posts it.
        if st.status == "SEND_TO_USER_INBOX" { return PublishOutcome(remoteId: s.publishID, url: "", bytesSent: 0) }
        let id = st.publicaly_available_post_id?.first?.value ?? s.publishID
        let base =
            account.endpoint.contains("tiktokapis.com") ? "https://www.tiktok.com/@\(account.key.split(separator: ":").last ?? "")/video/" : account.endpoint + "/tiktok/video/"
        return PublishOutcome(remoteId: id, url: base + id, bytesSent: 0)
    }

    /// TikTok reports errors in `error.code`, sometimes under HTTP 200: success is code "ok" only.
    static func envelope<T: Decodable>(_ r: AuthorizedHTTP.Reply, _ type: T.Type, during: String) throws -> T? {
        let e = r.decoded(TikTokWire.Envelope<T>.self)
        if (200..<300).contains(r.status), e?.error?.code == "ok" { return e?.data }
        throw classify(r, during: during)
    }

    static func classify(_ r: AuthorizedHTTP.Reply, during: String) -> DeliveryError {
        let err = r.decoded(TikTokWire.Envelope<EmptyBody>.self)?.error
        let code = err?.code ?? "http_\(r.status)"
        let what = "TikTok answered \(r.status) (\(code)) while \(during): \(err?.message ?? "")"
        switch (r.status, code) {
        case (_, "rate_limit_exceeded"), (429, _):
            return DeliveryError(.retryAt(RetryAfter.date(r.headers, default: 60)), .rateLimited, what, httpStatus: r.status)
        case (_, "spam_risk_too_many_posts"), (_, "spam_risk_user_banned_from_posting"):
            return DeliveryError(.retryAt(Date().addingTimeInterval(86400)), .quotaExhausted, what, httpStatus: r.status)
        case (_, "unaudited_client_can_only_post_to_private_accounts"):
            return DeliveryError(
                .permanent, .rejectedByPlatform,
                what + " — this TikTok app is not audited: set `audited: false` under the account so drops are checked for it at validation",
                httpStatus: r.status)
        case (_, "access_token_invalid"), (401, _):
            return DeliveryError(.retryNow, .authRevoked, what, httpStatus: r.status)
        case (500...599, _), (_, "internal_error"):
            return DeliveryError(.retryNow, .platformError, what, httpStatus: r.status)
        default:
            return DeliveryError(.permanent, .rejectedByPlatform, what, httpStatus: r.status)
        }
    }

    /// An app TikTok has not audited posts only SELF_ONLY (its Direct Post guidelines); the account says
    /// so (`audited: false`), and a drop asking for more is told at validation, not at publish.
    package func platformChecks(_ m: PublishMetadata) -> OmniError? {
        guard !Self.toInbox(m), (try? account.setting("audited")?.bool()) == false, let level = Self.privacyLevel(m), level != "SELF_ONLY" else { return nil }
        return OmniError(
            .invalidValue,
            "privacy '\(m.privacy.rawValue)' (\(level)) is not open to \(account.key): its TikTok app is not audited yet (`audited: false`), and TikTok takes only SELF_ONLY posts from an unaudited app — publish it as private, or have the app pass TikTok's audit"
        )
    }

    /// `post_mode: inbox`: Upload (a draft in the creator's TikTok inbox, finished in the app), not Direct Post.
    static func toInbox(_ m: PublishMetadata) -> Bool { m.options["post_mode"] == "inbox" }

    static func flag(_ v: String?) -> Bool { v.map { ["true", "yes", "1"].contains($0.lowercased()) } ?? false }
}

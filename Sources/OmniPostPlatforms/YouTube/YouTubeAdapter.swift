import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OmniPostCore

/// YouTube Data API v3 resumable upload (PLATFORMS.md): persist the session URI before the first
/// byte, send 256 KiB-multiple chunks, trust the server's `Range`, and after any error ask
/// `bytes */T` where the upload stands instead of starting over. The upload engine runs these steps
/// (`ResumableAdapter`); `YouTubeResumable` is the byte-range transport.
/// The last chunk's reply is the video: there is no processing to wait for before it is published.
package struct YouTubeAdapter: ResumableAdapter, DescribedAdapter {
    package typealias Module = YouTubePlatform
    package let displayName = "YouTube"
    package let settings: AdapterSettings
    package typealias Session = SessionText
    package var transport: YouTubeResumable { YouTubeResumable(adapter: self) }

    package init(_ settings: AdapterSettings) {
        self.settings = settings
    }

    /// Public watch URLs for the real service; the sandbox serves its own watch page.
    var watchBase: String {
        account.endpoint.contains("googleapis.com") ? "https://www.youtube.com/watch?v=" : account.endpoint + "/watch?v="
    }

    /// The video's id made the upload whole; a resumed upload that had every byte asks `bytes */T` for it.
    package func post(_ s: Session, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        var id: String
        switch uploaded {
        case .complete(let made): id = made
        case .published(let out): return out
        case .allSent:
            guard case .complete(let made) = try await transport.standing(of: s, job: job) else {
                throw DeliveryError(.retryNow, .platformError, "YouTube holds every byte but named no video")
            }
            id = made
        }
        // The video exists; its cover is part of the delivery (its failures are the cover's own, not the upload's).
        return try await setCover(job, outcome(id, 0))
    }

    /// The `bytes */T` status query: 308 + Range (partial), 200/201 (the video exists), 404/410 (expired).
    package func reconcile(_ s: Session, _ job: UploadJob) async throws -> RemoteState {
        do {
            switch try await transport.standing(of: s, job: job) {
            case .complete(let id): return .published(try await setCover(job, outcome(id, 0)))
            case .confirmed(let o): return .partial(confirmedOffset: o)
            case .resend: return .partial(confirmedOffset: job.confirmedOffset)
            }
        } catch is SessionGone {
            return .notStarted
        }
    }

    func outcome(_ id: String, _ sent: Int64) -> PublishOutcome {
        PublishOutcome(remoteId: id, url: watchBase + id, bytesSent: sent)
    }

    /// thumbnails.set after the video exists: part of the delivery (`settingCover`). Setting it again
    /// replaces it, so it is an idempotent request the engine may repeat (`PartRetry`): a transient
    /// failure (5xx, the network) is tried again here; one that persists, a rate limit or a spent quota
    /// leaves the delivery unpublished — the next attempt finds the video whole (`bytes */T`) and sets
    /// the cover then. A refusal for good (an unverified channel, a bad image) is noted.
    func setCover(_ job: UploadJob, _ out: PublishOutcome) async throws -> PublishOutcome {
        try await job.settingCover(on: out) { cover, data in
            var retry = PartRetry(settings)
            try await retry.idempotent(unless: { $0.code == .authRevoked }) {
                let resp = try await send(
                    url: account.endpoint + "/upload/youtube/v3/thumbnails/set?videoId=\(out.remoteId)", method: .POST,
                    headers: [("Content-Type", cover.hasSuffix(".png") ? "image/png" : "image/jpeg")], body: ByteBuffer(bytes: data))
                guard resp.status == 200 else { throw Self.classify(resp, during: "setting the thumbnail of \(out.remoteId)") }
            }
        }
    }

    /// videos.insert with `uploadType=resumable`: the session URI comes back in `Location`.
    package func start(_ job: UploadJob, _ prepared: Void) async throws -> SessionText {
        let m = job.metadata
        var status = YouTubeWire.Status(
            privacyStatus: m.privacy.rawValue,
            selfDeclaredMadeForKids: (m.options["made_for_kids"].map(Self.flag)) ?? false,
            containsSyntheticMedia: m.options["contains_synthetic_media"].map(Self.flag), license: m.options["license"],
            embeddable: m.options["embeddable"].map(Self.flag))
        if let at = m.publishAt {
            // YouTube publishes natively at publishAt, which it accepts only on private videos.
            status.privacyStatus = "private"
            status.publishAt = ISO8601DateFormatter().string(from: at)
        }
        let insert = YouTubeWire.Insert(
            snippet: .init(
                title: m.title, description: m.description, tags: m.tags,
                categoryId: m.options["category_id"] ?? m.options["category"].flatMap { Module.categories[$0] } ?? "22",
                defaultLanguage: m.options["default_language"]),
            status: status)
        let url = account.endpoint + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status"
        let resp = try await settings.api.send(
            url: url, json: insert,
            headers: [
                ("X-Upload-Content-Length", String(job.size)),
                ("X-Upload-Content-Type", job.contentType)
            ])
        guard resp.status == 200, let location = resp.headers.first(name: "Location") else {
            throw Self.classify(resp, during: "starting the upload session")
        }
        return SessionText(location)
    }

    static func flag(_ v: String) -> Bool { ["true", "yes", "1"].contains(v.lowercased()) }

    /// Maps YouTube's answers onto retry-now / retry-at / re-authenticate / permanent (PLATFORMS.md §6).
    static func classify(_ resp: Reply, during: String) -> DeliveryError {
        let err = resp.decoded(YouTubeWire.ErrorReply.self)?.error
        let message = err?.message ?? "HTTP \(resp.status)"
        let reason = err?.errors?.first?.reason ?? ""
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

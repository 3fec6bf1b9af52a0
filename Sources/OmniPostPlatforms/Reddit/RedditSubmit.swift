import Foundation
import OmniPostCore

/// Reddit's submit and how it ended: the asset's WebSocket (opened before the submit leaves) and the
/// account's submitted posts, read until one says. Every step that decides what a restart may do is
/// checkpointed first (`SessionSave`): `submitting` before the submit leaves, `submitted` once taken,
/// `uploaded` again when it was refused before it was taken, `failed` when Reddit says so.
extension RedditAdapter {
    /// Leaves the submit, having said so first; reads the result from the asset's WebSocket.
    func submit(_ job: UploadJob, _ session: Session, save: SessionSave<Session>) async throws -> PublishOutcome {
        var s = session
        guard let videoURL = s.videoURL, let posterURL = s.posterURL else { throw DeliveryError(.retryNow, .internalError, "the session has no uploaded media") }
        return try await RedditResultSocket.listening(to: s.websocketURL, tls: settings.tls) { socket in
            try await job.beforeRequest("init")
            s.step = .submitting
            s.submittedAt = Date().timeIntervalSince1970
            try await save(s)
            let m = job.metadata
            var form = [
                ("api_type", "json"), ("kind", "video"), ("sr", s.subreddit), ("title", s.title), ("url", videoURL),
                ("video_poster_url", posterURL), ("resubmit", "true"), ("sendreplies", "true"), ("validate_on_submit", "true")
            ]
            if !m.description.isEmpty { form.append(("text", m.description)) }
            if m.options["nsfw"]?.lowercased() == "true" { form.append(("nsfw", "true")) }
            if m.options["spoiler"]?.lowercased() == "true" { form.append(("spoiler", "true")) }
            if let flair = m.options["flair_id"] ?? (try? account.text("flair_id")) { form.append(("flair_id", flair)) }
            let r: AuthorizedHTTP.Reply
            do { r = try await reddit.send("/api/submit", method: .POST, form: form) } catch let e as DeliveryError where e.code == .rateLimited {
                // Refused before it was taken (a 429, or the window was shut): no post came of it.
                s.step = .uploaded
                try await save(s)
                throw e
            } catch let e as DeliveryError where e.code == .networkError {
                // The answer was lost: the post may exist, or be processing. The asset's WebSocket, already
                // open, still says how it ends — a failed processing is heard at once, not after the settle window.
                return try await settle(s, socket: socket, save: save)
            }
            guard r.status == 200, let answer = r.decoded(RedditWire.Submit.self)?.json else {
                let e = reddit.failure(r, during: "submitting the post")
                // A 5xx leaves the submit uncertain just the same.
                if r.status >= 500 { return try await settle(s, socket: socket, save: save) }
                throw e
            }
            if let e = RedditAPI.submitErrors(answer.errors ?? []) {
                s.step = .uploaded
                try await save(s)
                throw e
            }
            s.step = .submitted
            if let ws = answer.data?.websocket_url, !ws.isEmpty { s.websocketURL = ws }
            try await save(s)
            switch await socket?.outcome(within: resultTimeout) {
            case .failed(let why):
                throw try await processingFailed(s, why, save: save)
            case .success(let redirect):
                if let id = Self.postID(redirect) { return PublishOutcome(remoteId: id, url: Self.siteURL(redirect), bytesSent: 0) }
                fallthrough
            case nil:
                if let found = try await awaitPost(s, until: Date().addingTimeInterval(resultTimeout.seconds)) { return outcome(found) }
                throw Self.neverShown(s)
            }
        }
    }

    /// After a submit: the asset's WebSocket listened to and the account's posts read, until one says
    /// how it ended — a post (published), a failed processing (no post: rejected) — or the window for it
    /// passes. A submit whose answer was lost waits `settleWindow` and then asks a person
    /// (`uncertain_post`); a taken one, `resultTimeout`.
    func settle(_ s: Session, socket: RedditResultSocket?, save: SessionSave<Session>) async throws -> PublishOutcome {
        let since = s.submittedAt.map { Date(timeIntervalSince1970: $0) } ?? Date()
        let until = since.addingTimeInterval(s.step == .submitting ? settleWindow.seconds : resultTimeout.seconds)
        var pacer = poll.pacer()
        // Reading the posts is safe to repeat: a failure for now is tried again at the poll's pace.
        var retry = PartRetry(settings)
        repeat {
            try await pacer.pace()
            switch await socket?.said() {
            case .failed(let why):
                throw try await processingFailed(s, why, save: save)
            case .success(let redirect):
                if let id = Self.postID(redirect) { return PublishOutcome(remoteId: id, url: Self.siteURL(redirect), bytesSent: 0) }
            case nil: break
            }
            do {
                if let found = try await findPost(s) { return outcome(found) }
                retry.succeeded()
            } catch let e as DeliveryError where e.kind == .retryNow {
                // Reading the posts failed for now (the connection that lost the submit's answer may still be
                // down): the socket and the next read may still say.
                try await retry.again(after: e)
            }
        } while Date() < until
        throw s.step == .submitting ? uncertain(s) : Self.neverShown(s)
    }

    /// Reddit's word that the video could not be processed, checkpointed before it is reported: the
    /// session is then known never to become a post.
    func processingFailed(_ session: Session, _ why: String, save: SessionSave<Session>) async throws -> DeliveryError {
        var s = session
        s.step = .failed
        s.failure = why
        try await save(s)
        return Self.failedError(s)
    }

    /// A submit whose answer was lost and whose post never showed within the settle window: a person looks.
    func uncertain(_ s: Session) -> DeliveryError {
        let since = s.submittedAt.map { Date(timeIntervalSince1970: $0) } ?? Date()
        return DeliveryError(
            .permanent, .uncertainPost,
            "the submit to r/\(s.subreddit) at \(ISO8601DateFormatter().string(from: since)) lost its answer, and no post of it showed on u/\(s.username) within \(DurationText.format(settleWindow.seconds)); it was not submitted again (a second post is worse than none). Look at u/\(s.username)'s posts; `omnipost retry` submits it again"
        )
    }

    /// A submit Reddit took whose post never showed: its processing failed without saying so.
    static func neverShown(_ s: Session) -> DeliveryError {
        DeliveryError(.permanent, .rejectedByPlatform, "Reddit took the submit to r/\(s.subreddit), but its post never showed on u/\(s.username) (its processing failed?)")
    }

    static func failedError(_ s: Session) -> DeliveryError {
        DeliveryError(.permanent, .rejectedByPlatform, "Reddit could not process the video for r/\(s.subreddit): \(s.failure ?? "no reason given")")
    }

    struct Found { var id: String; var permalink: String }

    /// Reads the account's posts until ours shows, or `until` passes.
    func awaitPost(_ s: Session, until: Date) async throws -> Found? {
        var pacer = poll.pacer()
        repeat {
            try await pacer.pace()
            if let f = try await findPost(s) { return f }
        } while Date() < until
        return nil
    }

    /// The account's recent post that is this submit's: the one carrying the video's asset, or the
    /// same title in the same subreddit made since the submit left.
    func findPost(_ s: Session) async throws -> Found? {
        let r = try await reddit.send("/user/\(s.username)/submitted?limit=100&sort=new")
        guard r.status == 200 else { throw reddit.failure(r, during: "reading u/\(s.username)'s posts") }
        let posts = r.decoded(RedditWire.Listing.self)?.data.children.map(\.data) ?? []
        let since = (s.submittedAt ?? 0) - 300
        for d in posts {
            guard let id = d.id else { continue }
            let permalink = d.permalink ?? "/comments/\(id)/"
            if let asset = s.assetID, !asset.isEmpty, d.mediaAddresses.contains(where: { $0.contains(asset) }) {
                return Found(id: id, permalink: permalink)
            }
            if d.title == s.title, d.subreddit?.lowercased() == s.subreddit.lowercased(), (d.created_utc ?? 0) >= since {
                return Found(id: id, permalink: permalink)
            }
        }
        return nil
    }

    /// Where people see a post: Reddit's site, whatever host the API calls went to (oauth.reddit.com,
    /// the sandbox). A listing's `permalink` is a path on it; the WebSocket's redirect is already a link there.
    static let site = "https://www.reddit.com"

    static func siteURL(_ permalinkOrURL: String) -> String {
        if permalinkOrURL.hasPrefix("https://") || permalinkOrURL.hasPrefix("http://") {
            guard let u = URLComponents(string: permalinkOrURL) else { return permalinkOrURL }
            return site + u.percentEncodedPath + (u.percentEncodedQuery.map { "?" + $0 } ?? "")
        }
        return site + (permalinkOrURL.hasPrefix("/") ? "" : "/") + permalinkOrURL
    }

    /// The post found, as the delivery records it (the engine adds the bytes its attempt moved).
    func outcome(_ f: Found) -> PublishOutcome {
        PublishOutcome(remoteId: f.id, url: Self.siteURL(f.permalink), bytesSent: 0)
    }

    /// `…/comments/<id>/<slug>/` → `<id>`.
    static func postID(_ url: String) -> String? {
        let parts = url.split(separator: "/")
        guard let i = parts.firstIndex(of: "comments"), i + 1 < parts.count else { return nil }
        return String(parts[i + 1])
    }
}

import Foundation
import OmniPostCore

extension SandboxState {
    struct TikTokUpload: Sendable {
        var publishID: String
        var account: String
        var title: String
        var privacy: String
        var size: Int64
        var chunk: Int64
        var count: Int
        var received: Int64
        var file: String
        var created: Date
        var status: String
        var postID: String? = nil
        /// Why a FAILED post failed, in TikTok's words (Get Post Status: `internal`, `file_format_check_failed`, …).
        var failReason: String? = nil
        /// The interactions the init turned off (`disable_comment`, `disable_duet`, `disable_stitch`).
        var disabled: [String] = []
        /// Sent to the creator's inbox (Upload), not posted: it ends SEND_TO_USER_INBOX, with no post.
        var inbox = false
    }

    /// What creator_info says of one account, and whether its app passed TikTok's audit: set from the
    /// account's settings (`grant`), TikTok's defaults otherwise.
    struct TikTokCreator: Sendable {
        var audited = true
        var commentDisabled = false
        var duetDisabled = false
        var stitchDisabled = false
        var maxDurationS = 600
    }

    func tiktokCreator(_ account: String) -> TikTokCreator { self[TikTokWorld.self].creators[account] ?? TikTokCreator() }

    func putTikTok(_ u: TikTokUpload) { tiktokUploads[u.publishID] = u }
    func tiktok(_ id: String) -> TikTokUpload? { tiktokUploads[id] }

    /// The last chunk is in: the video is processed at once and published — or, with `failProcessing`,
    /// the post ends FAILED with that as its `fail_reason` (no post is made).
    func finishTikTok(_ u: TikTokUpload) throws {
        var u = u
        let dest = root.appendingPathComponent("tiktok/videos/\(u.publishID).bin")
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: u.file, toPath: dest.path)
        u.file = dest.path
        if let reason = takeProcessingFault() {
            u.status = "FAILED"
            u.failReason = reason
            tiktokUploads[u.publishID] = u
            return
        }
        if u.inbox {
            // A draft in the creator's inbox: nothing is public until the creator posts it in the app.
            u.status = "SEND_TO_USER_INBOX"
            tiktokUploads[u.publishID] = u
            return
        }
        let hash = try FileHashing.sha256(path: dest.path)
        let post = SandboxState.randomID(19, alphabet: "0123456789")
        videos.append(
            Video(
                platform: "tiktok", id: post, account: u.account, title: u.title, description: "", tags: [],
                privacy: u.privacy, publishAt: nil, bytes: hash.bytes, sha256: hash.hex, path: dest.path, receivedAt: Date()))
        u.status = "PUBLISH_COMPLETE"
        u.postID = post
        tiktokUploads[u.publishID] = u
    }

    /// Every unfinished upload was initialised more than an hour ago: its upload_url has expired, as
    /// TikTok documents (the status still knows the publish id; a chunk PUT is answered 403 url_expired).
    func lapseTikTokUploads() {
        for (id, u) in tiktokUploads where u.postID == nil && u.status == "PROCESSING_UPLOAD" {
            tiktokUploads[id]?.created = u.created.addingTimeInterval(-3601)
        }
    }

    enum RotateResult { case ok(String, Int, String, String), invalidClient, invalidGrant }

    /// TikTok rotates refresh tokens: each refresh returns a new one. The old one is retired once the new
    /// one is used — a grace many providers give so a client that died before saving the new token is
    /// not locked out (PLATFORMS.md: always store the newest).
    /// With `faults.strictRotation` there is no grace: a refresh token works once, and a used one
    /// presented again revokes every token of that account (reuse detection, RFC 6819 §5.2.2.3).
    func rotate(clientID: String, clientSecret: String, refreshToken: String) -> RotateResult {
        if faults.strictRotation, let family = usedRefreshTokens[refreshToken] {
            revoke(account: family)
            return .invalidGrant
        }
        guard var a = accounts[refreshToken], !a.revoked else { return .invalidGrant }
        guard a.clientID == clientID, a.clientSecret == clientSecret else { return .invalidClient }
        if faults.strictRotation {
            accounts[refreshToken] = nil
            usedRefreshTokens[refreshToken] = "\(a.platform):\(a.name)"
        }
        if let old = retiring.removeValue(forKey: refreshToken) { accounts[old] = nil }
        let access = "act." + SandboxState.randomID(32)
        tokens[access] = Token(account: "\(a.platform):\(a.name)", expires: Date().addingTimeInterval(accessTokenLifetime))
        let next = "rft." + SandboxState.randomID(32)
        a.refreshToken = next
        accounts[next] = a
        if !faults.strictRotation { retiring[next] = refreshToken }
        return .ok(access, Int(accessTokenLifetime), next, "open-" + a.name)
    }
}

/// What TikTok's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`).
extension SandboxState {
    struct TikTokWorld: PlatformWorld {
        var uploads: [String: TikTokUpload] = [:]
        var creators: [String: TikTokCreator] = [:]
    }

    var tiktokUploads: [String: TikTokUpload] {
        get { self[TikTokWorld.self].uploads }
        _modify { yield &self[TikTokWorld.self].uploads }
    }
}

extension TikTokRoutes {
    static func forgetUnfinishedUploads(state: isolated SandboxState) { state.tiktokUploads = state.tiktokUploads.filter { $0.value.postID != nil } }

    /// An account's `audited: false` (its app has not passed the audit) and, for tests, the creator's own
    /// settings creator_info reports (`comment_disabled`, `duet_disabled`, `stitch_disabled`,
    /// `max_video_post_duration_sec`).
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        var c = state.tiktokCreator(account)
        func flag(_ k: String) -> Bool? { credentials[k].map { ["true", "yes", "1"].contains($0.lowercased()) } }
        if let v = flag("audited") { c.audited = v }
        if let v = flag("comment_disabled") { c.commentDisabled = v }
        if let v = flag("duet_disabled") { c.duetDisabled = v }
        if let v = flag("stitch_disabled") { c.stitchDisabled = v }
        if let v = credentials["max_video_post_duration_sec"].flatMap(Int.init) { c.maxDurationS = v }
        state[SandboxState.TikTokWorld.self].creators[account] = c
    }

    static let name = "tiktok"
    /// TikTok names the app `client_key`.
    static let clientIDParameter = "client_key"
}

import Foundation
import OmniPostCore

extension SandboxState {
    /// Every container not yet published expires now.
    func expireInstagramContainers() {
        for (id, c) in igContainers where c.mediaID == nil { igContainers[id]?.expired = true }
    }

    /// One Reels container: bytes arrive on the upload host, then it processes, then it is published once.
    struct IGContainer: Sendable {
        var id: String
        var igUser: String
        var account: String
        var caption: String
        var shareToFeed: Bool
        var thumbOffset: Int?
        var collaborators: [String]
        var size: Int64? = nil
        var received: Int64 = 0
        var file: String
        var created: Date
        var readyAt: Date? = nil
        var failure: String? = nil
        var mediaID: String? = nil
        var sha256: String? = nil
        /// The sha256 of the image fetched from `cover_url`, the reel's cover once published.
        var coverSha256: String? = nil
        var expired = false

        var statusCode: String {
            if mediaID != nil { return "PUBLISHED" }
            if expired { return "EXPIRED" }
            if failure != nil { return "ERROR" }
            guard let size, received == size, let ready = readyAt else { return "IN_PROGRESS" }
            return ready <= Date() ? "FINISHED" : "IN_PROGRESS"
        }
    }

    /// Meta's token exchange: a long-lived token (registered as the account's "refresh token", or one an
    /// earlier exchange gave) buys a new long-lived token, which can be exchanged in its turn.
    func metaExchange(clientID: String, clientSecret: String, token: String) -> RefreshResult {
        guard let a = accounts[token], !a.revoked else { return .invalidGrant }
        guard a.clientID == clientID, a.clientSecret == clientSecret else { return .invalidClient }
        let next = "EAA" + SandboxState.randomID(60, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        tokens[next] = Token(account: "\(a.platform):\(a.name)", expires: Date().addingTimeInterval(accessTokenLifetime))
        accounts[next] = a
        return .ok(next, Int(accessTokenLifetime))
    }

    func makeIGContainer(
        account: String, igUser: String, caption: String, shareToFeed: Bool, thumbOffset: Int?, collaborators: [String], coverSha256: String? = nil
    ) throws -> IGContainer {
        let id = "1790" + SandboxState.randomID(13, alphabet: "0123456789")
        let file = root.appendingPathComponent("instagram/uploads/\(id).part").path
        try FileManager.default.createDirectory(atPath: PathText.parent(file), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        var c = IGContainer(
            id: id, igUser: igUser, account: account, caption: caption, shareToFeed: shareToFeed, thumbOffset: thumbOffset,
            collaborators: collaborators, file: file, created: Date())
        c.coverSha256 = coverSha256
        igContainers[id] = c
        return c
    }

    /// A container, expired once it is older than a day (or `sessionLifetime`) without being published.
    func igContainer(_ id: String) -> IGContainer? {
        guard var c = igContainers[id] else { return nil }
        if c.mediaID == nil, Date().timeIntervalSince(c.created) > min(sessionLifetime, 86400) { c.expired = true }
        return c
    }

    func putIGContainer(_ c: IGContainer) { igContainers[c.id] = c }

    /// Bytes at `offset` (at most what is held: a resent chunk replaces its earlier copy).
    func receiveIG(_ id: String, offset: Int64, size: Int64, bytes: Data) throws -> IGContainer? {
        guard var c = igContainers[id] else { return nil }
        if try rupload(&c, offset: offset, size: size, bytes: bytes) {
            c.readyAt = Date().addingTimeInterval(Double(faults.processingMs) / 1000)
            c.failure = takeProcessingFault()
        }
        igContainers[id] = c
        return c
    }

    /// media_publish: the container becomes a reel, once.
    func publishIG(_ id: String) -> String {
        guard var c = igContainers[id] else { return "" }
        let media = "1791" + SandboxState.randomID(13, alphabet: "0123456789")
        c.mediaID = media
        igContainers[id] = c
        videos.append(
            Video(
                platform: "instagram", id: media, account: c.account, title: c.caption, description: "", tags: c.collaborators,
                privacy: "public", publishAt: nil, bytes: c.size ?? 0, sha256: c.sha256 ?? "", path: c.file, receivedAt: Date(),
                thumbnailSha256: c.coverSha256))
        return media
    }

    /// Reels published by an Instagram user in the last 24 h (what `content_publishing_limit` counts).
    func igPublished(by igUser: String) -> Int {
        igContainers.values.filter { $0.igUser == igUser && $0.mediaID != nil && Date().timeIntervalSince($0.created) < 86400 }.count
    }

    package func setInstagramQuotaTotal(_ n: Int) { instagramQuotaTotal = n }
}

/// What Instagram's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`).
extension SandboxState {
    struct InstagramWorld: PlatformWorld {
        var containers: [String: IGContainer] = [:]
        /// What `content_publishing_limit` reports as `quota_total` (sources say 25, 50 or 100).
        var quotaTotal: Int = 100
    }

    var igContainers: [String: IGContainer] {
        get { self[InstagramWorld.self].containers }
        _modify { yield &self[InstagramWorld.self].containers }
    }
    var instagramQuotaTotal: Int {
        get { self[InstagramWorld.self].quotaTotal }
        _modify { yield &self[InstagramWorld.self].quotaTotal }
    }
}

extension InstagramRoutes {
    static let name = "instagram"
    static func expireUnfinishedUploads(state: isolated SandboxState) { state.expireInstagramContainers() }
}

import Crypto
import Foundation
import OmniPostCore

extension SandboxState {
    /// A media lease (`/api/media/asset.json`): a key on the media host, signed, that one POST may fill.
    struct RedditAsset: Sendable {
        var id: String
        var account: String
        var key: String
        var mimetype: String
        var policy: String
        var signature: String
        var expires: Date
        var sha256: String? = nil
        var bytes: Int64 = 0
        var path: String? = nil
    }

    struct RedditPost: Sendable {
        var id: String
        var account: String
        var subreddit: String
        var title: String
        var assetID: String
        var created: Date
        var nsfw: Bool
        var spoiler: Bool
        var flairID: String?
        /// Visible once processed (the WebSocket said success).
        var visible = false
    }

    /// What the media host signs its policies with (a stand-in for Reddit's AWS credentials).
    static var redditMediaSecret: SymmetricKey { SymmetricKey(data: Data("omnipost-sandbox-reddit-media".utf8)) }

    func leaseRedditAsset(account: String, filepath: String, mimetype: String) -> RedditAsset {
        let id = SandboxState.randomID(13)
        let key = "rte_images/\(id)/\(filepath.replacingOccurrences(of: "/", with: "_"))"
        let expires = Date().addingTimeInterval(3600)
        let policyJSON =
            #"{"expiration":"\#(ISO8601DateFormatter().string(from: expires))","conditions":[{"bucket":"reddit-uploaded-media"},{"key":"\#(key)"},{"Content-Type":"\#(mimetype)"},["content-length-range",0,1073741824]]}"#
        let policy = Data(policyJSON.utf8).base64EncodedString()
        let mac = HMAC<SHA256>.authenticationCode(for: Data(policy.utf8), using: Self.redditMediaSecret)
        let asset = RedditAsset(
            id: id, account: account, key: key, mimetype: mimetype, policy: policy,
            signature: mac.map { String(format: "%02x", $0) }.joined(), expires: expires)
        redditAssets[id] = asset
        return asset
    }

    func redditAsset(key: String) -> RedditAsset? { redditAssets.values.first { $0.key == key } }

    func storeRedditMedia(key: String, data: Data) throws -> RedditAsset? {
        guard var a = redditAsset(key: key) else { return nil }
        let dir = root.appendingPathComponent("reddit")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(a.id).path
        try data.write(to: URL(fileURLWithPath: path))
        a.sha256 = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        a.bytes = Int64(data.count)
        a.path = path
        redditAssets[a.id] = a
        addReceived(Int64(data.count))
        return a
    }

    /// A submit: the post exists from now, shown once processing ends (`processingMs`) — or never, with
    /// the WebSocket saying `failed` (`failProcessing`).
    func submitRedditPost(
        account: String, subreddit: String, title: String, video: RedditAsset, nsfw: Bool, spoiler: Bool, flairID: String?,
        base: String
    ) -> RedditPost {
        let post = RedditPost(
            id: SandboxState.randomID(7), account: account, subreddit: subreddit, title: title, assetID: video.id,
            created: Date(), nsfw: nsfw, spoiler: spoiler, flairID: flairID)
        redditPosts.append(post)
        let failure = takeProcessingFault()
        let ms = faults.processingMs
        if ms > 0 {
            Task {
                try? await Task.sleep(for: .milliseconds(ms))
                self.finishRedditPost(post.id, failure: failure, base: base)
            }
        } else {
            finishRedditPost(post.id, failure: failure, base: base)
        }
        return post
    }

    func finishRedditPost(_ id: String, failure: String?, base: String) {
        guard let i = redditPosts.firstIndex(where: { $0.id == id }) else { return }
        let p = redditPosts[i]
        let message: [String: Any]
        if let failure {
            redditPosts.remove(at: i)
            message = ["type": "failed", "payload": ["message": failure]]
        } else {
            redditPosts[i].visible = true
            let a = redditAssets[p.assetID]
            videos.append(
                Video(
                    platform: "reddit", id: p.id, account: p.account, title: p.title, description: "", tags: [],
                    privacy: "public", publishAt: nil, bytes: a?.bytes ?? 0, sha256: a?.sha256 ?? "", path: a?.path ?? "", receivedAt: Date()))
            // Reddit's redirect is the post on its site, not on the API host the client called.
            message = ["type": "success", "payload": ["redirect": "https://www.reddit.com" + Self.redditPermalink(redditPosts[i])]]
        }
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: message, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        redditResults[p.assetID] = text
        for w in (redditWaiters.removeValue(forKey: p.assetID) ?? [:]).values { w.resume(returning: text) }
    }

    static func redditPermalink(_ p: RedditPost) -> String {
        let slug = p.title.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined().prefix(50)
        return "/r/\(p.subreddit)/comments/\(p.id)/\(slug)/"
    }

    /// Whether a WebSocket path names an asset (so the upgrade is taken).
    func redditSocketKnown(_ assetID: String) -> Bool { redditAssets[assetID] != nil }

    /// The asset's result message: at once if decided, else when it is — or nil once `stopListening`
    /// says the socket waiting for it closed.
    func redditResult(_ assetID: String, listener: UUID) async -> String? {
        if let r = redditResults[assetID] { return r }
        if redditGone.remove(listener) != nil { return nil }
        return await withCheckedContinuation { c in redditWaiters[assetID, default: [:]][listener] = c }
    }

    /// The socket of `listener` closed: its wait for a result ends (also when it had not begun: the
    /// listener is then remembered as gone).
    func stopListening(_ assetID: String, listener: UUID) {
        if let c = redditWaiters[assetID]?.removeValue(forKey: listener) {
            c.resume(returning: nil)
        } else if redditResults[assetID] == nil {
            redditGone.insert(listener)
        }
    }

    func redditPosts(of account: String) -> [RedditPost] { redditPosts.filter { $0.account == account && $0.visible }.reversed() }
    func redditPost(_ id: String) -> RedditPost? { redditPosts.first { $0.id == id && $0.visible } }

    package func setRedditSubredditMissing(_ name: String) { redditMissing.insert(name.lowercased()) }
    /// The `n`th media POST from now is answered `status` (after its body was read): a cut upload.
    package func failNthMedia(_ n: Int, status: Int) { redditMediaFault = (redditMediaSeen + n, status) }
    func takeRedditMediaFault() -> Int? {
        redditMediaSeen += 1
        guard let f = redditMediaFault, f.at == redditMediaSeen else { return nil }
        redditMediaFault = nil
        return f.status
    }
    package func rateLimitRedditSubmits(minutes: [Int]) { redditSubmitLimits = minutes }
    func takeRedditSubmitLimit() -> Int? { redditSubmitLimits.isEmpty ? nil : redditSubmitLimits.removeFirst() }
    /// Posts made, visible or still processing (a doubled submit shows here).
    package func redditPostCount() -> Int { redditPosts.count }
}

/// What Reddit's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`).
extension SandboxState {
    struct RedditWorld: PlatformWorld {
        var assets: [String: RedditAsset] = [:]
        var posts: [RedditPost] = []
        /// What each asset's WebSocket says once its post is decided, and who waits for it.
        var results: [String: String] = [:]
        var waiters: [String: [UUID: CheckedContinuation<String?, Never>]] = [:]
        /// Sockets that closed before they began to wait (see `stopListening`).
        var gone: Set<UUID> = []
        /// Subreddits that answer SUBREDDIT_NOEXIST (any other well-formed name exists).
        var missing: Set<String> = []
        /// The next submits answered with a RATELIMIT error (HTTP 200), and the minutes it names.
        var submitLimits: [Int] = []
        var mediaSeen: Int = 0
        var mediaFault: (at: Int, status: Int)? = nil
    }

    var redditAssets: [String: RedditAsset] {
        get { self[RedditWorld.self].assets }
        _modify { yield &self[RedditWorld.self].assets }
    }
    var redditPosts: [RedditPost] {
        get { self[RedditWorld.self].posts }
        _modify { yield &self[RedditWorld.self].posts }
    }
    var redditResults: [String: String] {
        get { self[RedditWorld.self].results }
        _modify { yield &self[RedditWorld.self].results }
    }
    var redditWaiters: [String: [UUID: CheckedContinuation<String?, Never>]] {
        get { self[RedditWorld.self].waiters }
        _modify { yield &self[RedditWorld.self].waiters }
    }
    var redditGone: Set<UUID> {
        get { self[RedditWorld.self].gone }
        _modify { yield &self[RedditWorld.self].gone }
    }
    var redditMissing: Set<String> {
        get { self[RedditWorld.self].missing }
        _modify { yield &self[RedditWorld.self].missing }
    }
    var redditSubmitLimits: [Int] {
        get { self[RedditWorld.self].submitLimits }
        _modify { yield &self[RedditWorld.self].submitLimits }
    }
    var redditMediaSeen: Int {
        get { self[RedditWorld.self].mediaSeen }
        _modify { yield &self[RedditWorld.self].mediaSeen }
    }
    var redditMediaFault: (at: Int, status: Int)? {
        get { self[RedditWorld.self].mediaFault }
        _modify { yield &self[RedditWorld.self].mediaFault }
    }
}

extension RedditRoutes {
    static let name = "reddit"
}

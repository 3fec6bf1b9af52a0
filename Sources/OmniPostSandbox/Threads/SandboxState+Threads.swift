import Foundation
import OmniPostCore

extension SandboxState {
    /// One Threads container: Threads fetches `video_url` itself, then it can be published once.
    struct ThreadsContainer: Sendable {
        var id: String
        var user: String
        var account: String
        var text: String
        var videoURL: String
        var created: Date
        var fetched = false
        var error: String? = nil
        var sha256: String? = nil
        var bytes: Int64 = 0
        var path: String? = nil
        var postID: String? = nil
        /// A reply's post (`reply_to_id`): a TEXT container, ready at once, published as a reply, not a video.
        var replyTo: String? = nil

        var status: String {
            if postID != nil { return "PUBLISHED" }
            if error != nil { return "ERROR" }
            if Date().timeIntervalSince(created) > 86400 { return "EXPIRED" }
            return fetched ? "FINISHED" : "IN_PROGRESS"
        }
    }

    /// A long-lived token lasts 60 days (Threads answers `expires_in` 5183944).
    static let threadsTokenLifetime: TimeInterval = 5_183_944

    enum ThreadsRefreshResult { case ok(String, Int), tooNew, invalid }

    /// A registered long-lived token is a token in its own right (the bearer the API takes), issued a
    /// while ago: old enough to be refreshed.
    func registerThreadsToken(_ a: Account) {
        tokens[a.refreshToken] = Token(account: "\(a.platform):\(a.name)", expires: Date().addingTimeInterval(Self.threadsTokenLifetime / 2))
        threadsIssued[a.refreshToken] = Date().addingTimeInterval(-Self.threadsTokenLifetime / 2)
    }

    /// Threads' refresh (`th_refresh_token`): a long-lived token at least 24 hours old and not expired
    /// becomes a new one, valid 60 days from now; a younger one is refused. The exchange of a
    /// short-lived token (`th_exchange_token`, `refresh: false`) has no such rule.
    func threadsRefresh(token: String, refresh: Bool = true) -> ThreadsRefreshResult {
        guard let a = accounts[token], !a.revoked, a.platform == "threads" else { return .invalid }
        if refresh {
            guard let t = tokens[token], t.expires > Date() else { return .invalid }
            if let issued = threadsIssued[token], Date().timeIntervalSince(issued) < 86400 { return .tooNew }
        }
        let next = "THAA" + SandboxState.randomID(60, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        tokens[next] = Token(account: "\(a.platform):\(a.name)", expires: Date().addingTimeInterval(Self.threadsTokenLifetime))
        threadsIssued[next] = Date()
        accounts[next] = a
        return .ok(next, Int(Self.threadsTokenLifetime))
    }

    /// Moves every Threads token's issue time back by `seconds`, as if that long had passed.
    package func ageThreadsTokens(by seconds: TimeInterval) {
        for (t, at) in threadsIssued { threadsIssued[t] = at.addingTimeInterval(-seconds) }
    }

    func makeThreadsContainer(account: String, user: String, text: String, videoURL: String) -> ThreadsContainer {
        let c = ThreadsContainer(
            id: "1800" + SandboxState.randomID(13, alphabet: "0123456789"), user: user, account: account, text: text,
            videoURL: videoURL, created: Date())
        threadsContainers[c.id] = c
        return c
    }

    /// A TEXT container replying to `post`: nothing to fetch, so it is ready at once.
    func makeThreadsReply(account: String, user: String, text: String, to post: String) -> ThreadsContainer {
        var c = makeThreadsContainer(account: account, user: user, text: text, videoURL: "")
        c.replyTo = post
        c.fetched = true
        threadsContainers[c.id] = c
        return c
    }

    /// A published Threads post by its id: who made it (a video post or a reply).
    func threadsPost(_ id: String) -> ThreadsContainer? { threadsContainers.values.first { $0.postID == id } }

    /// The published replies to `post`, oldest first.
    func threadsReplies(to post: String) -> [ThreadsContainer] {
        threadsContainers.values.filter { $0.replyTo == post && $0.postID != nil }.sorted { $0.created < $1.created }
    }

    func threadsContainer(_ id: String) -> ThreadsContainer? { threadsContainers[id] }

    /// Whether the next fetch of a `video_url` is to be cut short (`failFetches`).
    func takeFetchFault() -> Bool {
        guard faults.failFetches > 0 else { return false }
        faults.failFetches -= 1
        return true
    }

    /// What fetching `video_url` gave: the bytes, or Threads' error.
    func fetchedThreads(_ id: String, data: Data?, error: String?) throws {
        guard var c = threadsContainers[id] else { return }
        if let data, error == nil {
            let file = root.appendingPathComponent("threads/\(id).bin")
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: file)
            c.path = file.path
            c.bytes = Int64(data.count)
            c.sha256 = FileHashing.sha256(data: data)
            addReceived(Int64(data.count))
            c.error = takeProcessingFault()
        } else {
            c.error = error ?? "FAILED_DOWNLOADING_VIDEO"
        }
        c.fetched = true
        threadsContainers[id] = c
    }

    func publishThreads(_ id: String) -> String {
        guard var c = threadsContainers[id] else { return "" }
        let post = "1801" + SandboxState.randomID(13, alphabet: "0123456789")
        c.postID = post
        threadsContainers[id] = c
        // A reply is a text post under another: no video of its own.
        if c.replyTo != nil { return post }
        videos.append(
            Video(
                platform: "threads", id: post, account: c.account, title: c.text, description: "", tags: [], privacy: "public",
                publishAt: nil, bytes: c.bytes, sha256: c.sha256 ?? "", path: c.path ?? "", receivedAt: Date()))
        return post
    }

    func threadsPublished(by user: String) -> Int {
        threadsContainers.values.filter { $0.user == user && $0.postID != nil && $0.replyTo == nil && Date().timeIntervalSince($0.created) < 86400 }.count
    }
}

/// What Threads's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`).
extension SandboxState {
    struct ThreadsWorld: PlatformWorld {
        var containers: [String: ThreadsContainer] = [:]
        /// When each Threads long-lived token was issued (a refresh refuses one younger than a day).
        var issued: [String: Date] = [:]
    }

    var threadsContainers: [String: ThreadsContainer] {
        get { self[ThreadsWorld.self].containers }
        _modify { yield &self[ThreadsWorld.self].containers }
    }
    var threadsIssued: [String: Date] {
        get { self[ThreadsWorld.self].issued }
        _modify { yield &self[ThreadsWorld.self].issued }
    }
}

extension ThreadsRoutes {
    static let name = "threads"
    /// Its long-lived token is registered as the account's refresh token, and is a bearer too.
    static func registered(_ account: SandboxState.Account, state: isolated SandboxState) { state.registerThreadsToken(account) }
}

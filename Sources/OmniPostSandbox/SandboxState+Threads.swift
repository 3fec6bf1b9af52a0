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

        var status: String {
            if postID != nil { return "PUBLISHED" }
            if error != nil { return "ERROR" }
            if Date().timeIntervalSince(created) > 86400 { return "EXPIRED" }
            return fetched ? "FINISHED" : "IN_PROGRESS"
        }
    }

    /// Threads' refresh: a long-lived token (registered, or one a refresh gave) becomes a new one.
    func threadsRefresh(token: String) -> RefreshResult {
        guard let a = accounts[token], !a.revoked, a.platform == "threads" else { return .invalidGrant }
        let next = "THAA" + SandboxState.randomID(60, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        tokens[next] = Token(account: "\(a.platform):\(a.name)", expires: Date().addingTimeInterval(accessTokenLifetime))
        accounts[next] = a
        return .ok(next, Int(accessTokenLifetime))
    }

    func makeThreadsContainer(account: String, user: String, text: String, videoURL: String) -> ThreadsContainer {
        let c = ThreadsContainer(id: "1800" + SandboxState.randomID(13, alphabet: "0123456789"), user: user, account: account, text: text,
                                 videoURL: videoURL, created: Date())
        threadsContainers[c.id] = c
        return c
    }

    func threadsContainer(_ id: String) -> ThreadsContainer? { threadsContainers[id] }

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
        videos.append(Video(platform: "threads", id: post, account: c.account, title: c.text, description: "", tags: [], privacy: "public",
                            publishAt: nil, bytes: c.bytes, sha256: c.sha256 ?? "", path: c.path ?? "", receivedAt: Date()))
        return post
    }

    func threadsPublished(by user: String) -> Int {
        threadsContainers.values.filter { $0.user == user && $0.postID != nil && Date().timeIntervalSince($0.created) < 86400 }.count
    }
}

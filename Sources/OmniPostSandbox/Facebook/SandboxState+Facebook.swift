import Foundation
import OmniPostCore

extension SandboxState {
    /// One Page reel: started, bytes on the upload host, finished (published or scheduled), processed.
    struct FBVideo: Sendable {
        var id: String
        var page: String
        var account: String
        var size: Int64? = nil
        var received: Int64 = 0
        var file: String
        var created: Date
        var finished = false
        var scheduledAt: Date? = nil
        var readyAt: Date? = nil
        var failure: String? = nil
        var sha256: String? = nil
        var description = ""
        var title = ""
        /// Caption files by locale (`POST /{video-id}/captions`); a second file of a locale replaces the first.
        var captions: [SandboxTextTrack] = []
    }

    /// The account's one Page: its id and a Page token that does not expire (what a long-lived user token yields).
    func facebookPage(_ account: String) -> (id: String, token: String) {
        let id = userID(account + "#page", length: 16, alphabet: "0123456789")
        if let t = fbPageTokens[account], tokens[t] != nil { return (id, t) }
        let t = "EAAPage" + SandboxState.randomID(48)
        tokens[t] = Token(account: account, expires: .distantFuture)
        fbPageTokens[account] = t
        return (id, t)
    }

    func startFBVideo(account: String, page: String) throws -> FBVideo {
        let id = "10" + SandboxState.randomID(15, alphabet: "0123456789")
        let file = root.appendingPathComponent("facebook/uploads/\(id).part").path
        try FileManager.default.createDirectory(atPath: PathText.parent(file), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        let v = FBVideo(id: id, page: page, account: account, file: file, created: Date())
        fbVideos[id] = v
        return v
    }

    func fbVideo(_ id: String) -> FBVideo? { fbVideos[id] }

    func receiveFB(_ id: String, offset: Int64, size: Int64, bytes: Data) throws {
        guard var v = fbVideos[id] else { return }
        _ = try rupload(&v, offset: offset, size: size, bytes: bytes)
        fbVideos[id] = v
    }

    /// `upload_phase=finish`: the reel is a post from now (published once processed, or at its time).
    func finishFB(_ id: String, description: String, title: String, scheduledAt: Date?) {
        guard var v = fbVideos[id] else { return }
        v.finished = true
        v.description = description
        v.title = title
        v.scheduledAt = scheduledAt
        v.readyAt = Date().addingTimeInterval(Double(faults.processingMs) / 1000)
        v.failure = takeProcessingFault()
        fbVideos[id] = v
        guard v.failure == nil else { return }
        videos.append(
            Video(
                platform: "facebook", id: v.id, account: v.account, title: title, description: description, tags: [],
                privacy: "public", publishAt: scheduledAt.map { ISO8601DateFormatter().string(from: $0) }, bytes: v.size ?? 0,
                sha256: v.sha256 ?? "", path: v.file, receivedAt: Date()))
    }
}

/// What Facebook's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`).
extension SandboxState {
    struct FacebookWorld: PlatformWorld {
        var videos: [String: FBVideo] = [:]
        var pageTokens: [String: String] = [:]
    }

    var fbVideos: [String: FBVideo] {
        get { self[FacebookWorld.self].videos }
        _modify { yield &self[FacebookWorld.self].videos }
    }
    var fbPageTokens: [String: String] {
        get { self[FacebookWorld.self].pageTokens }
        _modify { yield &self[FacebookWorld.self].pageTokens }
    }
}

extension FacebookRoutes {
    static let name = "facebook"
    static func forgetUnfinishedUploads(state: isolated SandboxState) { state.fbVideos = state.fbVideos.filter { $0.value.finished } }
}

extension SandboxState {
    func setFBCaption(_ t: SandboxTextTrack, video id: String) {
        fbVideos[id]?.captions.removeAll { $0.language == t.language }
        fbVideos[id]?.captions.append(t)
    }

    /// A Facebook video's caption files, for tests.
    package func fbCaptions(of id: String) -> [SandboxTextTrack] { fbVideos[id]?.captions ?? [] }
}

import Foundation
import OmniPostCore

extension SandboxState {
    struct UploadSession: Codable {
        var id: String
        var account: String
        var total: Int64?
        var received: Int64
        var file: String
        var metadata: YouTubeVideoMetadata
        var created: Date
        var videoID: String?
        var uploadType = "resumable"
    }

    func putSession(_ s: UploadSession) { sessions[s.id] = s }

    /// A live session; an expired one is forgotten (and its partial bytes removed), answering 404 like YouTube.
    func session(_ id: String) -> UploadSession? {
        guard let s = sessions[id] else { return nil }
        if s.videoID == nil, Date().timeIntervalSince(s.created) > sessionLifetime {
            sessions[id] = nil
            try? FileManager.default.removeItem(atPath: s.file)
            return nil
        }
        return s
    }

    func takeFailPut() -> Int? {
        faults.youtubeFailPuts.isEmpty ? nil : faults.youtubeFailPuts.removeFirst()
    }

    func clearCut() { faults.youtubeCutAfterBytes = nil }

    /// All bytes are in: hash them, keep them under videos/, and publish the video.
    func finishYouTube(_ s: UploadSession) throws -> UploadSession {
        var s = s
        let vid = SandboxState.randomID(11, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let dest = root.appendingPathComponent("youtube/videos/\(vid).bin")
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: s.file, toPath: dest.path)
        let hash = try FileHashing.sha256(path: dest.path)
        let m = s.metadata
        var v = Video(
            platform: "youtube", id: vid, account: s.account, title: m.snippet?.title ?? "unknown",
            description: m.snippet?.description ?? "", tags: m.snippet?.tags ?? [],
            privacy: m.status?.privacyStatus ?? "public", publishAt: m.status?.publishAt,
            bytes: hash.bytes, sha256: hash.hex, path: dest.path, receivedAt: Date())
        v.categoryId = m.snippet?.categoryId ?? YouTubeVideoMetadata.defaultCategory
        v.madeForKids = m.status?.selfDeclaredMadeForKids
        v.containsSyntheticMedia = m.status?.containsSyntheticMedia
        v.defaultLanguage = m.snippet?.defaultLanguage
        v.embeddable = m.status?.embeddable
        v.license = m.status?.license
        v.uploadType = s.uploadType
        videos.append(v)
        s.videoID = vid
        s.file = dest.path
        sessions[s.id] = s
        return s
    }
}

extension SandboxState {
    /// thumbnails.set: the newest image replaces the last.
    func setThumbnail(videoID: String, sha256: String) -> Bool {
        guard let i = videos.firstIndex(where: { $0.id == videoID }) else { return false }
        videos[i].thumbnailSha256 = sha256
        return true
    }
}

/// What YouTube's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`), and kept across restarts.
extension SandboxState {
    struct YouTubeWorld: KeptWorld {
        var sessions: [String: UploadSession] = [:]
        /// The channels' playlists (optional so a snapshot from before them still reads).
        var playlists: [SandboxPlaylist]? = nil
    }

    var sessions: [String: UploadSession] {
        get { self[YouTubeWorld.self].sessions }
        _modify { yield &self[YouTubeWorld.self].sessions }
    }
}

extension YouTubeRoutes {
    static let name = "youtube"
    static func forgetUnfinishedUploads(state: isolated SandboxState) { state.sessions = state.sessions.filter { $0.value.videoID != nil } }
    static var keptWorlds: [any KeptWorld.Type] { [SandboxState.YouTubeWorld.self] }
}

extension SandboxState.YouTubeWorld {
    static let snapshotName = "youtube"
}

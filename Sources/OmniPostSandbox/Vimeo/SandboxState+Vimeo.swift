import Foundation
import OmniPostCore

extension SandboxState {
    struct VimeoVideo: Sendable, Codable {
        var id: String
        var account: String
        var name: String
        var description: String
        var privacy: String
        var uploadID: String
        var size: Int64
        var complete = false
        var tags: [String] = []
        var deleted = false
        var created = Date()
        /// Vimeo's `transcode.status` once every byte arrived: `in_progress` until `transcodedAt`, then
        /// `complete` — or `error`, for a video it could not transcode (`failProcessing`).
        var transcodeFailed: String? = nil
        var transcodedAt: Date? = nil
        /// Its custom thumbnails by id (`POST /videos/{id}/pictures`); optional so a snapshot from before
        /// pictures existed still reads.
        var pictures: [String: VimeoPicture]? = nil
        /// Its text tracks in the order made (`POST /videos/{id}/texttracks`); optional so an older snapshot reads.
        var textTracks: [SandboxTextTrack]? = nil

        var transcode: String {
            guard complete else { return "in_progress" }
            if transcodeFailed != nil { return "error" }
            return (transcodedAt ?? .distantFuture) <= Date() ? "complete" : "in_progress"
        }
    }

    /// A token that never expires, as Vimeo's access tokens do not (what an account's owner generated).
    package func registerStaticToken(_ token: String, account: String) {
        tokens[token] = Token(account: account, expires: .distantFuture)
    }

    func createVimeoVideo(account: String, name: String, description: String, privacy: String, size: Int64) throws -> VimeoVideo {
        let id = "1" + SandboxState.randomID(8, alphabet: "0123456789")
        let upload = try createTusUpload(length: size, metadata: ["filename": name], vimeoVideo: id)
        let v = VimeoVideo(id: id, account: account, name: name, description: description, privacy: privacy, uploadID: upload.id, size: size)
        vimeoVideos[id] = v
        return v
    }

    /// A custom thumbnail: made inactive and empty, its image PUT to its upload link, then made active.
    struct VimeoPicture: Sendable, Codable {
        var id: String
        var sha256: String? = nil
        var active = false
    }

    func addVimeoPicture(video id: String) -> VimeoPicture? {
        guard vimeoVideos[id] != nil else { return nil }
        let p = VimeoPicture(id: SandboxState.randomID(8, alphabet: "0123456789"))
        vimeoVideos[id]?.pictures = (vimeoVideos[id]?.pictures ?? [:]).merging([p.id: p]) { $1 }
        return p
    }

    /// The video whose picture `pictureID` is, for its upload link (which names only the picture).
    func vimeoVideo(picture pictureID: String) -> VimeoVideo? { vimeoVideos.values.first { $0.pictures?[pictureID] != nil } }

    func setVimeoPictureImage(video id: String, picture: String, sha256: String) { vimeoVideos[id]?.pictures?[picture]?.sha256 = sha256 }

    /// One active picture at a time: the video's thumbnail, as the platform shows it.
    func activateVimeoPicture(video id: String, picture: String) -> VimeoPicture? {
        guard var pictures = vimeoVideos[id]?.pictures, pictures[picture] != nil else { return nil }
        for k in pictures.keys { pictures[k]?.active = (k == picture) }
        vimeoVideos[id]?.pictures = pictures
        if let i = videos.firstIndex(where: { $0.platform == "vimeo" && $0.id == id }) { videos[i].thumbnailSha256 = pictures[picture]?.sha256 }
        return pictures[picture]
    }

    func vimeoVideo(_ id: String) -> VimeoVideo? { vimeoVideos[id].flatMap { $0.deleted ? nil : $0 } }

    func vimeoUploadCompleted(_ id: String, sha256: String, bytes: Int64, path: String) throws {
        guard var v = vimeoVideos[id] else { return }
        v.complete = true
        // The transcode starts once the upload is whole: it takes `processingMs`, or fails as told.
        v.transcodeFailed = takeProcessingFault()
        v.transcodedAt = Date().addingTimeInterval(Double(faults.processingMs) / 1000)
        vimeoVideos[id] = v
        // A video Vimeo cannot transcode never becomes watchable: it is no post.
        guard v.transcodeFailed == nil else { return }
        videos.append(
            Video(
                platform: "vimeo", id: id, account: v.account, title: v.name, description: v.description, tags: v.tags,
                privacy: v.privacy, publishAt: nil, bytes: bytes, sha256: sha256, path: path, receivedAt: Date()))
    }

    func setVimeoTags(_ id: String, _ tags: [String]) {
        vimeoVideos[id]?.tags = tags
        if let i = videos.firstIndex(where: { $0.platform == "vimeo" && $0.id == id }) { videos[i].tags = tags }
    }

    func deleteVimeoVideo(_ id: String) { vimeoVideos[id]?.deleted = true }

    /// An account's videos, newest first (what `GET /me/videos?sort=date&direction=desc` lists).
    func vimeoVideos(of account: String) -> [VimeoVideo] {
        vimeoVideos.values.filter { $0.account == account && !$0.deleted }.sorted { ($0.created, $0.id) > ($1.created, $1.id) }
    }

    /// Every video resource made, finished or not (an unfinished one is what a doubled create leaves).
    package func vimeoVideoCount() -> Int { vimeoVideos.values.filter { !$0.deleted }.count }
}

/// What Vimeo's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`), and kept across restarts.
extension SandboxState {
    struct VimeoWorld: KeptWorld {
        var videos: [String: VimeoVideo] = [:]
    }

    var vimeoVideos: [String: VimeoVideo] {
        get { self[VimeoWorld.self].videos }
        _modify { yield &self[VimeoWorld.self].videos }
    }
}

extension VimeoRoutes {
    static let name = "vimeo"
    static var keptWorlds: [any KeptWorld.Type] { [SandboxState.VimeoWorld.self] }
    /// The access token the account's owner generated (it never expires).
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        guard let token = credentials["access_token"] else { return }
        state.registerStaticToken(token, account: account)
    }
}

extension SandboxState.VimeoWorld {
    static let snapshotName = "vimeo"
}

extension SandboxState {
    func addVimeoTextTrack(video id: String, _ t: SandboxTextTrack) {
        // Read before the write: the world is taken out while it is modified in place.
        let tracks = (vimeoVideos[id]?.textTracks ?? []) + [t]
        vimeoVideos[id]?.textTracks = tracks
    }

    func vimeoVideo(textTrack tid: String) -> VimeoVideo? { vimeoVideos.values.first { $0.textTracks?.contains { $0.id == tid } == true } }

    func updateVimeoTextTrack(video id: String, _ tid: String, _ change: (inout SandboxTextTrack) -> Void) -> SandboxTextTrack? {
        guard let i = vimeoVideos[id]?.textTracks?.firstIndex(where: { $0.id == tid }) else { return nil }
        change(&vimeoVideos[id]!.textTracks![i])
        return vimeoVideos[id]!.textTracks![i]
    }

    /// A Vimeo video's text tracks, for tests.
    package func vimeoTextTracks(of id: String) -> [SandboxTextTrack] { vimeoVideos[id]?.textTracks ?? [] }
}

import Crypto
import Foundation
import OmniPostCore

extension SandboxState {
    /// One tus upload: what it is for (a plain tus target, or a Vimeo video's bytes) and what arrived.
    struct TusUpload: Sendable, Codable {
        var id: String
        var length: Int64
        var offset: Int64 = 0
        var file: String
        var metadata: [String: String]
        var created: Date
        var expired = false
        /// The Vimeo video these bytes are for; nil for the plain tus server.
        var vimeoVideo: String? = nil
    }

    func createTusUpload(length: Int64, metadata: [String: String], vimeoVideo: String? = nil) throws -> TusUpload {
        let id = SandboxState.randomID(24)
        let dir = root.appendingPathComponent("tus")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent(id)
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let u = TusUpload(id: id, length: length, file: file.path, metadata: metadata, created: Date(), vimeoVideo: vimeoVideo)
        tusUploads[id] = u
        return u
    }

    func tusUpload(_ id: String) -> TusUpload? { tusUploads[id] }

    /// Appends bytes at the upload's offset; at its length the upload is complete: the file becomes a
    /// delivered video (the tus target's post, or the Vimeo video's source).
    func appendTus(_ id: String, _ data: Data) throws -> Int64 {
        guard var u = tusUploads[id] else { return -1 }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: u.file))
        try h.seekToEnd()
        try h.write(contentsOf: data)
        try h.close()
        u.offset += Int64(data.count)
        addReceived(Int64(data.count))
        tusUploads[id] = u
        if u.offset == u.length { try tusCompleted(u) }
        return u.offset
    }

    func tusCompleted(_ u: TusUpload) throws {
        let sha = try FileHashing.sha256(path: u.file).hex
        if let video = u.vimeoVideo {
            try vimeoUploadCompleted(video, sha256: sha, bytes: u.length, path: u.file)
            return
        }
        videos.append(
            Video(
                platform: "tus", id: u.id, account: "tus", title: u.metadata["title"] ?? u.metadata["filename"] ?? "", description: "",
                tags: [], privacy: "private", publishAt: nil, bytes: u.length, sha256: sha, path: u.file, receivedAt: Date()))
    }

    /// Upload URLs handed out and never finished stop working, as a real server's expiration does.
    func expireTusUploads() {
        for (id, u) in tusUploads where u.offset < u.length { tusUploads[id]?.expired = true }
    }
}

/// What Tus's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`), and kept across restarts.
extension SandboxState {
    struct TusWorld: KeptWorld {
        var uploads: [String: TusUpload] = [:]
    }

    var tusUploads: [String: TusUpload] {
        get { self[TusWorld.self].uploads }
        _modify { yield &self[TusWorld.self].uploads }
    }
}

extension TusRoutes {
    static let name = "tus"
    static var keptWorlds: [any KeptWorld.Type] { [SandboxState.TusWorld.self] }
    static func expireUnfinishedUploads(state: isolated SandboxState) { state.expireTusUploads() }
}

extension SandboxState.TusWorld {
    static let snapshotName = "tus"
}

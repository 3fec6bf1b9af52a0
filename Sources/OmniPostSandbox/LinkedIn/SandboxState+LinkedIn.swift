import Foundation
import OmniPostCore

extension SandboxState {
    /// One LinkedIn video: parts PUT to signed URLs, each answered with an ETag; finalized with the
    /// ETags in order; then processed.
    struct LinkedInVideo: Sendable {
        struct Part: Sendable { var first: Int64; var last: Int64; var etag: String? }
        var urn: String
        var owner: String
        var account: String
        var size: Int64
        var parts: [Part]
        var uploadToken: String
        var dir: String
        var expiresAt: Date
        var finalized = false
        var readyAt: Date? = nil
        var failure: String? = nil
        var sha256: String? = nil
        var path: String? = nil

        var status: String {
            if !finalized { return "WAITING_UPLOAD" }
            if failure != nil { return "PROCESSING_FAILED" }
            return (readyAt ?? .distantFuture) <= Date() ? "AVAILABLE" : "PROCESSING"
        }
    }

    struct LinkedInPost: Sendable {
        var urn: String
        var author: String
        var account: String
        var commentary: String
        var visibility: String
        var video: String
        var title: String
        var created: Date
    }

    static let linkedinPartSize: Int64 = 4 * 1_048_576

    func startLinkedInUpload(account: String, owner: String, size: Int64) throws -> LinkedInVideo {
        let urn = "urn:li:video:D5" + SandboxState.randomID(14, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        let dir = root.appendingPathComponent("linkedin/uploads/\(urn.split(separator: ":").last!)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var parts: [LinkedInVideo.Part] = []
        var first: Int64 = 0
        while first < size {
            let last = min(first + Self.linkedinPartSize, size) - 1
            parts.append(.init(first: first, last: last))
            first = last + 1
        }
        // A single-part upload has no upload token; a multipart one has.
        let v = LinkedInVideo(
            urn: urn, owner: owner, account: account, size: size, parts: parts,
            uploadToken: parts.count > 1 ? SandboxState.randomID(40) : "", dir: dir,
            expiresAt: Date().addingTimeInterval(min(sessionLifetime, 86400)))
        linkedinVideos[urn] = v
        return v
    }

    func linkedinVideo(_ urn: String) -> LinkedInVideo? { linkedinVideos[urn] }

    func storeLinkedInPart(_ urn: String, index: Int, bytes: Data) throws -> String {
        guard var v = linkedinVideos[urn] else { return "" }
        try bytes.write(to: URL(fileURLWithPath: v.dir + "/\(index)"))
        let etag = "/ambry-video/signedId/" + SandboxState.randomID(32)
        v.parts[index].etag = etag
        linkedinVideos[urn] = v
        addReceived(Int64(bytes.count))
        return etag
    }

    /// finalizeUpload: every part's ETag, in order, as the parts were answered.
    func finalizeLinkedIn(_ urn: String, uploadToken: String, etags: [String]) throws -> String? {
        guard var v = linkedinVideos[urn] else { return "no video \(urn)" }
        if v.finalized { return nil }
        guard uploadToken == v.uploadToken else { return "uploadToken does not match the one initializeUpload gave" }
        let expected = v.parts.map { $0.etag }
        if let missing = expected.firstIndex(where: { $0 == nil }) { return "part \(missing + 1) of \(v.parts.count) was never uploaded" }
        guard etags == expected.compactMap({ $0 }) else { return "uploadedPartIds must be every part's ETag, in order" }
        let dest = root.appendingPathComponent("linkedin/videos/\(urn.split(separator: ":").last!).bin")
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dest.path, contents: nil)
        let out = try FileHandle(forWritingTo: dest)
        for i in v.parts.indices { try out.write(contentsOf: try Data(contentsOf: URL(fileURLWithPath: v.dir + "/\(i)"))) }
        try out.close()
        try? FileManager.default.removeItem(atPath: v.dir)
        v.finalized = true
        v.path = dest.path
        v.sha256 = try FileHashing.sha256(path: dest.path).hex
        v.readyAt = Date().addingTimeInterval(Double(faults.processingMs) / 1000)
        v.failure = takeProcessingFault()
        linkedinVideos[urn] = v
        return nil
    }

    func createLinkedInPost(account: String, author: String, commentary: String, visibility: String, video: LinkedInVideo, title: String) -> LinkedInPost {
        let post = LinkedInPost(
            urn: "urn:li:share:7" + SandboxState.randomID(18, alphabet: "0123456789"), author: author, account: account,
            commentary: commentary, visibility: visibility, video: video.urn, title: title, created: Date())
        linkedinPosts.append(post)
        videos.append(
            Video(
                platform: "linkedin", id: post.urn, account: account, title: title, description: commentary, tags: [],
                privacy: visibility, publishAt: nil, bytes: video.size, sha256: video.sha256 ?? "", path: video.path ?? "", receivedAt: Date()))
        return post
    }

    func linkedinPosts(by author: String) -> [LinkedInPost] { linkedinPosts.filter { $0.author == author }.reversed() }

    /// Every unfinished LinkedIn upload's signed URLs expire now.
    func expireLinkedInUploads() {
        for (urn, v) in linkedinVideos where !v.finalized { linkedinVideos[urn]?.expiresAt = .distantPast }
    }
}

/// What LinkedIn's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`).
extension SandboxState {
    struct LinkedInWorld: PlatformWorld {
        var videos: [String: LinkedInVideo] = [:]
        var posts: [LinkedInPost] = []
    }

    var linkedinVideos: [String: LinkedInVideo] {
        get { self[LinkedInWorld.self].videos }
        _modify { yield &self[LinkedInWorld.self].videos }
    }
    var linkedinPosts: [LinkedInPost] {
        get { self[LinkedInWorld.self].posts }
        _modify { yield &self[LinkedInWorld.self].posts }
    }
}

extension LinkedInRoutes {
    static let name = "linkedin"
    static func expireUnfinishedUploads(state: isolated SandboxState) { state.expireLinkedInUploads() }
}

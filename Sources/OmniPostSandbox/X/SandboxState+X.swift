import Foundation
import OmniPostCore

extension SandboxState {
    /// One chunked media upload, as X keeps it: segments by index until FINALIZE, then processing.
    struct XMedia: Sendable {
        var id: String
        var key: String
        var account: String
        var mediaType: String
        var category: String
        var total: Int64
        var dir: String
        /// Segment index → its size; a segment sent again replaces the earlier one.
        var segments: [Int: Int64] = [:]
        var created: Date
        var finalized = false
        var readyAt: Date? = nil
        var failure: String? = nil
        var sha256: String? = nil
        var path: String? = nil
        /// FINALIZE's `check_after_secs` from when it answered: a STATUS before this is too soon.
        var statusNotBefore: Date? = nil
    }

    struct XPost: Sendable {
        var id: String
        var account: String
        var text: String
        var mediaKeys: [String]
        var created: Date
        /// The post this one replies to (`reply.in_reply_to_tweet_id`).
        var inReplyTo: String? = nil
    }

    /// An upload that is still alive (X forgets an unfinished one after its `expires_after_secs`).
    func xUpload(_ id: String) -> XMedia? {
        guard let m = xMedia[id], Date().timeIntervalSince(m.created) < sessionLifetime else { return nil }
        return m
    }

    /// Every unfinished media upload expires now.
    func expireXUploads() {
        for (id, m) in xMedia where !m.finalized { xMedia[id]?.created = .distantPast }
    }

    func startXUpload(account: String, mediaType: String, category: String, total: Int64) throws -> XMedia {
        let id = "1" + SandboxState.randomID(18, alphabet: "0123456789")
        let dir = root.appendingPathComponent("x/uploads/\(id)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let m = XMedia(id: id, key: "7_" + id, account: account, mediaType: mediaType, category: category, total: total, dir: dir, created: Date())
        xMedia[id] = m
        return m
    }

    func storeXSegment(_ id: String, index: Int, bytes: Data) throws {
        guard var m = xMedia[id] else { return }
        try bytes.write(to: URL(fileURLWithPath: m.dir + "/\(index)"))
        m.segments[index] = Int64(bytes.count)
        xMedia[id] = m
        addReceived(Int64(bytes.count))
    }

    /// FINALIZE: the segments, in index order with none missing, must add up to the declared size.
    func finalizeX(_ id: String) throws -> Result<XMedia, XProblem> {
        guard var m = xUpload(id) else { return .failure(.notFound(id)) }
        if m.finalized { return .success(m) }
        let count = (m.segments.keys.max() ?? -1) + 1
        guard count > 0, m.segments.count == count else {
            return .failure(.invalid("InvalidMedia: segments \((0..<count).filter { m.segments[$0] == nil }.map(String.init).joined(separator: ", ")) are missing"))
        }
        let size = m.segments.values.reduce(0, +)
        guard size == m.total else { return .failure(.invalid("InvalidMedia: the segments add up to \(size) bytes; INIT declared total_bytes \(m.total)")) }
        let dest = root.appendingPathComponent("x/media/\(id).bin")
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dest.path, contents: nil)
        let out = try FileHandle(forWritingTo: dest)
        for i in 0..<count { try out.write(contentsOf: try Data(contentsOf: URL(fileURLWithPath: m.dir + "/\(i)"))) }
        try out.close()
        try? FileManager.default.removeItem(atPath: m.dir)
        m.finalized = true
        m.path = dest.path
        m.sha256 = try FileHashing.sha256(path: dest.path).hex
        m.readyAt = Date().addingTimeInterval(Double(faults.processingMs) / 1000)
        m.failure = takeProcessingFault()
        xMedia[id] = m
        return .success(m)
    }

    enum XProblem: Error { case notFound(String), invalid(String) }

    /// FINALIZE's `check_after_secs`: whole seconds until processing ends (at least 1), remembered so a
    /// STATUS that comes sooner is counted (`x.status.early`).
    func xStatusNotBefore(_ id: String) -> Int {
        guard var m = xMedia[id] else { return 1 }
        let secs = max(1, Int((m.readyAt ?? Date()).timeIntervalSinceNow.rounded(.up)))
        m.statusNotBefore = Date().addingTimeInterval(Double(secs))
        xMedia[id] = m
        return secs
    }

    /// An injected 429 for the next read of an account itself (`rateLimitReads`), with its wait in seconds.
    func takeReadLimit() -> Int? {
        guard faults.rateLimitReads > 0 else { return nil }
        faults.rateLimitReads -= 1
        return faults.rateLimitRetryAfterS
    }

    /// Creates a post: the sandbox's record of a published video.
    func createXPost(account: String, text: String, media: [XMedia], inReplyTo: String? = nil) -> XPost {
        let post = XPost(
            id: "1" + SandboxState.randomID(18, alphabet: "0123456789"), account: account, text: text,
            mediaKeys: media.map(\.key), created: Date(), inReplyTo: inReplyTo)
        xPosts.append(post)
        for m in media {
            videos.append(
                Video(
                    platform: "x", id: post.id, account: account, title: text, description: "", tags: [], privacy: "public",
                    publishAt: nil, bytes: m.total, sha256: m.sha256 ?? "", path: m.path ?? "", receivedAt: Date()))
        }
        return post
    }

    func xPosts(of account: String) -> [XPost] { xPosts.filter { $0.account == account }.reversed() }

    func xPost(_ id: String) -> XPost? { xPosts.first { $0.id == id } }

    /// The post `id` replies to, for tests: nil when it is no reply (or no post).
    package func xRepliedTo(_ id: String) -> String? { xPost(id)?.inReplyTo }
}

/// What X's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`).
extension SandboxState {
    struct XWorld: PlatformWorld {
        var media: [String: XMedia] = [:]
        var posts: [XPost] = []
    }

    var xMedia: [String: XMedia] {
        get { self[XWorld.self].media }
        _modify { yield &self[XWorld.self].media }
    }
    var xPosts: [XPost] {
        get { self[XWorld.self].posts }
        _modify { yield &self[XWorld.self].posts }
    }
}

extension XRoutes {
    static let name = "x"
    static func expireUnfinishedUploads(state: isolated SandboxState) { state.expireXUploads() }
}

import Foundation
import OmniPostCore

extension SandboxState {
    /// One upload token: a single file or parts by number, until an archive spends it.
    struct BilibiliUpload: Sendable, Codable, PartFolderUpload {
        var token: String
        var account: String
        var single: Bool
        var dir: String
        var parts: [Int: Int64] = [:]
        /// The merged (or single) file, once there is one.
        var path: String?
        var used = false
    }

    struct BilibiliArchive: Sendable, Codable {
        var id: String
        var account: String
        var title: String
        var tid: Int
        var tags: [String]
        var copyright: Int
        var source: String?
        var cover: String
        var created: Date
    }

    func startBilibiliUpload(account: String, single: Bool) throws -> BilibiliUpload {
        let token = SandboxState.randomID(32, alphabet: "0123456789abcdef")
        let u = BilibiliUpload(token: token, account: account, single: single, dir: try BilibiliUpload.folder(root, "bilibili", token: token))
        bilibiliWorld.uploads[token] = u
        return u
    }

    func bilibiliUpload(_ token: String) -> BilibiliUpload? { bilibiliWorld.uploads[token] }

    func storeBilibiliPart(_ token: String, number: Int, bytes: Data) throws {
        guard var u = bilibiliWorld.uploads[token] else { return }
        try u.storePart(number, bytes)
        bilibiliWorld.uploads[token] = u
        addReceived(Int64(bytes.count))
    }

    func storeBilibiliWhole(_ token: String, bytes: Data) throws {
        guard var u = bilibiliWorld.uploads[token] else { return }
        try u.storeWhole(bytes)
        bilibiliWorld.uploads[token] = u
        addReceived(Int64(bytes.count))
    }

    /// `video/complete`: parts 1…n with none missing, all but the last of one size.
    func completeBilibiliUpload(_ token: String) throws -> String? {
        guard var u = bilibiliWorld.uploads[token] else { return "upload_token is unknown" }
        let n = u.parts.keys.max() ?? 0
        guard n > 0, u.parts.count == n else { return "parts \((1...max(n, 1)).filter { u.parts[$0] == nil }.map(String.init).joined(separator: ", ")) are missing" }
        if n > 1, Set((1..<n).map { u.parts[$0]! }).count > 1 { return "every part but the last must be of one size" }
        try u.merge(1...n)
        bilibiliWorld.uploads[token] = u
        return nil
    }

    /// A cover's URL the sandbox handed out (`cover/upload`).
    func keepBilibiliCover(_ url: String) { bilibiliWorld.covers.insert(url) }
    func isBilibiliCover(_ url: String) -> Bool { bilibiliWorld.covers.contains(url) }

    /// `add-by-utoken`: the upload token is spent, the archive made (under review).
    func submitBilibili(account: String, token: String, title: String, tid: Int, tags: [String], desc: String, copyright: Int, source: String?, cover: String)
        throws -> Result<BilibiliArchive, BilibiliProblem>
    {
        guard var u = bilibiliWorld.uploads[token], u.account == account else { return .failure(.invalid(-404, "upload_token is unknown")) }
        guard let path = u.path else { return .failure(.invalid(-400, "the video is not uploaded (or its parts not merged) yet")) }
        guard !u.used else { return .failure(.invalid(-400, "upload_token has made an archive already")) }
        u.used = true
        bilibiliWorld.uploads[token] = u
        let a = BilibiliArchive(
            id: "BV1" + SandboxState.randomID(9, alphabet: "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789"), account: account,
            title: title, tid: tid, tags: tags, copyright: copyright, source: source, cover: cover, created: Date())
        bilibiliWorld.archives.append(a)
        let hash = try FileHashing.sha256(path: path)
        videos.append(
            Video(
                platform: "bilibili", id: a.id, account: account, title: title, description: desc, tags: tags, privacy: "public", publishAt: nil,
                bytes: hash.bytes, sha256: hash.hex, path: path, receivedAt: Date()))
        return .success(a)
    }

    enum BilibiliProblem: Error { case invalid(Int, String) }

    func bilibiliArchives(of account: String) -> [BilibiliArchive] { bilibiliWorld.archives.filter { $0.account == account }.reversed() }

    /// Every upload token that made no archive is forgotten.
    func forgetBilibiliUploads() { bilibiliWorld.uploads = bilibiliWorld.uploads.filter { $0.value.used } }
}

/// What Bilibili's sandbox remembers, kept across a persistent sandbox's restarts.
extension SandboxState {
    struct BilibiliWorld: KeptWorld {
        static let snapshotName = "bilibili"
        var uploads: [String: BilibiliUpload] = [:]
        var archives: [BilibiliArchive] = []
        var covers: Set<String> = []
    }

    var bilibiliWorld: BilibiliWorld {
        get { self[BilibiliWorld.self] }
        _modify { yield &self[BilibiliWorld.self] }
    }
}

extension BilibiliRoutes {
    static let name = "bilibili"
    static var keptWorlds: [any KeptWorld.Type] { [SandboxState.BilibiliWorld.self] }
    static func expireUnfinishedUploads(state: isolated SandboxState) { state.forgetBilibiliUploads() }
}

extension SandboxState {
    /// The app an account was registered with, by its key (`bilibili:<name>`).
    func clientID(ofAccount key: String) -> String? { accounts.values.first { "\($0.platform):\($0.name)" == key && !$0.revoked }?.clientID }
}

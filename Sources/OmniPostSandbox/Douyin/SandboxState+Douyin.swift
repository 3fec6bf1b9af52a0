import Foundation
import OmniPostCore

extension SandboxState {
    /// One part upload, as Douyin keeps it: parts by number until completed (its id lives two hours).
    struct DouyinPartUpload: Sendable, Codable {
        var id: String
        var account: String
        var dir: String
        /// Part number → its size; a part sent again replaces the earlier one.
        var parts: [Int: Int64] = [:]
        var created: Date
    }

    /// A `video_id`: an uploaded file, good for one create.
    struct DouyinVideo: Sendable, Codable {
        var id: String
        var account: String
        var path: String
        var bytes: Int64
        var sha256: String
        var used = false
    }

    /// An item `create_video` made.
    struct DouyinItem: Sendable, Codable {
        var id: String
        var account: String
        var text: String
        var created: Date
        var coverTsp: Double?
        var atUsers: [String]
    }

    /// A refresh token's own life: 30 days from its grant or renewal, at most five renewals.
    struct DouyinRefresh: Sendable, Codable {
        var issued: Date
        var renewals: Int
    }

    static let douyinUploadLifetime: TimeInterval = 7200
    static let douyinRefreshLifetime: TimeInterval = 30 * 86400
    static let douyinMaxRenewals = 5

    func douyinUpload(_ id: String, account: String) -> DouyinPartUpload? {
        guard let u = douyinWorld.uploads[id], u.account == account, Date().timeIntervalSince(u.created) < Self.douyinUploadLifetime else { return nil }
        return u
    }

    func startDouyinUpload(account: String) throws -> DouyinPartUpload {
        let id = "@" + SandboxState.randomID(40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        let dir = root.appendingPathComponent("douyin/uploads/\(SandboxState.randomID(16))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let u = DouyinPartUpload(id: id, account: account, dir: dir, created: Date())
        douyinWorld.uploads[id] = u
        return u
    }

    func storeDouyinPart(_ id: String, number: Int, bytes: Data) throws {
        guard var u = douyinWorld.uploads[id] else { return }
        try bytes.write(to: URL(fileURLWithPath: u.dir + "/\(number)"))
        u.parts[number] = Int64(bytes.count)
        douyinWorld.uploads[id] = u
        addReceived(Int64(bytes.count))
    }

    /// Completes a part upload: parts 1…n, none missing, every one but the last at least 5 MB.
    func completeDouyinUpload(_ id: String) throws -> Result<DouyinVideo, DouyinProblem> {
        guard let u = douyinWorld.uploads[id] else { return .failure(.invalid("upload_id is invalid or expired")) }
        let n = u.parts.keys.max() ?? 0
        guard n > 0, u.parts.count == n else {
            return .failure(.invalid("parts \((1...max(n, 1)).filter { u.parts[$0] == nil }.map(String.init).joined(separator: ", ")) are missing"))
        }
        if let small = (1..<n).first(where: { u.parts[$0]! < DouyinRoutes.minPart }) {
            return .failure(.invalid("part \(small) is \(u.parts[small]!) bytes; every part but the last must be at least 5 MB"))
        }
        let dest = root.appendingPathComponent("douyin/videos/\(SandboxState.randomID(20)).bin")
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dest.path, contents: nil)
        let out = try FileHandle(forWritingTo: dest)
        for i in 1...n { try out.write(contentsOf: try Data(contentsOf: URL(fileURLWithPath: u.dir + "/\(i)"))) }
        try out.close()
        try? FileManager.default.removeItem(atPath: u.dir)
        douyinWorld.uploads[id] = nil
        return .success(try keepDouyinVideo(account: u.account, path: dest.path))
    }

    /// A whole file (`upload_video`), or the parts just completed: a new `video_id`.
    func keepDouyinVideo(account: String, path: String) throws -> DouyinVideo {
        let hash = try FileHashing.sha256(path: path)
        let v = DouyinVideo(
            id: "v0200f" + SandboxState.randomID(26, alphabet: "abcdefghijklmnopqrstuvwxyz0123456789"), account: account, path: path,
            bytes: hash.bytes, sha256: hash.hex)
        douyinWorld.videos[v.id] = v
        return v
    }

    enum DouyinProblem: Error { case invalid(String) }

    /// `create_video`: the video_id is spent, the item made (under review, seen by its author only).
    func createDouyinItem(account: String, videoID: String, text: String, coverTsp: Double?, atUsers: [String]) -> Result<DouyinItem, DouyinProblem> {
        guard var v = douyinWorld.videos[videoID], v.account == account else { return .failure(.invalid("video_id is invalid")) }
        guard !v.used else { return .failure(.invalid("video_id has been used: upload the video again for a new one")) }
        v.used = true
        douyinWorld.videos[videoID] = v
        let item = DouyinItem(
            id: "@9VwKzuuES" + SandboxState.randomID(30, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), account: account,
            text: text, created: Date(), coverTsp: coverTsp, atUsers: atUsers)
        douyinWorld.items.append(item)
        videos.append(
            Video(
                platform: "douyin", id: item.id, account: account, title: text, description: "", tags: [], privacy: "public", publishAt: nil,
                bytes: v.bytes, sha256: v.sha256, path: v.path, receivedAt: Date()))
        return .success(item)
    }

    func douyinItems(of account: String) -> [DouyinItem] { douyinWorld.items.filter { $0.account == account }.reversed() }

    /// Every unfinished part upload passes its two hours now.
    func expireDouyinUploads() {
        for id in douyinWorld.uploads.keys { douyinWorld.uploads[id]?.created = .distantPast }
    }

    /// The refresh token's record, made at its first sight (a grant registered at start).
    func douyinRefresh(_ token: String) -> DouyinRefresh {
        if let r = douyinWorld.refresh[token] { return r }
        let r = DouyinRefresh(issued: Date(), renewals: 0)
        douyinWorld.refresh[token] = r
        return r
    }

    enum DouyinRefreshResult { case ok(access: String, expires: Int, refreshLeft: Int, openID: String), invalidClient, expired }

    /// `/oauth/refresh_token/`: a new access token; the refresh token and its 30 days stay as they are.
    func refreshDouyin(clientKey: String, refreshToken: String) -> DouyinRefreshResult {
        guard let a = accounts[refreshToken], !a.revoked, a.platform == "douyin" else { return .expired }
        guard a.clientID == clientKey else { return .invalidClient }
        let left = Self.douyinRefreshLifetime - Date().timeIntervalSince(douyinRefresh(refreshToken).issued)
        guard left > 0 else { return .expired }
        let access = "act." + SandboxState.randomID(40)
        tokens[access] = Token(account: "douyin:\(a.name)", expires: Date().addingTimeInterval(accessTokenLifetime))
        return .ok(access: access, expires: Int(accessTokenLifetime), refreshLeft: Int(left), openID: DouyinRoutes.openID(a.name))
    }

    enum DouyinRenewResult { case ok(String, Int), invalidClient, expired, tooMany }

    /// `/oauth/renew_refresh_token/`: a new refresh token with 30 days; the old one dies; five at most.
    func renewDouyin(clientKey: String, refreshToken: String) -> DouyinRenewResult {
        guard var a = accounts[refreshToken], !a.revoked, a.platform == "douyin" else { return .expired }
        guard a.clientID == clientKey else { return .invalidClient }
        let record = douyinRefresh(refreshToken)
        guard Date().timeIntervalSince(record.issued) < Self.douyinRefreshLifetime else { return .expired }
        guard record.renewals < Self.douyinMaxRenewals else { return .tooMany }
        let next = "rft." + SandboxState.randomID(40)
        accounts[refreshToken] = nil
        a.refreshToken = next
        accounts[next] = a
        douyinWorld.refresh[next] = DouyinRefresh(issued: Date(), renewals: record.renewals + 1)
        return .ok(next, Int(Self.douyinRefreshLifetime))
    }

    /// Moves a refresh token's grant this many seconds into the past (tests of its 30 days).
    package func ageDouyinRefreshToken(_ token: String, by seconds: TimeInterval) {
        var r = douyinRefresh(token)
        r.issued = r.issued.addingTimeInterval(-seconds)
        douyinWorld.refresh[token] = r
    }

    /// What a refresh token's record says: renewals made (tests).
    package func douyinRenewals(_ token: String) -> Int? { douyinWorld.refresh[token]?.renewals }
}

/// What Douyin's sandbox remembers, kept across a persistent sandbox's restarts.
extension SandboxState {
    struct DouyinWorld: KeptWorld {
        static let snapshotName = "douyin"
        var uploads: [String: DouyinPartUpload] = [:]
        var videos: [String: DouyinVideo] = [:]
        var items: [DouyinItem] = []
        var refresh: [String: DouyinRefresh] = [:]
    }

    var douyinWorld: DouyinWorld {
        get { self[DouyinWorld.self] }
        _modify { yield &self[DouyinWorld.self] }
    }
}

extension DouyinRoutes {
    static let name = "douyin"
    static let clientIDParameter = "client_key"
    static var keptWorlds: [any KeptWorld.Type] { [SandboxState.DouyinWorld.self] }
    static func expireUnfinishedUploads(state: isolated SandboxState) { state.expireDouyinUploads() }
}

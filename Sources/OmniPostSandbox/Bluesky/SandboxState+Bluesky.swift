import Crypto
import Foundation
import OmniPostCore
import OmniPostWire

extension SandboxState {
    struct BskyAccount: Sendable {
        var key: String
        var handle: String
        var password: String
        var did: String
    }

    struct BskyServiceToken: Sendable {
        var did: String
        var aud: String
        var lxm: String
        var exp: Date
    }

    struct BskyJob: Sendable {
        var id: String
        var did: String
        var cid: String
        var created: Date
        var failure: String?
    }

    struct BskyBlob: Sendable {
        var did: String
        var path: String
        var sha256: String
        var size: Int64
        var mimeType: String
    }

    struct BskyRecord: Sendable {
        var uri: String
        var cid: String
        var value: [String: any Sendable]
    }

    /// An account that signs in with its handle and an app password.
    package func registerBluesky(account key: String, handle: String, appPassword: String) {
        let did = "did:plc:" + userID(key, length: 24, alphabet: "abcdefghijklmnopqrstuvwxyz234567")
        bskyAccounts[handle] = BskyAccount(key: key, handle: handle, password: appPassword, did: did)
    }

    /// The owner revoked the app password: it no longer signs in, and every session made with it ends
    /// (access and refresh JWTs alike). Registering the account again gives it back.
    package func revokeBlueskyAppPassword(account key: String) {
        guard let (handle, a) = bskyAccounts.first(where: { $0.value.key == key }) else { return }
        bskyAccounts[handle]?.password = "revoked-" + SandboxState.randomID(12)
        bskyAccess = bskyAccess.filter { $0.value.0 != a.did }
        bskyRefresh = bskyRefresh.filter { $0.value != a.did }
    }

    func bskyLogin(_ identifier: String, _ password: String) -> BskyAccount? {
        guard let a = bskyAccounts.values.first(where: { $0.handle == identifier || $0.did == identifier }), a.password == password else { return nil }
        return a
    }

    func bskyAccount(did: String) -> BskyAccount? { bskyAccounts.values.first { $0.did == did } }
    func bskyResolve(_ handle: String) -> String? { bskyAccounts[handle]?.did }

    /// A session's pair of JWTs (HS256, as a PDS signs its own), which clients decode for `exp`: the
    /// access one lives `accessTokenLifetime`, the refresh one 90 days.
    func bskyIssue(_ a: BskyAccount) -> (access: String, refresh: String) {
        let now = Date().timeIntervalSince1970
        let access = Self.jwt(["scope": "com.atproto.appPass", "sub": a.did, "aud": "did:web:sandbox.test", "iat": Int(now), "exp": Int(now + accessTokenLifetime)])
        let refresh = Self.jwt([
            "scope": "com.atproto.refresh", "sub": a.did, "aud": "did:web:sandbox.test", "jti": SandboxState.randomID(24),
            "iat": Int(now), "exp": Int(now + 90 * 86400)
        ])
        bskyAccess[access] = (a.did, Date().addingTimeInterval(accessTokenLifetime))
        bskyRefresh[refresh] = a.did
        return (access, refresh)
    }

    static func jwt(_ payload: [String: Any]) -> String {
        func b64(_ d: Data) -> String {
            d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let head = b64(Data(#"{"typ":"at+jwt","alg":"HS256"}"#.utf8))
        let body = b64((try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data())
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(head).\(body)".utf8), using: SymmetricKey(data: Data("omnipost-sandbox-pds".utf8)))
        return "\(head).\(body).\(b64(Data(mac)))"
    }

    /// Every access JWT handed out so far lapses now (time passing, without a test waiting for it).
    package func expireBlueskyAccessTokens() {
        for (t, v) in bskyAccess { bskyAccess[t] = (v.0, .distantPast) }
    }

    enum BskyAuth { case ok(String), expired, invalid }
    func bskyCheck(_ token: String) -> BskyAuth {
        guard let (did, exp) = bskyAccess[token] else { return .invalid }
        return exp > Date() ? .ok(did) : .expired
    }

    /// A refresh JWT works once: it is exchanged for a new pair.
    func bskyRefreshSession(_ token: String) -> (BskyAccount, String, String)? {
        guard let did = bskyRefresh.removeValue(forKey: token), let a = bskyAccount(did: did) else { return nil }
        let (x, r) = bskyIssue(a)
        return (a, x, r)
    }

    func bskyServiceToken(did: String, aud: String, lxm: String, exp: Date) -> String {
        let t = "sbx-service." + SandboxState.randomID(32)
        bskyService[t] = BskyServiceToken(did: did, aud: aud, lxm: lxm, exp: exp)
        return t
    }

    func bskyService(_ token: String) -> BskyServiceToken? { bskyService[token] }

    func bskyStoreBlob(did: String, data: Data, mimeType: String) throws -> (cid: String, blob: BskyBlob) {
        let cid = ATProto.blobCID(data)
        let dir = root.appendingPathComponent("bluesky")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent(cid)
        try data.write(to: file)
        addReceived(Int64(data.count))
        let b = BskyBlob(did: did, path: file.path, sha256: FileHashing.sha256(data: data), size: Int64(data.count), mimeType: mimeType)
        bskyBlobs[cid] = b
        return (cid, b)
    }

    func bskyBlob(_ cid: String) -> BskyBlob? { bskyBlobs[cid] }

    func bskyCreateJob(did: String, cid: String) -> BskyJob {
        let j = BskyJob(id: SandboxState.randomID(20), did: did, cid: cid, created: Date(), failure: takeProcessingFault())
        bskyJobs[j.id] = j
        bskyJobByVideo["\(did)|\(cid)"] = j.id
        bskyVideosToday[did, default: 0] += 1
        return j
    }

    func bskyJob(_ id: String) -> BskyJob? { bskyJobs[id] }
    func bskyExistingJob(did: String, cid: String) -> BskyJob? { bskyJobByVideo["\(did)|\(cid)"].flatMap { bskyJobs[$0] } }
    func bskyVideosUsed(_ did: String) -> Int { bskyVideosToday[did] ?? 0 }
    package func setBlueskyDailyVideos(_ n: Int) { bskyDailyVideos = n }
    func bskyDailyLimit() -> Int { bskyDailyVideos }

    func bskyRecord(did: String, rkey: String) -> BskyRecord? { bskyRecords["\(did)/\(rkey)"] }
    func bskyRecord(uri: String) -> BskyRecord? {
        let parts = uri.dropFirst("at://".count).split(separator: "/").map(String.init)
        guard uri.hasPrefix("at://"), parts.count == 3 else { return nil }
        return bskyRecord(did: parts[0], rkey: parts[2])
    }

    /// The records replying directly to `uri` (their `reply.parent`), oldest first.
    func bskyReplies(to uri: String) -> [BskyRecord] {
        bskyRecordOrder.compactMap { bskyRecords[$0] }.filter { r in
            guard let json = r.value["json"] as? String, let v = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return false }
            return ((v["reply"] as? [String: Any])?["parent"] as? [String: Any])?["uri"] as? String == uri
        }
    }

    func bskyRecords(did: String) -> [BskyRecord] {
        bskyRecordOrder.filter { $0.hasPrefix(did + "/") }.reversed().compactMap { bskyRecords[$0] }
    }

    func bskyCreateRecord(did: String, rkey: String, value: [String: any Sendable], text: String, videoCID: String?) -> BskyRecord {
        let uri = "at://\(did)/app.bsky.feed.post/\(rkey)"
        let cid = ATProto.blobCID(Data(uri.utf8))
        let r = BskyRecord(uri: uri, cid: cid, value: value)
        bskyRecords["\(did)/\(rkey)"] = r
        bskyRecordOrder.append("\(did)/\(rkey)")
        if let v = videoCID, let b = bskyBlobs[v], let a = bskyAccount(did: did) {
            videos.append(
                Video(
                    platform: "bluesky", id: uri, account: a.key, title: text, description: "", tags: [], privacy: "public",
                    publishAt: nil, bytes: b.size, sha256: b.sha256, path: b.path, receivedAt: Date()))
        }
        return r
    }
}

/// What Bluesky's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`).
extension SandboxState {
    struct BlueskyWorld: PlatformWorld {
        var accounts: [String: BskyAccount] = [:]
        var access: [String: (String, Date)] = [:]
        var refresh: [String: String] = [:]
        var service: [String: BskyServiceToken] = [:]
        var blobs: [String: BskyBlob] = [:]
        var jobs: [String: BskyJob] = [:]
        var jobByVideo: [String: String] = [:]
        var videosToday: [String: Int] = [:]
        var dailyVideos: Int = 25
        var records: [String: BskyRecord] = [:]
        var recordOrder: [String] = []
    }

    var bskyAccounts: [String: BskyAccount] {
        get { self[BlueskyWorld.self].accounts }
        _modify { yield &self[BlueskyWorld.self].accounts }
    }
    var bskyAccess: [String: (String, Date)] {
        get { self[BlueskyWorld.self].access }
        _modify { yield &self[BlueskyWorld.self].access }
    }
    var bskyRefresh: [String: String] {
        get { self[BlueskyWorld.self].refresh }
        _modify { yield &self[BlueskyWorld.self].refresh }
    }
    var bskyService: [String: BskyServiceToken] {
        get { self[BlueskyWorld.self].service }
        _modify { yield &self[BlueskyWorld.self].service }
    }
    var bskyBlobs: [String: BskyBlob] {
        get { self[BlueskyWorld.self].blobs }
        _modify { yield &self[BlueskyWorld.self].blobs }
    }
    var bskyJobs: [String: BskyJob] {
        get { self[BlueskyWorld.self].jobs }
        _modify { yield &self[BlueskyWorld.self].jobs }
    }
    var bskyJobByVideo: [String: String] {
        get { self[BlueskyWorld.self].jobByVideo }
        _modify { yield &self[BlueskyWorld.self].jobByVideo }
    }
    var bskyVideosToday: [String: Int] {
        get { self[BlueskyWorld.self].videosToday }
        _modify { yield &self[BlueskyWorld.self].videosToday }
    }
    var bskyDailyVideos: Int {
        get { self[BlueskyWorld.self].dailyVideos }
        _modify { yield &self[BlueskyWorld.self].dailyVideos }
    }
    var bskyRecords: [String: BskyRecord] {
        get { self[BlueskyWorld.self].records }
        _modify { yield &self[BlueskyWorld.self].records }
    }
    var bskyRecordOrder: [String] {
        get { self[BlueskyWorld.self].recordOrder }
        _modify { yield &self[BlueskyWorld.self].recordOrder }
    }
}

extension BlueskyRoutes {
    static let name = "bluesky"
    /// The account's handle and app password.
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        guard let handle = credentials["handle"], let password = credentials["app_password"] else { return }
        state.registerBluesky(account: account, handle: handle, appPassword: password)
    }
}

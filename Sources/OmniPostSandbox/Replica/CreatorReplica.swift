import Foundation
import OmniPostCore

/// What a replica of a creator page remembers (Xiaohongshu's, WeChat Channels'): signed-in sessions
/// (the session cookie → account), QR codes waiting for a scan, uploads in progress, the posts each
/// account published, and the faults a test asked for. Counters say what a client did that a person
/// would not (a decoy used, publish asked before the upload completed). One per platform, by name.
extension SandboxState {
    /// A post a replica made.
    package struct ReplicaPost: Sendable, Codable, Equatable {
        package var id: String
        package var account: String
        package var title: String
        package var description: String
        package var original: Bool
        package var bytes: Int64
        package var sha256: String
        package var duration: Double?
        /// What else the page sent that the platform keeps (WeChat Channels' location), by name.
        package var extras: [String: String] = [:]
    }

    /// What a replica does on demand.
    package struct ReplicaFaults: Sendable, Equatable {
        /// Publish answers with the security check (a slider captcha) instead of posting.
        package var captcha = false
        /// Publish answers "too frequent" instead of posting.
        package var rateLimited = false
        /// Every session has ended: each page sends the browser to the login page.
        package var sessionExpired = false
        /// The redesigned page: other labels for the upload area, the title field and the publish button.
        package var changedLayout = false
        /// The "声明原创" box is not on the page this time.
        package var noOriginalBox = false
        /// Each upload chunk is held this long (a slow upload, so early clicks would show).
        package var chunkDelayMs = 0
        /// The post is made, but the page never confirms it (no success page, no message).
        package var silentPublish = false
        /// The publish button is enabled before the upload completes (as Kuaishou's page does).
        package var publishEnabledEarly = false
        package init() {}
    }

    /// A page's limits, and how it words a refusal of each.
    struct ReplicaLimits: Sendable {
        var title: Int?
        var titleSays = ""
        var description: Int
        var descriptionSays: String
    }

    struct ReplicaUpload: Sendable {
        var account: String
        var data = Data()
        var total: Int64
        var complete = false
    }

    struct CreatorReplica: Sendable {
        var sessions: [String: String] = [:]
        /// QR id → the account that scanned it (nil: not yet scanned).
        var qrCodes: [String: String?] = [:]
        var uploads: [String: ReplicaUpload] = [:]
        var posts: [ReplicaPost] = []
        var faults = ReplicaFaults()
        var decoyUses = 0
        var earlyPublishes = 0
        var publishRequests = 0
    }

    struct ReplicasWorld: PlatformWorld {
        var pages: [String: CreatorReplica] = [:]
    }

    /// The replica of `platform`'s creator pages.
    func replica(_ platform: String) -> CreatorReplica { self[ReplicasWorld.self].pages[platform] ?? CreatorReplica() }
    func changeReplica<T>(_ platform: String, _ body: (inout CreatorReplica) -> T) -> T {
        var r = replica(platform)
        let out = body(&r)
        self[ReplicasWorld.self].pages[platform] = r
        return out
    }

    /// A signed-in session for `account` (what a QR scan or a browser's login gives): the session cookie's value.
    package func replicaSession(_ platform: String, account: String) -> String {
        let token = String(platform.prefix(3)) + "-" + SandboxState.randomID(24)
        changeReplica(platform) { $0.sessions[token] = account }
        return token
    }

    /// A session its owner handed over (a sandboxed pipeline's made-up cookie), for the account named.
    func replicaGrant(_ platform: String, session: String, account: String) { changeReplica(platform) { $0.sessions[session] = account } }

    package func setReplicaFaults(_ platform: String, _ f: ReplicaFaults) { changeReplica(platform) { $0.faults = f } }
    package func replicaFaults(_ platform: String) -> ReplicaFaults { replica(platform).faults }
    package func replicaPosts(_ platform: String) -> [ReplicaPost] { replica(platform).posts }
    /// How often a decoy upload control was used, and publish asked before the upload completed.
    package func replicaMisuse(_ platform: String) -> (decoys: Int, earlyPublishes: Int) { (replica(platform).decoyUses, replica(platform).earlyPublishes) }
    package func replicaPublishRequests(_ platform: String) -> Int { replica(platform).publishRequests }

    func replicaAccount(_ platform: String, session: String?) -> String? {
        let r = replica(platform)
        guard let session, !r.faults.sessionExpired else { return nil }
        return r.sessions[session]
    }

    func replicaNewQR(_ platform: String) -> String {
        let id = SandboxState.randomID(16)
        changeReplica(platform) { $0.qrCodes[id] = .some(nil) }
        return id
    }

    /// The phone app scanned QR `id` and confirmed as `account`. False for a QR it never showed.
    package func replicaScan(_ platform: String, qr id: String, account: String) -> Bool {
        changeReplica(platform) { r in
            guard r.qrCodes[id] != nil else { return false }
            r.qrCodes[id] = .some(account)
            return true
        }
    }

    /// The QR codes shown so far.
    package func replicaQRCodes(_ platform: String) -> [String] { Array(replica(platform).qrCodes.keys) }

    /// A scanned QR's session (once): nil while nobody scanned it.
    func replicaQRLogin(_ platform: String, _ id: String) -> String? {
        guard let scanned = replica(platform).qrCodes[id], let account = scanned else { return nil }
        changeReplica(platform) { $0.qrCodes[id] = nil }
        return replicaSession(platform, account: account)
    }

    func replicaStartUpload(_ platform: String, account: String, total: Int64) -> String {
        let id = SandboxState.randomID(20)
        changeReplica(platform) { $0.uploads[id] = ReplicaUpload(account: account, total: total) }
        return id
    }

    /// Appends a chunk at `offset`; nil when the offset is not where the upload stands.
    func replicaChunk(_ platform: String, _ id: String, account: String, offset: Int64, data: Data) -> Int64? {
        let now: Int64? = changeReplica(platform) { r in
            guard var u = r.uploads[id], u.account == account, Int64(u.data.count) == offset else { return nil }
            u.data.append(data)
            if Int64(u.data.count) >= u.total { u.complete = true }
            r.uploads[id] = u
            return Int64(u.data.count)
        }
        if now != nil { addReceived(Int64(data.count)) }
        return now
    }

    func replicaDecoyUsed(_ platform: String) { changeReplica(platform) { $0.decoyUses += 1 } }

    enum ReplicaPublish { case post(String), uploadIncomplete, captcha, rateLimited, tooLong(String) }

    /// Publish as the page's script asks it: refused while the upload is incomplete (counted), then the
    /// faults, then the page's limits; otherwise the post is made and listed.
    func replicaPublish(
        _ platform: String, limits: ReplicaLimits, account: String, upload: String, title: String, description: String, original: Bool, duration: Double?,
        extras: [String: String] = [:]
    ) -> ReplicaPublish {
        var r = replica(platform)
        r.publishRequests += 1
        defer { self[ReplicasWorld.self].pages[platform] = r }
        guard let u = r.uploads[upload], u.account == account, u.complete else {
            r.earlyPublishes += 1
            return .uploadIncomplete
        }
        if r.faults.captcha { return .captcha }
        if r.faults.rateLimited { return .rateLimited }
        if let max = limits.title, title.count > max { return .tooLong(limits.titleSays) }
        if description.count > limits.description { return .tooLong(limits.descriptionSays) }
        let id = SandboxState.randomID(24).lowercased()
        let sha = FileHashing.sha256(data: u.data)
        r.posts.append(
            ReplicaPost(
                id: id, account: account, title: title, description: description, original: original, bytes: Int64(u.data.count), sha256: sha,
                duration: duration, extras: extras))
        r.uploads[upload] = nil
        videos.append(
            Video(
                platform: platform, id: id, account: "\(platform):\(account)", title: title, description: description, tags: [], privacy: "public",
                publishAt: nil, bytes: Int64(u.data.count), sha256: sha, path: "", receivedAt: Date()))
        return .post(id)
    }

    /// The creator's own list: a post the platform took down after it was shown leaves it.
    func replicaPosts(_ platform: String, account: String) -> [ReplicaPost] {
        replica(platform).posts.filter { $0.account == account && postLife(platform: platform, id: $0.id)?.takenDown != true }.reversed()
    }
}

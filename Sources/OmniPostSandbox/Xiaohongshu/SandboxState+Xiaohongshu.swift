import Foundation
import OmniPostCore

/// What the Xiaohongshu replica remembers: signed-in sessions (the `web_session` cookie → account),
/// QR codes waiting for a scan, uploads in progress, the notes each account published, and the faults
/// a test asked for. Counters say what a client did that a person would not (a decoy used, publish
/// asked before the upload completed).
extension SandboxState {
    package struct XiaohongshuNote: Sendable, Codable, Equatable {
        package var id: String
        package var account: String
        package var title: String
        package var description: String
        package var original: Bool
        package var bytes: Int64
        package var sha256: String
        package var duration: Double?
    }

    /// What the replica does on demand.
    package struct XiaohongshuFaults: Sendable, Equatable {
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
        /// The note is made, but the page never confirms it (no success page, no message).
        package var silentPublish = false
        /// The publish button is enabled before the upload completes (as Kuaishou's page does).
        package var publishEnabledEarly = false
        package init() {}
    }

    struct XiaohongshuUpload {
        var account: String
        var data = Data()
        var total: Int64
        var complete = false
    }

    struct XiaohongshuWorld: PlatformWorld {
        var sessions: [String: String] = [:]
        /// QR id → the account that scanned it (nil: not yet scanned).
        var qrCodes: [String: String?] = [:]
        var uploads: [String: XiaohongshuUpload] = [:]
        var notes: [XiaohongshuNote] = []
        var faults = XiaohongshuFaults()
        var decoyUses = 0
        var earlyPublishes = 0
        var publishRequests = 0
    }

    var xhs: XiaohongshuWorld {
        get { self[XiaohongshuWorld.self] }
        _modify { yield &self[XiaohongshuWorld.self] }
    }

    /// A signed-in session for `account` (what a QR scan or a browser's login gives): the value of the
    /// `web_session` cookie.
    package func xiaohongshuSession(account: String) -> String {
        let token = "xhs-" + SandboxState.randomID(24)
        xhs.sessions[token] = account
        return token
    }

    /// A session its owner handed over (a sandboxed pipeline's made-up cookie), for the account named.
    func xhsGrant(session: String, account: String) { xhs.sessions[session] = account }

    package func setXiaohongshuFaults(_ f: XiaohongshuFaults) { xhs.faults = f }
    package func xiaohongshuFaults() -> XiaohongshuFaults { xhs.faults }
    package func xiaohongshuNotes() -> [XiaohongshuNote] { xhs.notes }
    /// How often a decoy upload control was used, and publish asked before the upload completed.
    package func xiaohongshuMisuse() -> (decoys: Int, earlyPublishes: Int) { (xhs.decoyUses, xhs.earlyPublishes) }
    package func xiaohongshuPublishRequests() -> Int { xhs.publishRequests }

    func xhsAccount(session: String?) -> String? {
        guard let session, !xhs.faults.sessionExpired else { return nil }
        return xhs.sessions[session]
    }

    func xhsNewQR() -> String {
        let id = SandboxState.randomID(16)
        xhs.qrCodes[id] = .some(nil)
        return id
    }

    /// The phone app scanned QR `id` and confirmed as `account`. False for a QR it never showed.
    package func xiaohongshuScan(qr id: String, account: String) -> Bool {
        guard xhs.qrCodes[id] != nil else { return false }
        xhs.qrCodes[id] = .some(account)
        return true
    }

    /// The QR codes shown so far (the newest last).
    package func xiaohongshuQRCodes() -> [String] { Array(xhs.qrCodes.keys) }

    /// A scanned QR's session (once): nil while nobody scanned it.
    func xhsQRLogin(_ id: String) -> String? {
        guard let scanned = xhs.qrCodes[id], let account = scanned else { return nil }
        xhs.qrCodes[id] = nil
        return xiaohongshuSession(account: account)
    }

    func xhsStartUpload(account: String, total: Int64) -> String {
        let id = SandboxState.randomID(20)
        xhs.uploads[id] = XiaohongshuUpload(account: account, total: total)
        return id
    }

    /// Appends a chunk at `offset`; nil when the offset is not where the upload stands.
    func xhsChunk(_ id: String, account: String, offset: Int64, data: Data) -> Int64? {
        guard var u = xhs.uploads[id], u.account == account, Int64(u.data.count) == offset else { return nil }
        u.data.append(data)
        addReceived(Int64(data.count))
        if Int64(u.data.count) >= u.total { u.complete = true }
        xhs.uploads[id] = u
        return Int64(u.data.count)
    }

    func xhsDecoyUsed() { xhs.decoyUses += 1 }

    enum XhsPublish { case note(String), uploadIncomplete, captcha, rateLimited, tooLong(String) }

    func xhsPublish(account: String, upload: String, title: String, description: String, original: Bool, duration: Double?) -> XhsPublish {
        xhs.publishRequests += 1
        guard let u = xhs.uploads[upload], u.account == account, u.complete else {
            xhs.earlyPublishes += 1
            return .uploadIncomplete
        }
        if xhs.faults.captcha { return .captcha }
        if xhs.faults.rateLimited { return .rateLimited }
        // The creator center's limits: a title of at most 20 characters, a body of at most 1,000.
        if title.count > 20 { return .tooLong("标题最多20个字") }
        if description.count > 1000 { return .tooLong("正文最多1000个字") }
        let id = SandboxState.randomID(24).lowercased()
        xhs.notes.append(
            XiaohongshuNote(
                id: id, account: account, title: title, description: description, original: original, bytes: Int64(u.data.count),
                sha256: FileHashing.sha256(data: u.data), duration: duration))
        xhs.uploads[upload] = nil
        videos.append(
            Video(
                platform: "xiaohongshu", id: id, account: "xiaohongshu:\(account)", title: title, description: description, tags: [], privacy: "public",
                publishAt: nil, bytes: Int64(u.data.count), sha256: FileHashing.sha256(data: u.data), path: "", receivedAt: Date()))
        return .note(id)
    }

    func xhsNotes(account: String) -> [XiaohongshuNote] { xhs.notes.filter { $0.account == account }.reversed() }
}

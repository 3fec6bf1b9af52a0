import Foundation

/// A persistent sandbox (the pipeline's `sandbox: embedded`) keeps, across restarts of the daemon and
/// for the commands run beside it, what its clients hold on to: the accounts and every refresh and
/// access token it issued (a rotated refresh token in the ledger must still be known after a restart),
/// the platforms' user ids, the upload sessions a checkpoint may name (YouTube's resumable sessions, tus
/// uploads and Vimeo's videos — their bytes are files under the sandbox's folder already), and the posts
/// made. It is written whole after each change, before the request that made it is answered, by
/// write-then-rename, so a kill leaves the last complete state. What is not kept (the other platforms'
/// in-flight containers and jobs, consents, faults, counters) starts afresh: a checkpoint that names one
/// is answered "unknown" and its delivery starts that part again, as after the platform expired it.
extension SandboxState {
    struct Snapshot: Codable {
        var accounts: [String: Account] = [:]
        var retiring: [String: String] = [:]
        var usedRefreshTokens: [String: String] = [:]
        var tokens: [String: Token] = [:]
        var userIDs: [String: String] = [:]
        var sessions: [String: UploadSession] = [:]
        var tusUploads: [String: TusUpload] = [:]
        var vimeoVideos: [String: VimeoVideo] = [:]
        var videos: [Video] = []
    }

    static func readSnapshot(_ file: URL) -> Snapshot? {
        guard let data = try? Data(contentsOf: file) else { return nil }
        return try? JSONDecoder().decode(Snapshot.self, from: data)
    }

    /// After any change to what a snapshot holds (each of those properties' `didSet`).
    func changed() {
        guard let snapshotFile else { return }
        let snap = Snapshot(accounts: accounts, retiring: retiring, usedRefreshTokens: usedRefreshTokens, tokens: tokens, userIDs: userIDs,
                            sessions: sessions, tusUploads: tusUploads, vimeoVideos: vimeoVideos, videos: videos)
        guard let data = try? JSONEncoder().encode(snap) else { return }
        try? FileManager.default.createDirectory(at: snapshotFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        // `.atomic` writes a temporary file and renames it over the old one.
        try? data.write(to: snapshotFile, options: .atomic)
    }
}

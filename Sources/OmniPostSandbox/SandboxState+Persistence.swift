import Foundation

/// A persistent sandbox (the pipeline's `sandbox: embedded`) keeps, across restarts of the daemon and
/// for the commands run beside it, what its clients hold on to: the accounts and every refresh and
/// access token it issued (a rotated refresh token in the ledger must still be known after a restart),
/// the platforms' user ids, the posts made, and each platform's `KeptWorld` — the upload sessions a
/// checkpoint may name (YouTube's resumable sessions, tus uploads and Vimeo's videos: their bytes are
/// files under the sandbox's folder already), under `platforms` by the world's name. It is written
/// whole after each change, before the request that made it is answered, by write-then-rename, so a
/// kill leaves the last complete state. What is not kept (the other platforms' in-flight containers and
/// jobs, consents, faults, counters) starts afresh: a checkpoint that names one is answered "unknown" and
/// its delivery starts that part again, as after the platform expired it.
extension SandboxState {
    struct Snapshot: Codable {
        var accounts: [String: Account] = [:]
        var retiring: [String: String] = [:]
        var usedRefreshTokens: [String: String] = [:]
        var tokens: [String: Token] = [:]
        var userIDs: [String: String] = [:]
        var videos: [Video] = []
        var worlds: [any KeptWorld] = []

        enum CodingKeys: String, CodingKey { case accounts, retiring, usedRefreshTokens, tokens, userIDs, videos, platforms }

        struct WorldName: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(
            accounts: [String: Account], retiring: [String: String], usedRefreshTokens: [String: String], tokens: [String: Token],
            userIDs: [String: String], videos: [Video], worlds: [any KeptWorld]
        ) {
            self.accounts = accounts
            self.retiring = retiring
            self.usedRefreshTokens = usedRefreshTokens
            self.tokens = tokens
            self.userIDs = userIDs
            self.videos = videos
            self.worlds = worlds
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            accounts = try c.decode([String: Account].self, forKey: .accounts)
            retiring = try c.decode([String: String].self, forKey: .retiring)
            usedRefreshTokens = try c.decode([String: String].self, forKey: .usedRefreshTokens)
            tokens = try c.decode([String: Token].self, forKey: .tokens)
            userIDs = try c.decode([String: String].self, forKey: .userIDs)
            videos = try c.decode([Video].self, forKey: .videos)
            // A world this build does not have, or cannot read, starts afresh: its sessions are "unknown".
            guard c.contains(.platforms) else { return }
            let p = try c.nestedContainer(keyedBy: WorldName.self, forKey: .platforms)
            for kind in SandboxPlatforms.kept {
                if let w = try? Self.decode(kind, from: p) { worlds.append(w) }
            }
        }

        static func decode<W: KeptWorld>(_ kind: W.Type, from c: KeyedDecodingContainer<WorldName>) throws -> (any KeptWorld)? {
            try c.decodeIfPresent(W.self, forKey: WorldName(stringValue: W.snapshotName))
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(accounts, forKey: .accounts)
            try c.encode(retiring, forKey: .retiring)
            try c.encode(usedRefreshTokens, forKey: .usedRefreshTokens)
            try c.encode(tokens, forKey: .tokens)
            try c.encode(userIDs, forKey: .userIDs)
            try c.encode(videos, forKey: .videos)
            var p = c.nestedContainer(keyedBy: WorldName.self, forKey: .platforms)
            for w in worlds { try p.encode(w, forKey: WorldName(stringValue: type(of: w).snapshotName)) }
        }
    }

    static func readSnapshot(_ file: URL) -> Snapshot? {
        guard let data = try? Data(contentsOf: file) else { return nil }
        return try? JSONDecoder().decode(Snapshot.self, from: data)
    }

    /// After any change to what a snapshot holds (the shared properties' `didSet`, a kept world's change).
    func changed() {
        guard let snapshotFile else { return }
        let snap = Snapshot(
            accounts: accounts, retiring: retiring, usedRefreshTokens: usedRefreshTokens, tokens: tokens, userIDs: userIDs,
            videos: videos, worlds: keptWorlds)
        guard let data = try? JSONEncoder().encode(snap) else { return }
        try? FileManager.default.createDirectory(at: snapshotFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        // `.atomic` writes a temporary file and renames it over the old one.
        try? data.write(to: snapshotFile, options: .atomic)
    }
}

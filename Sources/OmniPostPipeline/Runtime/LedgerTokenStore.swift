import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// Keeps OAuth tokens in the ledger, sealed with AES-256-GCM, so a rotated refresh token survives
/// restarts and a copied ledger file gives nothing away without the key.
struct LedgerTokenStore: TokenStore {
    let ledger: Ledger
    let keys: KeyRing

    init(ledger: Ledger, sealer: Sealer) {
        self.ledger = ledger
        self.keys = KeyRing(fixed: sealer)
    }

    init(ledger: Ledger, keys: KeyRing) {
        self.ledger = ledger
        self.keys = keys
    }

    func load(account: String) async throws -> (accessToken: String?, expiresAt: Date?, refreshToken: String?) {
        guard let t = try ledger.token(account: account) else { return (nil, nil, nil) }
        let sealer = try keys.current()
        return (try t.accessToken.map(sealer.open), t.expiresAt.map { Date(timeIntervalSince1970: $0) }, try t.refreshToken.map(sealer.open))
    }

    func save(account: String, accessToken: String, expiresAt: Date, refreshToken: String?) async throws {
        let sealer = try keys.current()
        try ledger.storeToken(
            account: account, accessToken: try sealer.seal(accessToken), expiresAt: expiresAt.timeIntervalSince1970,
            refreshToken: try refreshToken.map(sealer.seal))
    }

    func saveRefreshExpiry(account: String, at: Date) async throws {
        try ledger.recordRefreshExpiry(account: account, at: at.timeIntervalSince1970)
    }

    func saveScope(account: String, scope: String) async throws {
        try ledger.recordScope(account: account, scope: scope)
    }

    /// Several hosts on one ledger refresh an account one at a time (`Ledger.exclusively`).
    func exclusively<T: Sendable>(account: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try await ledger.exclusively(account: account, body)
    }
}

/// The sealing key as the key file holds it now: re-read when the file changes (its inode, size or
/// modification time), so `accounts rekey` takes effect in a running daemon without a restart — it
/// opens values sealed with the new key and seals with it from then on.
final class KeyRing: @unchecked Sendable {
    private let lock = NSLock()
    private let source: (file: URL, env: String)?
    private var cached: Sealer?
    private var stamp: [Int] = []

    init(fixed: Sealer) {
        source = nil
        cached = fixed
    }

    init(config: PipelineConfig) {
        source = (config.credentials.keyFile ?? config.paths.root.appendingPathComponent("secret.key"), config.credentials.keyEnv)
    }

    func current() throws -> Sealer {
        lock.lock()
        defer { lock.unlock() }
        guard let source else { return cached! }
        var st = stat()
        let now = stat(source.file.path, &st) == 0 ? [Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)] : []
        if let c = cached, now == stamp { return c }
        let s = try Sealer.load(file: source.file, env: source.env)
        cached = s
        stamp = now
        return s
    }
}

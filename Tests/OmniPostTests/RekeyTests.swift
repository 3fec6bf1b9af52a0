import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// `accounts rekey`: every credential re-sealed under a new key while a "daemon" keeps its store open —
/// it reads and writes through the change without a restart — and `--forget-old` leaves one key.
@Suite struct RekeyTests {
    @Test func credentialsAreResealedUnderANewKeyWithoutARestart() async throws {
        let dir = try TempDir()
        let config = try PlatformRegistry.parse(
            text:
                "version: 1\nroot: \(dir.url.path)/p\ntargets: [youtube:main, x:main]\naccounts:\n  youtube:main: {client_id: c, client_secret: s}\n  x:main: {client_id: c, client_secret: s}\n",
            file: "p.yaml", baseDirectory: dir.url)
        try config.paths.createAll()
        let ledger = try Ledger(path: config.paths.ledger.path)
        let daemon = LedgerTokenStore(ledger: ledger, keys: KeyRing(config: config))
        try await daemon.save(account: "youtube:main", accessToken: "access-1", expiresAt: Date().addingTimeInterval(3600), refreshToken: "refresh-1")
        try await daemon.save(account: "x:main", accessToken: "access-x", expiresAt: Date().addingTimeInterval(3600), refreshToken: "refresh-x")
        let keyFile = config.paths.root.appendingPathComponent("secret.key")
        let oldKey = try String(contentsOf: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)

        let r = try Rekey.run(config: config, forgetOld: false)
        #expect(r.resealed == 4 && r.keysInFile == 2)
        let lines = try String(contentsOf: keyFile, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[1] == oldKey && lines[0] != oldKey)
        #expect(((try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? NSNumber)?.intValue ?? 0) & 0o077 == 0)
        // The running daemon reads the re-sealed values and seals new ones with the new key.
        #expect(try await daemon.load(account: "youtube:main").refreshToken == "refresh-1")
        try await daemon.save(account: "youtube:main", accessToken: "access-2", expiresAt: Date().addingTimeInterval(3600), refreshToken: "refresh-2")
        let newOnly = try Sealer.load(file: dir.file("k"), env: "K", environment: ["K": lines[0]])
        let oldOnly = try Sealer.load(file: dir.file("k"), env: "K", environment: ["K": oldKey])
        for v in try ledger.storedSecrets() {
            #expect(newOnly.sealedWithCurrentKey(v))
            #expect(throws: OmniError.self) { _ = try oldOnly.open(v) }
        }
        // A value an older daemon sealed with the old key after the rekey is re-sealed before the old key goes.
        try ledger.storeToken(account: "x:main", accessToken: try oldOnly.seal("late-access"), expiresAt: 0, refreshToken: nil)
        let f = try Rekey.run(config: config, forgetOld: true)
        #expect(f.keysInFile == 1 && f.resealed == 4)
        #expect(try String(contentsOf: keyFile, encoding: .utf8).split(separator: "\n").map(String.init) == [lines[0]])
        #expect(try await daemon.load(account: "x:main").accessToken == "late-access")
        #expect(try await daemon.load(account: "youtube:main").refreshToken == "refresh-2")
    }
}

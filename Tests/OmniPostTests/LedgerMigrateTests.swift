import Crypto
import Foundation
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// `omnipost ledger migrate`: a SQLite ledger copied into PostgreSQL by the built binary — every row,
/// tokens still sealed, counts checked, ids continuing after the copied ones — and never into a ledger
/// that already holds drops.
@Suite(.enabled(if: PostgresServer.available && FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)))
struct LedgerMigrateTests {
    @Test func aSQLiteLedgerIsCopiedWithItsTokensSealedAndCountsChecked() async throws {
        let dir = try TempDir()
        let pipeline = try dir.write("pipe.yaml", "targets: [folder:nas]\nsandbox: embedded\n")
        let sqlite = try Ledger(path: dir.file("ledger.sqlite").path)
        try sqlite.plantReadyDeliveries(count: 20)
        let held = try (0..<3).compactMap { _ in try sqlite.claimUploadLease(owner: "old:1:t", lease: 3600) }
        let sealed = try Sealer(key: SymmetricKey(data: Data(repeating: 7, count: 32))).seal("access-token-value")
        try sqlite.storeToken(account: "youtube:main", accessToken: sealed, expiresAt: 1_900_000_000, refreshToken: nil)

        try await withPostgresDatabase { server, database in
            let r = try CheckCommandTests.run(["ledger", "migrate", pipeline.path, "--to", server.url(database), "--password-file", server.passwordFile.path])
            #expect(r.status == 0, "\(r.out)")
            #expect(r.out.contains("deliveries     20 rows") && r.out.contains("attempts       3 rows") && r.out.contains("tokens         1 rows"), "\(r.out)")
            #expect(r.out.contains("counts match on both sides"))

            var config = PostgresLedgerConfig(host: "127.0.0.1", port: server.port, user: server.user, database: database)
            config.passwordFile = server.passwordFile
            let pg = try PostgresLedger(config)
            defer { pg.close() }
            let token = try pg.write { tx in try tx.row("SELECT access_token FROM tokens WHERE account = 'youtube:main'")?.text("access_token") }
            #expect(token == sealed && token?.hasPrefix("sealed:") == true, "copied sealed, as it was")
            // The leases came along: the three held uploads are not handed out again while they live.
            var claimed: [LeasedDelivery] = []
            while let d = try pg.claimUpload(owner: "new:2:t", lease: 60) { claimed.append(d) }
            #expect(claimed.count == 17 && Set(claimed.map(\.id)).isDisjoint(with: held.map(\.id)))
            // New rows are numbered after the copied ones.
            let attempt = try #require(try pg.write { tx in try tx.row("SELECT MAX(id) AS id FROM attempts")?.int("id") })
            #expect(attempt == 20, "3 copied, 17 new ones after them")

            let again = try CheckCommandTests.run(["ledger", "migrate", pipeline.path, "--to", server.url(database), "--password-file", server.passwordFile.path])
            #expect(again.status == 2 && again.out.contains("already holds 20 drops rows; a copy goes into an empty ledger only"), "\(again.out)")
        }
    }
}

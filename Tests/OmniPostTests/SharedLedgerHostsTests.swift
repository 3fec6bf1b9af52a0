import AsyncHTTPClient
import Crypto
import Foundation
import GRDB
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
@testable import OmniPostSandbox
import Synchronization
import Testing

/// What threads add, read once they are done.
final class Collected<T: Sendable>: @unchecked Sendable {  // mutable state under `lock`
    private let lock = NSLock()
    private var items: [T] = []
    func add(_ item: T) { lock.withLock { items.append(item) } }
    var all: [T] { lock.withLock { items } }
}

/// Several hosts on one ledger (issue 27), at the ledger: a file becomes a drop once however many hosts
/// record it, a drop is filed once (a dead filer taken over into the folder it chose), each host's held
/// work is named, and the busier host leaves a conversion to the less busy one for a head start.
@Suite struct SharedLedgerHostsTests {
    /// Two hosts on one PostgreSQL database, each its own connection.
    static func twoHosts(
        _ server: PostgresServer, _ database: String, clock: any WallClock = SystemClock(), _ body: (Ledger, Ledger) async throws -> Void
    ) async throws {
        let a = try SharedLedgerClaimTests.open(server, database, clock: clock), b = try SharedLedgerClaimTests.open(server, database, clock: clock)
        defer {
            a.close()
            b.close()
        }
        try await body(Ledger(shared: a), Ledger(shared: b))
    }

    /// Runs `body(0)` and `body(1)` on two threads of their own at once (two hosts), and waits for both.
    static func atOnce(_ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchGroup()
        for i in 0..<2 {
            done.enter()
            Thread {
                body(i)
                done.leave()
            }.start()
        }
        done.wait()
    }

    @Test(.enabled(if: PostgresServer.available, "PostgreSQL is not installed"))
    func twoHostsRecordingTheSameFilesAtOnceMakeOneRowAndOneDropEach() async throws {
        try await withPostgresDatabase { server, database in
            try await Self.twoHosts(server, database) { a, b in
                let hosts = [a, b]
                let news = Collected<String>(), errors = Collected<String>()
                try await offPool {
                    Self.atOnce { i in
                        for n in 0..<40 {
                            do {
                                let r = try hosts[i].recordFile(
                                    path: "c\(n).mp4", size: 1000 + Int64(n), mtime: 1_800_000_000 + Double(n), inode: 5000 + Int64(n), role: .clip)
                                if r.isNew { news.add("c\(n).mp4") }
                            } catch { errors.add("\(error)") }
                        }
                    }
                }
                #expect(errors.all.isEmpty, "the second recording is not an error: \(errors.all)")
                #expect(news.all.sorted() == (0..<40).map { "c\($0).mp4" }.sorted(), "each file new once, on one host")
                #expect(try a.waitingFiles().count == 40)

                // Both hosts pair the first file into a drop at once: one drop.
                let file = try #require(try a.waitingFiles().first { $0.path == "c0.mp4" }?.id)
                let made = Collected<String>()
                try await offPool {
                    Self.atOnce { i in
                        let drop = DropRecord(id: "d-c0-\(i)", pipeline: "p", stem: "c0", clipPath: "c0.mp4", sidecarPath: nil, now: 1)
                        if (try? hosts[i].createDrop(drop, fileIDs: [file])) == true { made.add(drop.id) }
                    }
                }
                #expect(made.all.count == 1, "one drop of the file")
                // The file, taken by the drop, recorded again by the other host (its watcher's rescan): nothing new.
                #expect(try b.recordFile(path: "c0.mp4", size: 1000, mtime: 1_800_000_000, inode: 5000, role: .clip).isNew == false)
                #expect(try a.files(ofDrop: try #require(try a.drops().first?.id)).count == 1)
            }
        }
    }

    /// A ledger written before the file identity's key, holding an identity recorded twice, migrates: the
    /// older row is marked gone and the key is made.
    @Test func theMigrationKeepsTheNewestRowOfAFileRecordedTwice() throws {
        let dir = try TempDir()
        let path = dir.file("ledger.sqlite").path
        let pool = try DatabasePool(path: path)
        try Ledger.migrator.migrate(pool, upTo: "v17")
        try pool.write { db in
            for _ in 0..<2 {
                try db.execute(
                    sql: "INSERT INTO files (path, size, mtime, inode, role, state, completed_at) VALUES ('a.mp4', 10, 1.5, 7, 'clip', 'taken', 1)")
            }
        }
        try pool.close()
        let ledger = try Ledger(path: path)
        let rows = try ledger.readSQL { sql in try sql.rows("SELECT id, state FROM files ORDER BY id") }
        #expect(rows.map { $0.text("state") } == ["gone", "taken"])
        #expect(try ledger.recordFile(path: "a.mp4", size: 10, mtime: 1.5, inode: 7, role: .clip).isNew == false)
    }

    @Test(arguments: LedgerBackendKind.available)
    func aDropIsFiledOnceAndADeadFilerIsTakenOverIntoTheFolderItChose(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        try await withLedger(backend, clock: clock) { ledger in
            try ledger.plantReadyDeliveries(count: 1)
            let drop = "fixture-000000"
            let a = try #require(try ledger.claimFiling(dropId: drop, owner: "box-a:1:t", host: "box-a", folder: "archive/2027/01/15/\(drop)", lease: 30))
            #expect(a == Ledger.Filing(folder: "archive/2027/01/15/\(drop)", takenOver: false, previousOwner: nil))
            #expect(try ledger.claimFiling(dropId: drop, owner: "box-b:2:t", host: "box-b", folder: "failed/\(drop)", lease: 30) == nil, "box-a is filing it")
            // box-a's heartbeat keeps it (the drop in hand); then box-a dies mid-filing.
            clock.advance(20)
            try ledger.beat(owner: "box-a:1:t", host: "box-a", pid: 1, roles: ["ingest"], lease: 30, holding: [drop])
            clock.advance(20)
            #expect(try ledger.claimFiling(dropId: drop, owner: "box-b:2:t", host: "box-b", folder: "failed/\(drop)", lease: 30) == nil, "renewed by its beat")
            clock.advance(11)
            let b = try #require(try ledger.claimFiling(dropId: drop, owner: "box-b:2:t", host: "box-b", folder: "failed/\(drop)", lease: 30))
            #expect(b == Ledger.Filing(folder: "archive/2027/01/15/\(drop)", takenOver: true, previousOwner: "box-a:1:t"), "into box-a's folder, never contradicted")
            #expect(try ledger.events(forDrop: drop).contains { $0.kind == .filingTakenOver && $0.detail?.contains("box-a:1:t") == true })
            try ledger.finishFiling(dropId: drop, owner: "box-b:2:t")
            clock.advance(100)
            #expect(try ledger.claimFiling(dropId: drop, owner: "box-c:3:t", host: "box-c", folder: "failed/\(drop)", lease: 30) == nil, "filed: never again")
            #expect(try ledger.filing(of: drop).map { "\($0.host) \($0.folder) \($0.done)" } == "box-b archive/2027/01/15/\(drop) true")
        }
    }

    @Test(arguments: LedgerBackendKind.available)
    func aFilingLetGoAfterAFailureIsRetriedAtOnceIntoTheSameFolder(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        try await withLedger(backend, clock: clock) { ledger in
            try ledger.plantReadyDeliveries(count: 1)
            let drop = "fixture-000000"
            _ = try #require(try ledger.claimFiling(dropId: drop, owner: "box-a:1:t", host: "box-a", folder: "failed/\(drop)", lease: 300))
            #expect(try ledger.claimFiling(dropId: drop, owner: "box-a:1:t", host: "box-a", folder: "failed/\(drop)", lease: 300) != nil, "its own, again")
            try ledger.releaseFiling(dropId: drop, owner: "box-a:1:t")
            #expect(try ledger.claimFiling(dropId: drop, owner: "box-b:2:t", host: "box-b", folder: "archive/x/\(drop)", lease: 300)?.folder == "failed/\(drop)")
        }
    }

    @Test(arguments: LedgerBackendKind.available)
    func heldWorkIsNamedByHost(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        try await withLedger(backend, clock: clock) { ledger in
            try ledger.plantReadyDeliveries(count: 3)
            let upload = try #require(try ledger.claimUploadLease(owner: "box-a:1:t", lease: 60))
            let filing = try #require(try ledger.claimDrop(in: .converted, owner: "box-b:2:t", lease: 60))
            let held = try ledger.heldClaims()
            #expect(held.contains(Ledger.HeldClaim(host: "box-a", owner: "box-a:1:t", kind: "upload", id: "\(upload.id)", dropId: upload.dropId, state: "uploading", leaseUntil: 1_800_000_060)))
            #expect(held.contains { $0.host == "box-b" && $0.kind == "file" && $0.id == filing.id })
            #expect(held.count == 2)
            clock.advance(61)
            #expect(try ledger.heldClaims().isEmpty, "a lapsed lease holds nothing")
        }
    }

    /// `status` and `/metrics` say which host holds what (read through `heldClaims`).
    @Test func statusAndMetricsNameTheHostHoldingEachClaim() throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, extra: "host: box-a", targets: "targets: [youtube:main]")
        let ledger = try Ledger(path: dir.file("ledger.sqlite").path)
        try ledger.plantReadyDeliveries(count: 2)
        let upload = try #require(try ledger.claimUploadLease(owner: "box-a:1:t", lease: 600))
        let filing = try #require(try ledger.claimDrop(in: .converted, owner: "box-b:2:t", lease: 600))
        let profiles = try ProfileCatalog.bundled()
        let metrics = try MetricsExport.text(config: config, ledger: ledger, profiles: profiles)
        #expect(metrics.contains(#"omnipost_claims_held{host="box-a",kind="upload"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"omnipost_claims_held{host="box-b",kind="file"} 1"#))
        #expect(metrics.contains(#"omnipost_claims_held{host="box-a",kind="convert"} 0"#), "this host's series from the first scrape")
        let report = try StatusReport.gather(config: config, ledger: ledger, profiles: profiles)
        let text = try report.text(ledger: ledger)
        #expect(text.contains("held:\n  box-a  upload #\(upload.id)\n  box-b  file \(filing.id)"), "\(text)")
        #expect(text.contains("#\(upload.id)  folder:nas  uploading") && text.contains("on box-a"), "\(text)")
        let json = try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as? [String: Any]
        #expect((json?["held"] as? [[String: Any]])?.compactMap { $0["host"] as? String }.sorted() == ["box-a", "box-b"])
    }

    /// The least busy host first: a host holding more conversions than another live host that may convert
    /// leaves a new drop to it for `headStart` per conversion more; a host without `convert` counts for nothing.
    @Test(.enabled(if: PostgresServer.available, "PostgreSQL is not installed"))
    func theBusierHostLeavesAConversionToTheLessBusyOneForAHeadStart() async throws {
        try await withPostgresDatabase { server, database in
            let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
            try await Self.twoHosts(server, database, clock: clock) { a, b in
                try a.beat(owner: "box-a:1:t", host: "box-a", pid: 1, roles: ["convert", "ingest", "upload"], lease: 30)
                try b.beat(owner: "box-b:2:t", host: "box-b", pid: 2, roles: ["upload"], lease: 30)
                for i in 0..<3 {
                    _ = try a.createDrop(DropRecord(id: "v\(i)", pipeline: "p", stem: "v\(i)", clipPath: nil, sidecarPath: nil, now: 1), fileIDs: [])
                    try a.transitionDrop("v\(i)", from: .received, to: .validated, stage: "validate")
                }
                _ = try #require(try a.claimDropToConvert(owner: "box-a:1:t"))
                #expect(try a.conversionsAheadOfLeastBusy(host: "box-a") == 0, "box-b may not convert: box-a is the least busy converter")
                try b.beat(owner: "box-b:2:t", host: "box-b", pid: 2, roles: ["convert", "upload"], lease: 30)
                #expect(try a.conversionsAheadOfLeastBusy(host: "box-a") == 1, "box-b converts nothing yet")
                #expect(try b.conversionsAheadOfLeastBusy(host: "box-b") == 0)
                // box-a's claim with the head start left to box-b finds nothing validated long enough ago…
                let t = clock.now().timeIntervalSince1970
                #expect(try a.claimDropToConvert(owner: "box-a:1:t", validatedBefore: t - ConvertStage.headStart) == nil)
                // …box-b takes one at once; once the head start is over box-a takes the other.
                #expect(try b.claimDropToConvert(owner: "box-b:2:t") != nil)
                clock.advance(ConvertStage.headStart)
                #expect(try a.claimDropToConvert(owner: "box-a:1:t", validatedBefore: clock.now().timeIntervalSince1970 - ConvertStage.headStart) != nil)
            }
        }
    }
}

/// One token refresh at a time per account across hosts (issue 27): two hosts on one ledger whose token
/// is due ask for it at once, against a token endpoint 250 ms away that rotates strictly (a refresh token
/// used twice kills the family): one refresh, and the second host uses the token the first stored.
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedTokenRefreshTests {
    @Test(.timeLimit(.minutes(2))) func twoHostsRefreshAnAccountOnceBetweenThem() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        try await stopping(s) {
            await s.state.setFaults(.init(strictRotation: true, tokenDelayMs: 250))
            await s.registerAccount(platform: "tiktok", name: "brand", clientID: "key", clientSecret: "sec", refreshToken: "rt-0")
            let account = AccountConfig(
                key: "tiktok:brand", platform: "tiktok", clientID: "key", clientSecret: "sec", refreshToken: "rt-0",
                endpoint: s.baseURL, tokenURL: s.baseURL + "/v2/oauth/token/")
            let sealer = Sealer(key: SymmetricKey(data: Data(repeating: 7, count: 32)))
            try await withPostgresDatabase { server, database in
                try await SharedLedgerHostsTests.twoHosts(server, database) { a, b in
                    _ = try a.seedToken(account: account.key, seedHash: Sealer.fingerprint("rt-0"), refreshToken: try sealer.seal("rt-0"))
                    let hosts = [a, b].map { TokenProvider(account: account, http: HTTPClient.shared, store: LedgerTokenStore(ledger: $0, sealer: sealer)) }
                    let got = try await withThrowingTaskGroup(of: String.self) { g in
                        for i in 0..<6 { g.addTask { try await hosts[i % 2].accessToken() } }
                        return try await g.reduce(into: [String]()) { $0.append($1) }
                    }
                    #expect(Set(got).count == 1, "both hosts use the one token: \(got)")
                    #expect(await s.state.requestCounts["tiktok.token"] == 1, "one refresh across the two hosts")
                    // The token both hold is refused (the platform ended it): each host asks again, one refreshes.
                    await s.state.expireAccessTokens()
                    for h in hosts { await h.invalidate(rejected: got[0]) }
                    let again = try await withThrowingTaskGroup(of: String.self) { g in
                        for i in 0..<4 { g.addTask { try await hosts[i % 2].accessToken() } }
                        return try await g.reduce(into: [String]()) { $0.append($1) }
                    }
                    #expect(Set(again).count == 1 && again[0] != got[0], "\(again)")
                    #expect(await s.state.requestCounts["tiktok.token"] == 2)
                }
            }
        }
    }
}

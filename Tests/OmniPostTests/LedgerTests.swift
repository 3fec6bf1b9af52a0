import Foundation
import OmniPostCore
import OmniPostLedger
import Testing

@Suite struct LedgerTests {
    @Test(arguments: LedgerBackendKind.available) func recordingTheSameFileTwiceIsOneFact(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l throws in
            #expect(try l.recordCompleteFile(path: "a.mp4", size: 10, mtime: 1, inode: 5, role: .clip))
            #expect(try !l.recordCompleteFile(path: "a.mp4", size: 10, mtime: 1, inode: 5, role: .clip))
            #expect(try l.waitingFiles().count == 1)
        }
    }

    @Test(arguments: LedgerBackendKind.available) func aDropTakesItsFilesOnceOnly(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            try l.recordCompleteFile(path: "a.mp4", size: 10, mtime: 1, inode: 5, role: .clip)
            try l.recordCompleteFile(path: "a.yaml", size: 3, mtime: 1, inode: 6, role: .sidecar)
            let ids = try l.waitingFiles().compactMap(\.id)
            #expect(try l.createDrop(DropRecord(id: "d1", pipeline: "p", stem: "a", clipPath: "a.mp4", sidecarPath: "a.yaml", now: 1), fileIDs: ids))
            #expect(try !l.createDrop(DropRecord(id: "d2", pipeline: "p", stem: "a", clipPath: "a.mp4", sidecarPath: "a.yaml", now: 1), fileIDs: ids))
            #expect(try l.drops().map(\.id) == ["d1"])
            // A rescan finding the same, already taken file does not bring it back.
            #expect(try !l.recordCompleteFile(path: "a.mp4", size: 10, mtime: 1, inode: 5, role: .clip))
            #expect(try l.waitingFiles().isEmpty)
        }
    }

    /// A clip recorded anew names the in-flight drop that had taken an older file at its path — decided in
    /// the recording's own transaction. The first report of a file names none, even when a stage pairs it
    /// the moment it is recorded (the race that withdrew good drops as "changed after it was taken (7 → 7 bytes)").
    @Test(arguments: LedgerBackendKind.available) func aChangedClipNamesTheDropThatTookItsOlderSelf(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            let first = try l.recordFile(path: "a.mp4", size: 10, mtime: 1, inode: 5, role: .clip)
            #expect(first.isNew && first.supersedes == nil)
            try l.recordFile(path: "a.yaml", size: 3, mtime: 1, inode: 6, role: .sidecar)
            #expect(
                try l.createDrop(
                    DropRecord(id: "d1", pipeline: "p", stem: "a", clipPath: "a.mp4", sidecarPath: "a.yaml", now: 1),
                    fileIDs: try l.waitingFiles().compactMap(\.id)))
            // The same file again (a rescan): no fact, nothing superseded.
            let again = try l.recordFile(path: "a.mp4", size: 10, mtime: 1, inode: 5, role: .clip)
            #expect(!again.isNew && again.supersedes == nil)
            // A sidecar rewritten after pairing names the drop too: the drop used (or would use) an older version.
            #expect(try l.recordFile(path: "a.yaml", size: 4, mtime: 2, inode: 6, role: .sidecar).supersedes?.drop.id == "d1")
            // The clip grew: the drop that took the 10-byte file is named.
            let grown = try l.recordFile(path: "a.mp4", size: 12, mtime: 2, inode: 5, role: .clip)
            #expect(grown.isNew)
            #expect(grown.supersedes?.drop.id == "d1")
            #expect(grown.supersedes?.file.size == 10)
            // Once that drop is over, a new file at the path supersedes nothing.
            try l.withdrawDrop("d1", stage: "test", reason: "grew")
            // The withdrawn drop's files: the old clip retired, the old sidecar too (its newer content waits).
            #expect(try Set(l.waitingFiles().map { "\($0.path) \($0.size)" }) == ["a.mp4 12", "a.yaml 4"])
            #expect(try l.recordFile(path: "a.mp4", size: 14, mtime: 3, inode: 5, role: .clip).supersedes == nil)
        }
    }

    @Test(arguments: LedgerBackendKind.available) func claimsAreExclusiveUntilTheLeaseExpires(_ backend: LedgerBackendKind) async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_000_000))
        try await withLedger(backend, clock: clock) { l in
            #expect(try l.createDrop(DropRecord(id: "d1", pipeline: "p", stem: "a", clipPath: "a.mp4", sidecarPath: nil, now: 1), fileIDs: []))
            let first = try l.claimDrop(in: .received, owner: "w1", lease: 30)
            #expect(first?.id == "d1")
            #expect(try l.claimDrop(in: .received, owner: "w2", lease: 30) == nil)
            clock.advance(31)
            // The first worker died: its lease lapsed, another takes over.
            #expect(try l.claimDrop(in: .received, owner: "w2", lease: 30)?.leaseOwner == "w2")
        }
    }

    @Test(arguments: LedgerBackendKind.available) func onlyWrittenDownTransitionsAreAllowed(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            _ = try l.createDrop(DropRecord(id: "d1", pipeline: "p", stem: "a", clipPath: "a.mp4", sidecarPath: nil, now: 1), fileIDs: [])
            #expect(throws: OmniError.self) { try l.transitionDrop("d1", from: .received, to: .archived, stage: "t") }
            #expect(throws: OmniError.self) { try l.transitionDrop("d1", from: .validated, to: .converted, stage: "t") }
            try l.transitionDrop("d1", from: .received, to: .rejected, stage: "t", detail: "x")
            let events = try l.events(forDrop: "d1")
            #expect(events.map(\.toState) == ["received", "rejected"])
            #expect(events.last?.fromState == "received")
        }
    }

    @Test(arguments: LedgerBackendKind.available) func checkpointNeedsTheLease(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            let d = try uploadingDelivery(l, owner: "w1")
            try l.checkpoint(deliveryId: d.id!, owner: "w1", lease: 60, session: "http://s/1", confirmedOffset: 262_144, bytesSent: 262_144)
            #expect(throws: OmniError.self) {
                try l.checkpoint(deliveryId: d.id!, owner: "intruder", lease: 60, session: "x", confirmedOffset: 0, bytesSent: 0)
            }
            let after = try #require(try l.delivery(d.id!))
            #expect(after.remoteSession == "http://s/1" && after.confirmedOffset == 262_144)
        }
    }

    /// Tokens as the provider keeps them: a seed stored once, a rotated refresh token never lost, a changed
    /// seed replacing it; cookie jars stored and summarised without their values; both re-sealed together.
    @Test(arguments: LedgerBackendKind.available) func tokensKeepTheirRotatedRefreshTokenAndASeedChangesThem(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            #expect(try l.seedToken(account: "youtube:main", seedHash: "h1", refreshToken: "r1"))
            #expect(try !l.seedToken(account: "youtube:main", seedHash: "h1", refreshToken: "r1"), "the same seed again changes nothing")
            try l.storeToken(account: "youtube:main", accessToken: "a1", expiresAt: 100, refreshToken: "r2")
            try l.storeToken(account: "youtube:main", accessToken: "a2", expiresAt: 200, refreshToken: nil)
            let t = try #require(try l.token(account: "youtube:main"))
            #expect(t.accessToken == "a2" && t.expiresAt == 200 && t.refreshToken == "r2", "a refresh without a new refresh token keeps the rotated one")
            #expect(try !l.seedToken(account: "youtube:main", seedHash: "h1", refreshToken: "r1"))
            #expect(try l.token(account: "youtube:main")?.refreshToken == "r2")
            #expect(try l.seedToken(account: "youtube:main", seedHash: "h2", refreshToken: "r3"), "authorized again: the new seed replaces it")
            #expect(try l.token(account: "youtube:main")?.refreshToken == "r3" && l.token(account: "youtube:main")?.accessToken == nil)
            try l.recordAccountCheck(account: "youtube:main", ok: true, detail: "channel UC1")
            try l.storeCookieJar(account: "wechat:main", sealed: "jar", cookies: 3, domains: "qq.com", expiresAt: nil)
            #expect(try l.cookieJar(account: "wechat:main") == "jar")
            #expect(try l.cookieJars().map { "\($0.account) \($0.cookies) \($0.domains)" } == ["wechat:main 3 qq.com"])
            #expect(try l.resealAll { "x" + $0 } == 2)
            #expect(try l.storedSecrets() == ["xr3"])
            let summary = try #require(try l.tokenSummaries().first)
            #expect(summary.account == "youtube:main" && summary.hasRefreshToken && summary.checkOK == true && summary.checkDetail == "channel UC1")
            #expect(try l.removeToken(account: "wechat:main") && l.cookieJar(account: "wechat:main") == nil)
        }
    }
}

final class TestClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var t: Date
    init(_ t: Date) { self.t = t }
    func now() -> Date { lock.lock(); defer { lock.unlock() }; return t }
    func advance(_ s: TimeInterval) { lock.lock(); t = t.addingTimeInterval(s); lock.unlock() }
}

import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import Synchronization
import Testing

/// The daemon learns of another process's ledger writes (`omnipost retry`, `cancel`) from the ledger's
/// files changing, not from asking SQLite every second: a commit through another connection rings the
/// doorbell well before its 30 s safety net, and its look sees the other connection's commit.
@Suite struct LedgerDoorbellTests {
    @Test func anotherConnectionsCommitRingsTheDoorbell() async throws {
        let dir = try TempDir()
        let path = dir.file("ledger.sqlite")
        let daemon = try Ledger(path: path.path)
        let other = try Ledger(path: path.path)
        let doorbell = try #require(LedgerDoorbell(ledger: path))
        let looks = Mutex<[Int]>([])
        let watching = Task { await doorbell.run { looks.withLock { $0.append((try? daemon.externalChangeCount()) ?? -1) } } }
        defer { watching.cancel() }
        // The first look comes at once, before anything rang.
        for _ in 0..<500 where looks.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        let first = try #require(looks.withLock { $0.first })

        try other.note(.checked, stage: .accounts, target: "youtube:main", detail: "written by another process")
        // Up to 10 s — a third of the safety net, so only the doorbell can have brought this look.
        for _ in 0..<1000 where !looks.withLock({ $0.contains { $0 != first } }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(looks.withLock { $0.contains { $0 != first } }, "no look after another connection's commit: \(looks.withLock { $0 })")

        watching.cancel()
        await watching.value
    }

    /// The ledger's folder holds other things (`media/`, `browser/`, `secret.key`, an editor's file): what
    /// happens to them rings no look, yet the doorbell — read once until a look rearms it — still hears the
    /// next commit of another connection after each kind of it.
    @Test func otherFilesInTheLedgersFolderDoNotSilenceTheDoorbell() async throws {
        let dir = try TempDir()
        let path = dir.file("ledger.sqlite")
        let daemon = try Ledger(path: path.path)
        let other = try Ledger(path: path.path)
        let doorbell = try #require(LedgerDoorbell(ledger: path))
        let looks = Mutex<[Int]>([])
        let watching = Task { await doorbell.run { looks.withLock { $0.append((try? daemon.externalChangeCount()) ?? -1) } } }
        defer { watching.cancel() }
        for _ in 0..<500 where looks.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        let folder = dir.file("media").path
        let foreign: [(String, () throws -> Void)] = [
            ("a file written", { try Data("x".utf8).write(to: dir.file("secret.key")) }),
            ("a folder made", { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }),
            ("a folder's mode changed", { try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: folder) }),
            ("a file removed", { try FileManager.default.removeItem(at: dir.file("secret.key")) }),
        ]
        for (i, (what, happen)) in foreign.enumerated() {
            try happen()
            // Let the reactor read what happened, with nothing of the ledger's beside it.
            try await Task.sleep(for: .milliseconds(300))
            let before = looks.withLock { $0.last ?? -1 }
            try other.note(.checked, stage: .accounts, target: "youtube:main", detail: "another process, after \(what) (\(i))")
            for _ in 0..<1000 where !looks.withLock({ $0.contains { $0 > before } }) { try await Task.sleep(for: .milliseconds(10)) }
            #expect(looks.withLock { $0.contains { $0 > before } }, "no look for a commit after \(what): \(looks.withLock { $0 })")
        }
        watching.cancel()
        await watching.value
    }

    /// A folder inotify cannot watch gives no doorbell: the caller keeps its timed look.
    @Test func noDoorbellWithoutAFolderToWatch() throws {
        let dir = try TempDir()
        #expect(LedgerDoorbell(ledger: dir.file("missing/ledger.sqlite")) == nil)
    }
}

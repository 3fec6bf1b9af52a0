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
    /// A ledger the daemon watches with its doorbell, another connection to write through, and each look's
    /// count of commits by other connections.
    final class Rig: Sendable {
        let dir: TempDir
        let other: Ledger
        let looks: Looks
        let watching: Task<Void, Never>

        final class Looks: Sendable {
            private let counts = Mutex<[Int]>([])
            func withLock<T>(_ body: (inout [Int]) -> T) -> T { counts.withLock { body(&$0) } }
        }

        /// Watching, and its first look — it comes at once, before anything rang — taken.
        init() async throws {
            dir = try TempDir()
            let path = dir.file("ledger.sqlite")
            let daemon = try Ledger(path: path.path)
            other = try Ledger(path: path.path)
            let doorbell = try #require(LedgerDoorbell(ledger: path))
            let looks = Looks()
            self.looks = looks
            watching = Task { await doorbell.run { looks.withLock { $0.append((try? daemon.externalChangeCount()) ?? -1) } } }
            for _ in 0..<500 where looks.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        }

        // A test that failed before `stop` leaves no watcher (and its inotify handle) behind.
        deinit { watching.cancel() }

        var last: Int { looks.withLock { $0.last ?? -1 } }

        /// Another connection commits; true when a look saw it within 10 s — a third of the safety net, so
        /// only the doorbell can have brought it.
        func commitIsSeen(_ detail: String) async throws -> Bool {
            let before = last
            try other.note(.checked, stage: .accounts, target: "youtube:main", detail: detail)
            for _ in 0..<1000 where !looks.withLock({ $0.contains { $0 > before } }) { try await Task.sleep(for: .milliseconds(10)) }
            return looks.withLock { $0.contains { $0 > before } }
        }

        func stop() async {
            watching.cancel()
            await watching.value
        }
    }

    @Test func anotherConnectionsCommitRingsTheDoorbell() async throws {
        let rig = try await Rig()
        #expect(rig.looks.withLock { !$0.isEmpty }, "no first look")
        let seen = try await rig.commitIsSeen("written by another process")
        #expect(seen, "no look after another connection's commit: \(rig.looks.withLock { $0 })")
        await rig.stop()
    }

    /// The ledger's folder holds other things (`media/`, `browser/`, `secret.key`, an editor's file): what
    /// happens to them rings no look, yet the doorbell — read once until a look rearms it — still hears the
    /// next commit of another connection after each kind of it.
    @Test func otherFilesInTheLedgersFolderDoNotSilenceTheDoorbell() async throws {
        let rig = try await Rig()
        let dir = rig.dir
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
            let seen = try await rig.commitIsSeen("another process, after \(what) (\(i))")
            #expect(seen, "no look for a commit after \(what): \(rig.looks.withLock { $0 })")
        }
        await rig.stop()
    }

    /// A folder inotify cannot watch gives no doorbell: the caller keeps its timed look.
    @Test func noDoorbellWithoutAFolderToWatch() throws {
        let dir = try TempDir()
        #expect(LedgerDoorbell(ledger: dir.file("missing/ledger.sqlite")) == nil)
    }
}

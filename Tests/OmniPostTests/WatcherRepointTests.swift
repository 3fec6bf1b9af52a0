import Foundation
import OmniPostCore
@testable import OmniPostIngest
import Synchronization
import Testing

/// An inbox that is a link, re-pointed while the watcher runs (`ln -sfn`, the old folder left in place):
/// the watcher follows it at once — the link's folder is watched, so the re-point is an event — and a
/// drop in the new folder is seen through inotify, not by a later look; the old folder's files are
/// the inbox's no more. (The watcher alone here: no process-wide safety net runs, and an idle inotify
/// watcher has no timeout of its own.)
@Suite struct WatcherRepointTests {
    final class Seen: Sendable {
        let paths = Mutex<[String]>([])
        func add(_ p: String) { paths.withLock { $0.append(p) } }
        func has(_ p: String) -> Bool { paths.withLock { $0.contains(p) } }
    }

    static func until(_ seconds: Double, _ cond: () async -> Bool) async throws -> Bool {
        let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < end {
            if await cond() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return await cond()
    }

    @Test(.timeLimit(.minutes(2))) func aRepointedInboxLinkIsWatchedWhereItLeadsNow() async throws {
        let dir = try TempDir()
        let fm = FileManager.default
        for d in ["old", "new"] { try fm.createDirectory(at: dir.file(d), withIntermediateDirectories: true) }
        try fm.createDirectory(at: dir.file("new/sub"), withIntermediateDirectories: true)
        let inbox = dir.file("inbox")
        try fm.createSymbolicLink(atPath: inbox.path, withDestinationPath: dir.file("old").path)
        var config = WatchConfig()
        config.mode = .inotify
        config.settle = .milliseconds(100)
        let watcher = InboxWatcher(inbox: inbox, config: config, logger: TestPipelines.logger)
        let seen = Seen()
        let task = Task { await watcher.run(.init(onComplete: { seen.add($0.relPath) })) }
        defer { task.cancel() }
        #expect(try await Self.until(30) { await watcher.pendingCount != Int.max })

        try dir.write("old/a.yaml", "title: a\n")
        #expect(try await Self.until(30) { seen.has("a.yaml") }, "a file in the folder the link named at start")

        // Re-pointed as `ln -sfn` does: a fresh link renamed over the configured one.
        let fresh = dir.file(".inbox.tmp").path
        try fm.createSymbolicLink(atPath: fresh, withDestinationPath: dir.file("new").path)
        #expect(rename(fresh, inbox.path) == 0)
        // Written once the watcher has followed the link (a rescan would find a file written before).
        #expect(try await Self.until(10) { await watcher.rescans == 1 }, "the re-point was an event")
        try dir.write("new/b.yaml", "title: b\n")
        try dir.write("new/sub/c.yaml", "title: c\n")
        #expect(try await Self.until(10) { seen.has("b.yaml") && seen.has("sub/c.yaml") }, "seen: \(seen.paths.withLock { $0 })")

        // The old folder is the inbox's no more: a file written there is not reported.
        try dir.write("old/d.yaml", "title: d\n")
        try dir.write("new/e.yaml", "title: e\n")
        #expect(try await Self.until(10) { seen.has("e.yaml") })
        #expect(!seen.has("d.yaml"), "seen: \(seen.paths.withLock { $0 })")

        // A link it goes through, removed and made again to another folder: followed too.
        try fm.createDirectory(at: dir.file("third"), withIntermediateDirectories: true)
        try fm.removeItem(atPath: inbox.path)
        try fm.createSymbolicLink(atPath: inbox.path, withDestinationPath: dir.file("third").path)
        #expect(try await Self.until(10) { await watcher.rescans == 2 })
        try dir.write("third/f.yaml", "title: f\n")
        #expect(try await Self.until(10) { seen.has("f.yaml") }, "seen: \(seen.paths.withLock { $0 })")
    }
}

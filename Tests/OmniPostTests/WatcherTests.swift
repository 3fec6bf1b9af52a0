import Foundation
import OmniPostCore
@testable import OmniPostIngest
import Testing

/// The watcher alone: real inotify (or polling) over a temp folder, real writers.
@Suite struct WatcherTests {
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [(FileFact, ContinuousClock.Instant)] = []
        func add(_ f: FileFact) { lock.lock(); items.append((f, .now)); lock.unlock() }
        var all: [(FileFact, ContinuousClock.Instant)] { lock.lock(); defer { lock.unlock() }; return items }
        var paths: [String] { all.map(\.0.relPath) }
    }

    static func watch(_ dir: URL, mode: WatchMode = .inotify, settle: Duration = .milliseconds(600), marker: Bool = false,
                      mountinfo: String? = nil) -> (InboxWatcher, Seen, Task<Void, Never>) {
        var c = WatchConfig()
        c.mode = mode
        c.settle = settle
        c.pollInterval = .milliseconds(100)
        c.readyMarker = marker
        let w = InboxWatcher(inbox: dir, config: c, logger: TestPipelines.logger, mountinfo: mountinfo)
        let seen = Seen()
        let t = Task { await w.run(.init(onComplete: { seen.add($0) })) }
        return (w, seen, t)
    }

    /// Runs blocking work on a dedicated thread and returns its result.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            Thread { c.resume(with: Result { try work() }) }.start()
        }
    }

    static func waitStarted(_ w: InboxWatcher) async throws {
        for _ in 0..<200 where await w.pendingCount == Int.max { try await Task.sleep(for: .milliseconds(10)) }
    }

    static func waitUntil(_ timeout: Duration = .seconds(60), _ cond: () async -> Bool) async throws {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if await cond() { return }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Files already in the inbox at start are reported one by one in the first batch: each one not yet
    /// reported is listed as pending meanwhile (and each reported one no longer is), so a partner or
    /// rival is always either pending or recorded — never in neither place, not even on the first tick.
    @Test(arguments: [WatchMode.inotify, .poll])
    func filesNotYetReportedAreListedPendingFromTheFirstBatch(mode: WatchMode) async throws {
        let dir = try TempDir()
        let names = ["c.json", "c.mp4", "c.yaml", "d.mp4", "d.yaml"]
        for n in names { try dir.write(n, "content of \(n)") }
        var c = WatchConfig()
        c.mode = mode
        // A settle shorter than the first tick's sleep: the files are settled by the first tick, as they
        // are on a loaded machine — the batch that reports them is the first thing ever listed.
        c.settle = .milliseconds(5)
        c.pollInterval = .milliseconds(100)
        let pending = PendingFiles()
        let w = InboxWatcher(inbox: dir.url, config: c, logger: TestPipelines.logger, pending: pending)
        final class Checks: @unchecked Sendable {
            private let lock = NSLock()
            private var missing: [String] = []
            private var reported: [String] = []
            func saw(_ path: String, listed: Set<String>, names: [String]) {
                lock.withLock {
                    reported.append(path)
                    // Everything not reported yet must be listed as pending right now.
                    for n in names where !reported.contains(n) && !listed.contains(n) { missing.append("\(n) (while reporting \(path))") }
                }
            }
            var state: (reported: [String], missing: [String]) { lock.withLock { (reported, missing) } }
        }
        let checks = Checks()
        let t = Task {
            await w.run(.init(onComplete: { fact in checks.saw(fact.relPath, listed: pending.snapshot, names: names) }))
        }
        defer { t.cancel() }
        try await Self.waitUntil { checks.state.reported.count == names.count }
        #expect(Set(checks.state.reported) == Set(names))
        #expect(checks.state.missing.isEmpty, "\(checks.state.missing)")
        #expect(pending.snapshot.isDisjoint(with: names))
    }

    @Test(arguments: [true, false])
    func aFileWrittenInPiecesIsNeverPickedUpEarly(keepOpen: Bool) async throws {
        let dir = try TempDir()
        // Pauses (300 ms) far longer than inotify's latency but shorter than the settle window (2 s, with
        // room for a busy machine stretching the writer's sleeps).
        // A writer that closes between pages relies on settle alone, so it gets the most headroom.
        let settle = keepOpen ? Duration.seconds(2) : .seconds(5)
        let (w, seen, t) = Self.watch(dir.url, settle: settle)
        defer { t.cancel() }
        try await Self.waitStarted(w)
        let path = dir.file("slow.mp4").path
        let piece = Data(repeating: 7, count: 50_000)
        // The writer runs on a thread of its own, like the separate process a real writer is: a busy
        // test machine starving the async pool must not pause the writer and the watcher together.
        let lastWrite = try await Self.onThread { () -> ContinuousClock.Instant in
            var last = ContinuousClock.now
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            if keepOpen {
                let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                for _ in 0..<8 {
                    try h.write(contentsOf: piece)
                    Thread.sleep(forTimeInterval: 0.3)
                }
                try h.close()
                last = .now
            } else {
                // A scanner that closes the file between pages: every close is a close_write.
                for _ in 0..<8 {
                    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                    try h.seekToEnd()
                    try h.write(contentsOf: piece)
                    try h.close()
                    last = .now
                    Thread.sleep(forTimeInterval: 0.3)
                }
            }
            return last
        }
        // Nothing may have been seen before the last write plus the settle time. (Whether the report
        // came before this line runs is a matter of how busy the machine is, not of the watcher.)
        #expect(seen.all.allSatisfy { $0.0.size == 400_000 && $0.1 - lastWrite >= settle * 0.9 }, "picked up while still being written")
        try await Self.waitUntil { !seen.all.isEmpty }
        try await Task.sleep(for: .milliseconds(300))
        #expect(seen.all.count == 1)
        #expect(seen.all.first?.0.size == 400_000)
        #expect(seen.all.first.map { $0.1 - lastWrite >= settle * 0.9 } == true)
    }

    @Test func rsyncTempNameRenamedAtTheEnd() async throws {
        let dir = try TempDir()
        let (w, seen, t) = Self.watch(dir.url, settle: .milliseconds(300))
        defer { t.cancel() }
        try await Self.waitStarted(w)
        // rsync writes `.name.XXXXXX` and renames it into place when done.
        try Data(repeating: 1, count: 123_456).write(to: dir.file(".clip.mp4.Xa81kq"))
        try await Task.sleep(for: .milliseconds(600))
        #expect(seen.all.isEmpty)
        try FileManager.default.moveItem(at: dir.file(".clip.mp4.Xa81kq"), to: dir.file("clip.mp4"))
        try await Self.waitUntil { !seen.all.isEmpty }
        try await Task.sleep(for: .milliseconds(400))
        #expect(seen.paths == ["clip.mp4"])
        #expect(seen.all[0].0.size == 123_456)
    }

    @Test func editorSaveRenamesOverAndJunkIsIgnored() async throws {
        let dir = try TempDir()
        let (w, seen, t) = Self.watch(dir.url, settle: .milliseconds(300))
        defer { t.cancel() }
        try await Self.waitStarted(w)
        try dir.write("clip.yaml", "title: one\n")
        try await Self.waitUntil { seen.all.count == 1 }
        // Editor: write a temp, rename over the original. Also junk that must never count.
        try dir.write(".clip.yaml.swp", "title: two, longer\n")
        for junk in ["x.part", "y.tmp", "z.crdownload", "~$doc.mp4", "._clip.mp4", ".DS_Store", "@eaDir/thumb.mp4", "#recycle/old.mp4"] {
            try dir.write(junk, "junk")
        }
        #expect(rename(dir.file(".clip.yaml.swp").path, dir.file("clip.yaml").path) == 0)
        try await Self.waitUntil { seen.all.count >= 2 }
        try await Task.sleep(for: .milliseconds(500))
        #expect(seen.paths == ["clip.yaml", "clip.yaml"])
        #expect(seen.all[1].0.size == Int64("title: two, longer\n".utf8.count))
    }

    @Test func newSubfoldersAreWatchedIncludingWhatWasCopiedIn() async throws {
        let dir = try TempDir()
        let staging = try TempDir()
        let (w, seen, t) = Self.watch(dir.url, settle: .milliseconds(300))
        defer { t.cancel() }
        try await Self.waitStarted(w)
        try staging.write("batch/a.mp4", "a")
        try staging.write("batch/deeper/b.mp4", "b")
        // A whole folder moved in at once: its files were written before any watch existed.
        try FileManager.default.moveItem(at: staging.file("batch"), to: dir.file("batch"))
        try await Self.waitUntil { seen.all.count == 2 }
        try dir.write("batch/deeper/c.mp4", "c")
        try await Self.waitUntil { seen.all.count == 3 }
        #expect(Set(seen.paths) == ["batch/a.mp4", "batch/deeper/b.mp4", "batch/deeper/c.mp4"])
    }

    @Test func pollModeSeesFilesWithoutInotify() async throws {
        let dir = try TempDir()
        let (w, seen, t) = Self.watch(dir.url, mode: .poll, settle: .seconds(1))
        defer { t.cancel() }
        #expect(w.mode == .poll)
        try await Self.waitStarted(w)
        let h = try FileHandle(forWritingTo: dir.write("growing.mp4", ""))
        try await Self.onThread {
            for _ in 0..<4 {
                try h.write(contentsOf: Data(repeating: 2, count: 10_000))
                Thread.sleep(forTimeInterval: 0.15)
            }
            try h.close()
        }
        // Never taken while growing: whatever was seen so far is the whole file.
        #expect(seen.all.allSatisfy { $0.0.size == 40_000 })
        try await Self.waitUntil { !seen.all.isEmpty }
        try await Task.sleep(for: .milliseconds(400))
        #expect(seen.all.count == 1 && seen.all[0].0.size == 40_000)
    }

    @Test func autoModeIsDecidedFromTheMountTable() throws {
        let mountinfo = """
            22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            40 22 0:35 / /mnt/nas rw,relatime shared:20 - cifs //nas/video rw,vers=3.0
            41 22 0:36 / /srv/nfs rw shared:21 - nfs4 server:/export rw
            42 22 0:37 / /home/me/remote rw shared:22 - fuse.sshfs me@host:/data rw
            43 22 0:38 / /mnt/with\\040space rw shared:23 - 9p share rw
            44 40 0:39 / /mnt/nas/local rw shared:24 - xfs /dev/sdb1 rw
            """
        #expect(MountTable.decide(path: "/var/inbox", mountinfo: mountinfo) == (false, "ext4"))
        #expect(MountTable.decide(path: "/mnt/nas/inbox", mountinfo: mountinfo) == (true, "cifs"))
        #expect(MountTable.decide(path: "/srv/nfs/drops", mountinfo: mountinfo) == (true, "nfs4"))
        #expect(MountTable.decide(path: "/home/me/remote/x", mountinfo: mountinfo) == (true, "fuse.sshfs"))
        #expect(MountTable.decide(path: "/mnt/with space/in", mountinfo: mountinfo) == (true, "9p"))
        #expect(MountTable.decide(path: "/mnt/nas/local/in", mountinfo: mountinfo) == (false, "xfs"))
        #expect(MountTable.decide(path: "/mnt/nasty", mountinfo: mountinfo) == (false, "ext4"))
        let dir = try TempDir()
        var c = WatchConfig()
        c.mode = .auto
        let remote = InboxWatcher(inbox: dir.url, config: c, logger: TestPipelines.logger,
                                  mountinfo: "1 0 0:1 / / rw - nfs server:/ rw\n")
        #expect(remote.mode == .poll && remote.fsType == "nfs")
        let local = InboxWatcher(inbox: dir.url, config: c, logger: TestPipelines.logger, mountinfo: "1 0 0:1 / / rw - ext4 /dev/x rw\n")
        #expect(local.mode == .inotify)
    }

    @Test func readyMarkerModeWaitsForTheMarker() async throws {
        let dir = try TempDir()
        let (w, seen, t) = Self.watch(dir.url, settle: .milliseconds(200), marker: true)
        defer { t.cancel() }
        try await Self.waitStarted(w)
        try dir.write("clip.mp4", "video bytes")
        // Settled, and waiting only for its marker: the inbox counts as quiet (on a loaded machine the
        // tick that decides it may come late, so this waits for it rather than for a fixed time).
        try await Self.waitUntil { await w.awaitingMarker.count == 1 }
        #expect(await w.awaitingMarker == ["clip.mp4"])
        #expect(await w.pendingCount == 0)
        try await Task.sleep(for: .milliseconds(300))
        #expect(seen.all.isEmpty)
        try dir.write("clip.mp4.ready", "")
        try await Self.waitUntil { !seen.all.isEmpty }
        try await Task.sleep(for: .milliseconds(300))
        #expect(seen.paths == ["clip.mp4"])
    }

    @Test func queueOverflowIsReportedAndRescanned() async throws {
        // A real IN_Q_OVERFLOW: lower the kernel's queue for a new instance, let events pile up unread.
        let knob = "/proc/sys/fs/inotify/max_queued_events"
        guard let old = try? String(contentsOfFile: knob, encoding: .utf8), (try? "32".write(toFile: knob, atomically: false, encoding: .utf8)) != nil else {
            return   // not root or no /proc: the injected-overflow tests below still cover the rescan
        }
        let dir = try TempDir()
        let source = try InotifySource(root: dir.path)
        try? old.write(toFile: knob, atomically: false, encoding: .utf8)
        source.watch(relDir: "")
        for i in 0..<100 { try dir.write("f\(i).mp4", "x") }
        var overflowed = false
        let events = source.events()
        for await e in events {
            if case .overflow = e { overflowed = true; break }
        }
        source.stop()
        #expect(overflowed)
        // The watcher answers an overflow with a rescan that finds every file, once.
        let (w, seen, t) = Self.watch(dir.url, settle: .milliseconds(100))
        defer { t.cancel() }
        try await Self.waitUntil { seen.all.count == 100 }
        await w.handle(.overflow("forced"))
        try await Task.sleep(for: .milliseconds(500))
        #expect(seen.all.count == 100)
        #expect(await w.rescans == 1)
    }
}

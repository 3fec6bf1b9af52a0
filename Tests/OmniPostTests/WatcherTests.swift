import Foundation
import OmniPostCore
@testable import OmniPostIngest
import Synchronization
import Testing

/// The watcher alone: real inotify (or polling) over a temp folder, real writers.
/// The watcher alone: real inotify (or polling) over a temp folder, real writers — and a clock the test
/// moves by hand (`ManualSettleClock`), so settling is a step of the clock, never a wait of real time.
@Suite struct WatcherTests {
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [(FileFact, Duration)] = []
        func add(_ f: FileFact, at t: Duration) { lock.lock(); items.append((f, t)); lock.unlock() }
        /// Each file reported, with the watcher's clock when it was.
        var all: [(FileFact, Duration)] { lock.lock(); defer { lock.unlock() }; return items }
        var paths: [String] { all.map(\.0.relPath) }
    }

    struct Watch {
        var watcher: InboxWatcher
        var seen: Seen
        var task: Task<Void, Never>
        var clock: ManualSettleClock
    }

    static func watch(
        _ dir: URL, mode: WatchMode = .inotify, settle: Duration = .milliseconds(600), marker: Bool = false,
        mountinfo: String? = nil, pending: PendingFiles = PendingFiles(),
        onComplete: (@Sendable (FileFact) -> Void)? = nil, isWhole: @escaping @Sendable (FileFact) async -> Bool = { _ in true }
    ) -> Watch {
        var c = WatchConfig()
        c.mode = mode
        c.settle = settle
        c.pollInterval = .milliseconds(100)
        c.readyMarker = marker
        let clock = ManualSettleClock()
        let w = InboxWatcher(inbox: dir, config: c, logger: TestPipelines.logger, mountinfo: mountinfo, pending: pending, clock: clock)
        let seen = Seen()
        let t = Task {
            await w.run(
                .init(
                    onComplete: {
                        seen.add($0, at: clock.now()); onComplete?($0)
                    }, isWhole: isWhole))
        }
        return Watch(watcher: w, seen: seen, task: t, clock: clock)
    }

    /// Runs `body` with a watcher that is always stopped (its task cancelled and awaited) afterwards.
    static func withWatcher(
        _ dir: URL, mode: WatchMode = .inotify, settle: Duration = .milliseconds(600), marker: Bool = false,
        pending: PendingFiles = PendingFiles(), onComplete: (@Sendable (FileFact) -> Void)? = nil,
        isWhole: @escaping @Sendable (FileFact) async -> Bool = { _ in true },
        _ body: (Watch) async throws -> Void
    ) async throws {
        let w = watch(dir, mode: mode, settle: settle, marker: marker, pending: pending, onComplete: onComplete, isWhole: isWhole)
        do {
            try await waitUntil { await w.watcher.pendingCount != Int.max }
            try await body(w)
        } catch {
            w.task.cancel()
            await w.task.value
            throw error
        }
        w.task.cancel()
        await w.task.value
    }

    /// One look of the watcher after its clock moved on by `d` (at least one tick): waits until it is
    /// asleep on the clock, moves the clock, and waits for the look to be over.
    static func step(_ w: Watch, by d: Duration) async throws {
        try await waitUntil { w.clock.sleeping > 0 }
        let n = await w.watcher.ticks
        w.clock.advance(by: d)
        try await waitUntil { await w.watcher.ticks > n }
    }

    /// Waits for something the watcher does in its own time (take an inotify event in, finish a look);
    /// fails after `timeout` rather than going on as if it had happened.
    static func waitUntil(_ timeout: Duration = .seconds(60), _ cond: () async -> Bool) async throws {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if await cond() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("not reached within \(timeout)")
        throw CancellationError()
    }

    /// Waits until the watcher has taken in the events that made `rel` `size` bytes (and closed, when asked).
    static func taken(_ w: Watch, _ rel: String, size: Int64, closed: Bool = false) async throws {
        try await waitUntil {
            guard let c = await w.watcher.candidate(rel) else { return false }
            return c.fact.size == size && (!closed || c.closed)
        }
    }

    /// A file replaced while its completeness is checked (a browser's download renamed over its 0-byte
    /// placeholder between the settle's stat and the check, which reads by name) is reported as the version
    /// it now is, once it settles — never as the placeholder's fact the check did not read.
    @Test(arguments: [WatchMode.inotify, .poll])
    func aFileReplacedWhileItIsCheckedIsReportedAsItsNewVersion(mode: WatchMode) async throws {
        let dir = try TempDir()
        try dir.write("dl.mp4", "")
        let whole = String(repeating: "v", count: 4096)
        try dir.write("dl.mp4.part", whole)
        let replaced = Mutex(false)
        try await Self.withWatcher(
            dir.url, mode: mode, settle: .milliseconds(5),
            isWhole: { fact in
                // The download lands while the placeholder is being checked; the check sees the new file.
                if fact.size == 0, !replaced.withLock({ $0 }) {
                    _ = rename(dir.file("dl.mp4.part").path, dir.file("dl.mp4").path)
                    replaced.withLock { $0 = true }
                }
                return true
            }
        ) { w in
            for _ in 0..<40 where !w.seen.paths.contains("dl.mp4") { try await Self.step(w, by: .milliseconds(100)) }
            #expect(replaced.withLock { $0 })
            let reported = w.seen.all.map(\.0).filter { $0.relPath == "dl.mp4" }
            #expect(reported.map(\.size) == [4096], "reported \(reported.map(\.size))")
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
        let pending = PendingFiles()
        // A settle shorter than one tick: the files are settled by the first look, as they are on a
        // loaded machine — the batch that reports them is the first thing ever listed.
        try await Self.withWatcher(
            dir.url, mode: mode, settle: .milliseconds(5), pending: pending,
            onComplete: { checks.saw($0.relPath, listed: pending.snapshot, names: names) }
        ) { w in
            for _ in 0..<10 where checks.state.reported.count < names.count { try await Self.step(w, by: .milliseconds(100)) }
            #expect(Set(checks.state.reported) == Set(names))
            #expect(checks.state.missing.isEmpty, "\(checks.state.missing)")
            #expect(pending.snapshot.isDisjoint(with: names))
        }
    }

    /// A writer pausing between pages (longer than inotify's latency, shorter than the settle window),
    /// with the file kept open or closed between pages: never reported before the last write plus the
    /// settle window on the watcher's clock, then reported once, whole.
    @Test(arguments: [true, false])
    func aFileWrittenInPiecesIsNeverPickedUpEarly(keepOpen: Bool) async throws {
        let dir = try TempDir()
        let settle = Duration.seconds(2)
        try await Self.withWatcher(dir.url, settle: settle) { w in
            let path = dir.file("slow.mp4").path
            let piece = Data(repeating: 7, count: 50_000)
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let open = keepOpen ? try FileHandle(forWritingTo: URL(fileURLWithPath: path)) : nil
            for i in 1...8 {
                if let open {
                    try open.write(contentsOf: piece)
                } else {
                    // A scanner that closes the file between pages: every close is a close_write.
                    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                    try h.seekToEnd()
                    try h.write(contentsOf: piece)
                    try h.close()
                }
                try await Self.taken(w, "slow.mp4", size: Int64(i * 50_000), closed: !keepOpen)
                guard i < 8 else { break }
                // The writer's pause: 300 ms on the watcher's clock.
                try await Self.step(w, by: .milliseconds(300))
                #expect(w.seen.all.isEmpty, "picked up while still being written (page \(i))")
            }
            try open?.close()
            try await Self.taken(w, "slow.mp4", size: 400_000, closed: true)
            let lastWrite = w.clock.now()
            try await Self.step(w, by: settle - .milliseconds(300))
            #expect(w.seen.all.isEmpty, "reported before the settle window passed")
            try await Self.step(w, by: .milliseconds(300))
            #expect(w.seen.all.count == 1)
            #expect(w.seen.all.first?.0.size == 400_000)
            #expect(w.seen.all.first.map { $0.1 - lastWrite >= settle } == true)
        }
    }

    @Test func rsyncTempNameRenamedAtTheEnd() async throws {
        let dir = try TempDir()
        try await Self.withWatcher(dir.url, settle: .milliseconds(300)) { w in
            // rsync writes `.name.XXXXXX` and renames it into place when done.
            try Data(repeating: 1, count: 123_456).write(to: dir.file(".clip.mp4.Xa81kq"))
            try FileManager.default.moveItem(at: dir.file(".clip.mp4.Xa81kq"), to: dir.file("clip.mp4"))
            try await Self.taken(w, "clip.mp4", size: 123_456, closed: true)
            #expect(await w.watcher.candidate(".clip.mp4.Xa81kq") == nil)
            try await Self.step(w, by: .milliseconds(300))
            // The temporary name was never a candidate: only the final name is reported, once.
            #expect(w.seen.paths == ["clip.mp4"])
            #expect(w.seen.all[0].0.size == 123_456)
        }
    }

    @Test func editorSaveRenamesOverAndJunkIsIgnored() async throws {
        let dir = try TempDir()
        try await Self.withWatcher(dir.url, settle: .milliseconds(300)) { w in
            try dir.write("clip.yaml", "title: one\n")
            try await Self.taken(w, "clip.yaml", size: 11, closed: true)
            try await Self.step(w, by: .milliseconds(300))
            #expect(w.seen.all.count == 1)
            // Editor: write a temp, rename over the original. Also junk that must never count.
            try dir.write(".clip.yaml.swp", "title: two, longer\n")
            for junk in ["x.part", "y.tmp", "z.crdownload", "~$doc.mp4", "._clip.mp4", ".DS_Store", "@eaDir/thumb.mp4", "#recycle/old.mp4"] {
                try dir.write(junk, "junk")
            }
            #expect(rename(dir.file(".clip.yaml.swp").path, dir.file("clip.yaml").path) == 0)
            let second = Int64("title: two, longer\n".utf8.count)
            try await Self.taken(w, "clip.yaml", size: second, closed: true)
            try await Self.step(w, by: .milliseconds(300))
            // Junk written before the rename would have settled with it: none of it is reported.
            #expect(w.seen.paths == ["clip.yaml", "clip.yaml"])
            #expect(w.seen.all[1].0.size == second)
        }
    }

    @Test func newSubfoldersAreWatchedIncludingWhatWasCopiedIn() async throws {
        let dir = try TempDir()
        let staging = try TempDir()
        try await Self.withWatcher(dir.url, settle: .milliseconds(300)) { w in
            try staging.write("batch/a.mp4", "a")
            try staging.write("batch/deeper/b.mp4", "b")
            // A whole folder moved in at once: its files were written before any watch existed.
            try FileManager.default.moveItem(at: staging.file("batch"), to: dir.file("batch"))
            try await Self.taken(w, "batch/a.mp4", size: 1, closed: true)
            try await Self.taken(w, "batch/deeper/b.mp4", size: 1, closed: true)
            try await Self.step(w, by: .milliseconds(300))
            #expect(w.seen.all.count == 2)
            try dir.write("batch/deeper/c.mp4", "c")
            try await Self.taken(w, "batch/deeper/c.mp4", size: 1, closed: true)
            try await Self.step(w, by: .milliseconds(300))
            #expect(Set(w.seen.paths) == ["batch/a.mp4", "batch/deeper/b.mp4", "batch/deeper/c.mp4"])
        }
    }

    @Test func pollModeSeesFilesWithoutInotify() async throws {
        let dir = try TempDir()
        try await Self.withWatcher(dir.url, mode: .poll, settle: .seconds(1)) { w in
            #expect(w.watcher.mode == .poll)
            let h = try FileHandle(forWritingTo: dir.write("growing.mp4", ""))
            // Growing between scans: each scan finds it changed, so it is never taken.
            for _ in 0..<4 {
                try h.write(contentsOf: Data(repeating: 2, count: 10_000))
                try await Self.step(w, by: .milliseconds(150))
            }
            try h.close()
            #expect(w.seen.all.isEmpty)
            // Then still: reported after the settle window and three unchanged scans, whole.
            for _ in 0..<20 where w.seen.all.isEmpty { try await Self.step(w, by: .milliseconds(100)) }
            #expect(w.seen.all.count == 1 && w.seen.all[0].0.size == 40_000)
            for _ in 0..<3 { try await Self.step(w, by: .milliseconds(100)) }
            #expect(w.seen.all.count == 1)
        }
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
        let remote = InboxWatcher(
            inbox: dir.url, config: c, logger: TestPipelines.logger,
            mountinfo: "1 0 0:1 / / rw - nfs server:/ rw\n")
        #expect(remote.mode == .poll && remote.fsType == "nfs")
        let local = InboxWatcher(inbox: dir.url, config: c, logger: TestPipelines.logger, mountinfo: "1 0 0:1 / / rw - ext4 /dev/x rw\n")
        #expect(local.mode == .inotify)
    }

    @Test func readyMarkerModeWaitsForTheMarker() async throws {
        let dir = try TempDir()
        try await Self.withWatcher(dir.url, settle: .milliseconds(200), marker: true) { w in
            try dir.write("clip.mp4", "video bytes")
            try await Self.taken(w, "clip.mp4", size: 11, closed: true)
            try await Self.step(w, by: .milliseconds(250))
            // Settled, and waiting only for its marker: the inbox counts as quiet.
            #expect(await w.watcher.awaitingMarker == ["clip.mp4"])
            #expect(await w.watcher.pendingCount == 0)
            try await Self.step(w, by: .seconds(5))
            #expect(w.seen.all.isEmpty)
            try dir.write("clip.mp4.ready", "")
            try await Self.taken(w, "clip.mp4.ready", size: 0, closed: true)
            try await Self.step(w, by: .milliseconds(250))
            #expect(w.seen.paths == ["clip.mp4"])
        }
    }

    @Test func queueOverflowIsReportedAndRescanned() async throws {
        // A real IN_Q_OVERFLOW: lower the kernel's queue for a new instance, let events pile up unread.
        let knob = "/proc/sys/fs/inotify/max_queued_events"
        guard let old = try? String(contentsOfFile: knob, encoding: .utf8), (try? "32".write(toFile: knob, atomically: false, encoding: .utf8)) != nil else {
            return  // not root or no /proc: the injected-overflow tests below still cover the rescan
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
        try await Self.withWatcher(dir.url, settle: .milliseconds(100)) { w in
            for _ in 0..<10 where w.seen.all.count < 100 { try await Self.step(w, by: .milliseconds(100)) }
            #expect(w.seen.all.count == 100)
            await w.watcher.handle(.overflow("forced"))
            // The rescan finds every file as it was reported: nothing becomes a candidate again.
            #expect(await w.watcher.pendingCount == 0)
            #expect(w.seen.all.count == 100)
            #expect(await w.watcher.rescans == 1)
        }
    }
}

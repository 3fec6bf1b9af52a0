import Foundation
@testable import OmniPostIngest
import Synchronization
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// Every inotify source in the process is read by one thread (issue 30: a thread each was 32 threads
/// blocked in `poll` for 8 pipelines), and sharing it changes nothing a source's reader sees: each gets
/// its own events, a stopped one ends without stopping the others.
@Suite struct InotifyReactorTests {
    /// The threads of this process named as the reactor's.
    static func reactorThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { tid in
            (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                == InotifyReactor.threadName
        }.count
    }

    /// The first `.closed` event of a stream, or nil if the stream ends first.
    static func firstClosed(_ events: AsyncStream<InotifySource.Event>) async -> String? {
        for await e in events {
            if case .closed(let rel) = e { return rel }
        }
        return nil
    }

    @Test func manySourcesOneThreadEachItsOwnEvents() async throws {
        let dirs = try (0..<6).map { _ in try TempDir() }
        let sources = try dirs.map { try InotifySource(root: $0.path) }
        for s in sources { #expect(s.watch(relDir: "")) }
        let streams = sources.map { $0.events() }
        #expect(Self.reactorThreads() == 1)

        for (i, d) in dirs.enumerated() { _ = try d.write("clip\(i).mp4", "x") }
        for (i, stream) in streams.enumerated() {
            // Each source reports the file written in its own folder, and only that one.
            #expect(await Self.firstClosed(stream) == "clip\(i).mp4")
        }

        // Stopping one ends its stream; the others still hear their folders.
        sources[0].stop()
        #expect(await Self.firstClosed(streams[0]) == nil)
        _ = try dirs[1].write("later.mp4", "y")
        #expect(await Self.firstClosed(streams[1]) == "later.mp4")
        for s in sources.dropFirst() { s.stop() }
        #expect(Self.reactorThreads() == 1)
    }

    /// An inbox configured as a link to its folder is watched through the link (the watch was refused
    /// for the link itself, so the folder was seen only by the 30 s safety net); a link below the root is
    /// still not followed.
    @Test func aRootThatIsALinkIsWatchedAndALinkBelowItIsNot() async throws {
        let dir = try TempDir()
        let target = dir.url.appendingPathComponent("share")
        let elsewhere = dir.url.appendingPathComponent("elsewhere")
        for d in [target, elsewhere] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        let root = dir.url.appendingPathComponent("inbox").path
        try FileManager.default.createSymbolicLink(atPath: root, withDestinationPath: target.path)
        try FileManager.default.createSymbolicLink(atPath: target.appendingPathComponent("away").path, withDestinationPath: elsewhere.path)
        let source = try InotifySource(root: root)
        // Required: without the root's watch no event would come, and the wait below would never end.
        try #require(source.watch(relDir: ""))
        #expect(!source.watch(relDir: "away"))
        let stream = source.events()
        try Data("x".utf8).write(to: elsewhere.appendingPathComponent("not-ours.mp4"))
        try Data("x".utf8).write(to: target.appendingPathComponent("clip.mp4"))
        #expect(await Self.firstClosed(stream) == "clip.mp4")
        source.stop()
    }

    /// A source stopped before it was started gives a stream that has already ended.
    @Test func aSourceStoppedBeforeItsEventsGivesAnEndedStream() async throws {
        let dir = try TempDir()
        let source = try InotifySource(root: dir.path)
        source.watch(relDir: "")
        source.stop()
        #expect(await Self.firstClosed(source.events()) == nil)
    }

    /// A source read once until rearmed (the ledger's doorbell) is not read while it waits: a file written
    /// 500 times meanwhile is one merged event in the kernel's queue, handed on once it is rearmed — not
    /// 500 reads and hand-offs (issue 30: the ledger's `-wal`, written page by page by every commit).
    @Test(.timeLimit(.minutes(1))) func aSourceReadOnceWaitsForItsRearmAndTheKernelMergesWhatCameMeanwhile() async throws {
        let dir = try TempDir()
        let source = try InotifySource(root: dir.path)
        #expect(source.watch(relDir: ""))
        source.readOnceUntilRearmed()
        let seen = Mutex<[String]>([])
        let stream = source.events()
        let reader = Task { for await e in stream { seen.withLock { $0.append("\(e)") } } }
        defer {
            source.stop()
            reader.cancel()
        }
        let path = dir.url.appendingPathComponent("ledger.sqlite-wal").path
        let fd = open(path, O_CREAT | O_WRONLY, 0o644)
        #expect(fd >= 0)
        // The first event is read (and the source disarmed with that read).
        for _ in 0..<500 where seen.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        let first = seen.withLock { $0.count }
        #expect(first >= 1)
        var byte: UInt8 = 1
        for i in 0..<500 { #expect(pwrite(fd, &byte, 1, off_t(i)) == 1) }
        close(fd)
        try await Task.sleep(for: .milliseconds(300))
        #expect(seen.withLock { $0.count } == first, "read while disarmed: \(seen.withLock { $0 })")

        source.rearm()
        for _ in 0..<500 where !seen.withLock({ $0.contains { $0.hasPrefix("closed") } }) { try await Task.sleep(for: .milliseconds(10)) }
        let after = seen.withLock { Array($0.dropFirst(first)) }
        // 500 writes and a close: one merged `modified` and the `closed`.
        #expect(after.filter { $0.hasPrefix("modified") }.count == 1 && after.filter { $0.hasPrefix("closed") }.count == 1, "\(after)")

        // Disarmed again by that read; rearmed, a later write is heard.
        source.rearm()
        _ = try dir.write("later", "x")
        for _ in 0..<500 where !seen.withLock({ $0.contains { $0.contains("later") } }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(seen.withLock { $0.contains { $0.contains("later") } })
    }
}

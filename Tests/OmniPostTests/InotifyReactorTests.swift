import Foundation
@testable import OmniPostIngest
import Testing

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
    /// A source read at most every 200 ms (the ledger's doorbell) gets a file written 2,000 times in a row
    /// as a handful of events — the kernel merges each write into the one still unread — while a source
    /// read as events come, on the same thread, hears what is written in its folder meanwhile, and the
    /// rested source still hears a write that comes after (issue 30: the log's writes were an event each).
    @Test func aSourceThatRestsBetweenReadsHasRepeatedWritesMerged() async throws {
        let rested = try TempDir(), eager = try TempDir()
        let slow = try InotifySource(root: rested.path, readEvery: .milliseconds(200))
        let fast = try InotifySource(root: eager.path)
        try #require(slow.watch(relDir: ""))
        try #require(fast.watch(relDir: ""))
        let slowEvents = slow.events(), fastEvents = fast.events()
        let log = rested.file("ledger.sqlite-wal").path
        try await offPool {
            let fd = open(log, O_WRONLY | O_CREAT, 0o644)
            defer { close(fd) }
            var page = [UInt8](repeating: 7, count: 64)
            for i in 0..<2000 { _ = pwrite(fd, &page, page.count, off_t(i * 64)) }
        }
        _ = try eager.write("clip.mp4", "x")
        #expect(await Self.firstClosed(fastEvents) == "clip.mp4")
        // After the writes, a file closed in the rested folder: it comes, after the merged writes.
        try await Task.sleep(for: .milliseconds(300))
        _ = try rested.write("after.mp4", "y")
        var modified = 0
        for await e in slowEvents {
            if case .modified("ledger.sqlite-wal") = e { modified += 1 }
            if case .closed("after.mp4") = e { break }
        }
        // 2,000 writes took far less than a second here; one event per 200 ms rest, and a few for the
        // writes seen before the first rest began, is the most a merge leaves.
        #expect(modified >= 1 && modified <= 20, "modified events for 2,000 writes: \(modified)")
        slow.stop()
        fast.stop()
    }
}

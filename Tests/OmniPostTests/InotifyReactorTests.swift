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
}

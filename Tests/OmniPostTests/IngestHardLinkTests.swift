import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// Issue 21 (item 9): a file hard-linked into the inbox is not the inbox's alone. A real writer fills it
/// through its other name; the whole pipeline, the sandbox, in both watch modes.
@Suite(.serialized) struct IngestHardLinkTests {
    /// A clip hard-linked into the inbox (header complete, the file preallocated to its full size)
    /// while a writer goes on filling it through its other name: in both modes it is taken only once the
    /// writer is done — what is published is the whole clip — and the archive holds a verified copy of its
    /// own, which the writer's later writes to the other name do not change.
    @Test(.timeLimit(.minutes(6)), arguments: ["inotify", "poll"])
    func aHardLinkedFileIsWaitedForAndArchivedAsACopy(mode: String) async throws {
        let dir = try TempDir()
        var c = try TestPipelines.config(root: dir.url.appendingPathComponent("p"), targets: "targets: [youtube:main]", settle: "300ms", grace: "30s")
        if mode == "poll" { c.watch.mode = .poll; c.watch.pollInterval = .milliseconds(100) }
        // A writer that pauses 400 ms between writes keeps an open file unfinished; a second of stillness ends it.
        c.watch.openQuiet = .milliseconds(1500)
        let inbox = c.paths.inbox
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        let (data, moovEnd) = try ArrivalTests.faststartClip(seconds: 3)
        let outside = dir.url.appendingPathComponent("render/h.mp4")
        try FileManager.default.createDirectory(at: outside.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Preallocated to the full size (zeros), the header written, then linked into the inbox.
        try Data(count: data.count).write(to: outside)
        let fd = open(outside.path, O_WRONLY)
        #expect(fd >= 0)
        _ = data.prefix(moovEnd).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        try dir.write("p/inbox/h.yaml", "title: linked\n")
        #expect(link(outside.path, inbox.appendingPathComponent("h.mp4").path) == 0)
        let rest = data.suffix(from: moovEnd)
        let writer = Thread {
            // The media filled in through the other name, a slice every 400 ms.
            let step = max(1, rest.count / 8)
            var off = moovEnd
            while off < data.count {
                Thread.sleep(forTimeInterval: 0.4)
                let n = min(step, data.count - off)
                _ = data[off..<(off + n)].withUnsafeBytes { pwrite(fd, $0.baseAddress, n, off_t(off)) }
                off += n
            }
        }
        writer.start()
        let p = try await TestPipelines.runOnce(c, timeout: .seconds(240))
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            #expect(drops.count == 1 && drops.first?.state == .archived, "\(drops.map { "\($0.state) \($0.reasonCode ?? "") \($0.reasonMessage ?? "")" })")
            #expect(drops.first?.clipSha256 == FileHashing.sha256(data: data), "taken before the writer was done")
            let videos = await p.sandbox!.state.allVideos()
            #expect(videos.map(\.sha256) == [FileHashing.sha256(data: data)])
            // The archive's file is its own: a copy, not the writer's inode.
            let archivedRel = try #require(files(under: c.paths.archive).first { $0.hasSuffix("h.mp4") })
            let archived = c.paths.archive.appendingPathComponent(archivedRel)
            var a = stat(), o = stat()
            #expect(stat(archived.path, &a) == 0 && stat(outside.path, &o) == 0)
            #expect(a.st_ino != o.st_ino && a.st_nlink == 1 && o.st_nlink == 1)
            #expect(!FileManager.default.fileExists(atPath: inbox.appendingPathComponent("h.mp4").path))
            // The writer goes on through its name: the archive does not change.
            _ = Data("scribble".utf8).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            close(fd)
            #expect(try Data(contentsOf: archived) == data)
        }
    }
}

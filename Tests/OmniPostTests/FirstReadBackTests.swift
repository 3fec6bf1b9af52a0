import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 30: a post whose first read-back asks nobody — a folder target's file, looked at — is read as
/// it is recorded, in the same commit, so its drop's `result.json` is written once, with `verified`
/// settled in it. Read by the verify stage a moment later, the read settled after the filing in most
/// drops and the result was written a second time (two fsyncs, a new inode, a decode and an encode).
/// Seen by the kernel: an inotify watch on outbox/ for the whole run.
@Suite struct FirstReadBackTests {
    /// The clip with `i`'s own bytes appended (an MP4 `free` box), so no two drops are duplicates.
    static func distinct(_ clip: URL, _ i: Int) throws -> Data {
        var bytes = try Data(contentsOf: clip)
        let payload = Array("first-read-\(i)".utf8)
        let size = UInt32(8 + payload.count)
        bytes.append(contentsOf: [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + Array("free".utf8) + payload)
        return bytes
    }


    @Test(.timeLimit(.minutes(3))) func aFolderPostVerifiedAtOnceWritesItsDropsResultOnce() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [folder:nas]")
        try config.paths.createAll()
        let watch = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        #expect(watch >= 0)
        defer { close(watch) }
        #expect(inotify_add_watch(watch, config.paths.outbox.path, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0)
        // Three drops at once, so the upload, the verify stage and the archive overlap as in a burst.
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        for i in 0..<3 {
            try Self.distinct(clip, i).write(to: config.paths.inbox.appendingPathComponent("c\(i).mp4"))
            try Data("title: read at once \(i)\n".utf8).write(to: config.paths.inbox.appendingPathComponent("c\(i).yaml"))
        }
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let ledger = p.context.ledger
            let published = try ledger.deliveries(in: [.published])
            #expect(published.count == 3)
            let written = InotifyNames.read(watch).filter { $0.hasSuffix(".result.json") }
            for d in published {
                #expect(try ledger.drop(d.dropId)?.state == .archived)
                // Made once under its name, never replaced.
                #expect(written.filter { $0 == "\(d.dropId).result.json" }.count == 1, "\(d.dropId): \(written)")
                // The read made with the post: verified in the ledger, the result and the events, read once.
                let check = try #require(try ledger.postCheck(deliveryId: d.id!))
                #expect(check.state == .verified && check.reads == 1 && check.remoteId == d.remoteId, "\(check)")
                #expect(check.detail?.contains("bytes") == true, "\(check.detail ?? "")")
                let report = try JSONCoding.decoder().decode(
                    DropReport.self, from: Data(contentsOf: config.paths.outbox.appendingPathComponent("\(d.dropId).result.json")))
                #expect(report.targets.first?.verified?.state == "verified" && report.targets.first?.verified?.saw?.contains("bytes") == true)
                let events = try ledger.events(forDrop: d.dropId)
                #expect(events.filter { $0.stage == "verify" && $0.toState == "verified" }.count == 1)
                // Entered with the post: the published event and the verified one in the same commit, in that order.
                let publishedAt = try #require(events.firstIndex { $0.deliveryId == d.id && $0.toState == "published" })
                let verifiedAt = try #require(events.firstIndex { $0.stage == "verify" && $0.toState == "verified" })
                #expect(publishedAt < verifiedAt)
            }
        }
    }
}

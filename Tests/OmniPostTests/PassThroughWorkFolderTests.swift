import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 30: a clip published as it is (plan `pass`) needs no private folder — ffmpeg never runs for it,
/// and the upload reads the clip the drop took. Making and removing `work/<drop>/` was ~18 % of such a
/// drop's CPU on ext4 (new inodes). Seen by the kernel: an inotify watch on work/ for the whole run.
@Suite struct PassThroughWorkFolderTests {
    @Test(.timeLimit(.minutes(3))) func aPassThroughDropMakesNoWorkFolder() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        try config.paths.createAll()
        let watch = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        #expect(watch >= 0)
        defer { close(watch) }
        #expect(inotify_add_watch(watch, config.paths.work.path, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0)
        try TestPipelines.drop(try Clips.make(width: 1280, height: 720, seconds: 2), as: "as-is", sidecar: "title: as it is\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let delivery = try #require(try p.context.ledger.allDeliveries().first)
            #expect(delivery.plan == .pass && delivery.state == .published, "\(delivery.plan) \(delivery.state)")
            let drop = try #require(try p.context.ledger.drop(delivery.dropId))
            #expect(drop.state == .archived)
            // Every name created in work/ during the run, as the kernel reported it.
            let created = InotifyNames.read(watch)
            #expect(created.isEmpty, "made in work/: \(created)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: config.paths.work.path).isEmpty)
        }
    }
}

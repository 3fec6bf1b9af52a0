import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline
@testable import OmniPostPlatforms
import OmniPostSandbox
import Testing

/// `playlists:` on YouTube: by id, or by name — made once when missing with `create_missing: true` and
/// reused by the next post — each post added once (`playlistItems.insert`); a name two playlists share,
/// or a missing one without `create_missing`, is refused with the reason while the post stands. What a
/// name resolved to outlives the daemon; a playlist deleted on YouTube is resolved again.
@Suite(.serialized) struct YouTubePlaylistTests {
    @Test func aPlaylistMadeOnceIsReusedAndEachPostIsAddedOnce() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        let sidecar = "title: \"{stem}\"\nprivacy: public\nplaylists:\n  - {name: Hikes 2026, create_missing: true}\n  - PLexisting0000001\n"
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "first", sidecar: sidecar, into: config)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1.2), as: "second", sidecar: sidecar, into: config)
        let p = try await TestPipelines.runOnce(config) { pipeline in
            let s = try #require(pipeline.sandbox)
            await s.state.addPlaylist(SandboxPlaylist(id: "PLexisting0000001", account: "youtube:main", title: "Existing", privacy: "public"))
        }
        try await stopping(p) {
            let state = p.sandbox!.state
            let deliveries = try p.context.ledger.allDeliveries()
            #expect(deliveries.count == 2 && deliveries.allSatisfy { $0.state == .published }, "\(deliveries.map { "\($0.state) \($0.errorMessage ?? "")" })")
            let lists = await state.playlists()
            let hikes = lists.filter { $0.title == "Hikes 2026" }
            #expect(hikes.count == 1 && hikes.first?.privacy == "public", "\(lists)")
            #expect(await state.requestCounts["youtube.playlists.insert"] == 1)
            let videos = Set(await state.allVideos().map(\.id))
            #expect(Set(hikes.first?.items.map(\.videoId) ?? []) == videos && hikes.first?.items.count == 2)
            #expect(Set(lists.first { $0.id == "PLexisting0000001" }?.items.map(\.videoId) ?? []) == videos)
            for d in deliveries {
                #expect(try p.context.ledger.followUps(deliveryId: d.id!).allSatisfy { $0.state == .made })
            }
        }
    }

    /// A name resolved once per account is kept in the ledger (`remote_names`): the daemon started again
    /// lists nothing and makes nothing for the next post. A playlist deleted on YouTube since is told by
    /// `playlistNotFound` on `playlistItems.insert`: the name is resolved again, once, and made anew.
    @Test(.timeLimit(.minutes(4))) func aResolvedNameIsReusedAcrossRestartsAndResolvedAgainOnceDeleted() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        let sidecar = "title: \"{stem}\"\nprivacy: public\nplaylists:\n  - {name: Hikes 2026, create_missing: true}\n"
        func run(_ stem: String, seconds: Double, before: (@Sendable (Pipeline) async throws -> Void)? = nil) async throws -> (Int, Int, [SandboxPlaylist], String?) {
            try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: seconds), as: stem, sidecar: sidecar, into: config)
            let p = try await TestPipelines.runOnce(config, before: before)
            return try await stopping(p) {
                let deliveries = try p.context.ledger.allDeliveries()
                #expect(deliveries.allSatisfy { $0.state == .published }, "\(deliveries.map { "\($0.state) \($0.errorMessage ?? "")" })")
                for d in deliveries { #expect(try p.context.ledger.followUps(deliveryId: d.id!).allSatisfy { $0.state == .made }) }
                let counts = await p.sandbox!.state.requestCounts
                let kept = try p.context.ledger.remoteName(account: "youtube:main", kind: YouTubeAdapter.playlistKind, name: "Hikes 2026")
                return (counts["youtube.playlists.list"] ?? 0, counts["youtube.playlists.insert"] ?? 0, await p.sandbox!.state.playlists(), kept)
            }
        }
        let (lists1, made1, after1, kept1) = try await run("first", seconds: 1)
        #expect(lists1 == 1 && made1 == 1 && after1.count == 1 && kept1 == after1.first?.id, "\(lists1) \(made1) \(after1)")
        // The daemon again: the name is the ledger's; nothing listed, nothing made.
        let (lists2, made2, after2, _) = try await run("second", seconds: 1.2)
        #expect(lists2 == 0 && made2 == 0, "\(lists2) \(made2)")
        #expect(after2.count == 1 && after2.first?.items.count == 2, "\(after2)")
        // Deleted on YouTube: the next post finds out on insert and resolves the name again, once.
        let gone = try #require(after2.first?.id)
        let (lists3, made3, after3, kept3) = try await run("third", seconds: 1.4) { p in
            let s = try #require(p.sandbox)
            await s.state.deletePlaylist(gone)
        }
        #expect(lists3 == 1 && made3 == 1, "\(lists3) \(made3)")
        #expect(after3.count == 1 && after3.first?.id != gone && after3.first?.items.count == 1 && kept3 == after3.first?.id, "\(after3)")
    }

    @Test func aNameTwoPlaylistsShareIsRefusedWithTheReasonAndThePostStands() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        try TestPipelines.drop(
            try Clips.make(width: 320, height: 240, seconds: 1), as: "walk",
            sidecar: "title: walk\nplaylists: [Twice, {name: Nowhere}]\n", into: config)
        let p = try await TestPipelines.runOnce(config) { pipeline in
            let s = try #require(pipeline.sandbox)
            for id in ["PLtwice00000000001", "PLtwice00000000002"] {
                await s.state.addPlaylist(SandboxPlaylist(id: id, account: "youtube:main", title: "Twice", privacy: "public"))
            }
        }
        try await stopping(p) {
            let d = try #require(try p.context.ledger.allDeliveries().first)
            #expect(d.state == .published)
            let rows = try p.context.ledger.followUps(deliveryId: d.id!)
            let twice = try #require(rows.first { $0.key == "playlist:name:Twice" })
            #expect(twice.state == .failed && twice.detail?.contains("2 of the channel's playlists are named 'Twice'") == true, "\(twice)")
            let nowhere = try #require(rows.first { $0.key == "playlist:name:Nowhere" })
            #expect(nowhere.state == .failed && nowhere.detail?.contains("create_missing: true") == true, "\(nowhere)")
            #expect(await p.sandbox!.state.playlists().allSatisfy { $0.items.isEmpty })
        }
    }
}

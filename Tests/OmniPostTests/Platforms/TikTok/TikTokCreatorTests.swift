import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// TikTok's creator rules: creator_info is read before each post and obeyed (an interaction the creator
/// turned off stays off, a clip longer than the creator may post is refused before any init), and an app
/// TikTok has not audited (`audited: false`) is held to SELF_ONLY at validation, where its sandbox
/// refuses anything else as TikTok does.
@Suite struct TikTokCreatorTests {
    static let publicPost = PublishMetadata(title: "hello", description: "", tags: [], privacy: .public, publishAt: nil, options: [:])

    @Test func theCreatorsOwnSettingsAreObeyed() async throws {
        let dir = try TempDir()
        let rig = try await PlatformRig.make(TikTokPlatform.self, dir, size: 200_000)
        try await stopping(rig.server) {
            await rig.server.grant(platform: "tiktok", account: "tiktok:brand", ["comment_disabled": "true", "duet_disabled": "true"])
            _ = try await rig.deliver(Self.publicPost)
            let upload = try #require(await rig.state.tiktokUploads.values.first)
            #expect(upload.disabled == ["disable_comment", "disable_duet"])

            // The creator may post 5 s at most: a 12 s clip is refused before any init, in TikTok's terms.
            await rig.server.grant(platform: "tiktok", account: "tiktok:brand", ["max_video_post_duration_sec": "5"])
            var job = rig.job(Self.publicPost)
            job.durationS = 12
            let inits = await rig.state.requestCounts["tiktok.init"]
            let e = await #expect(throws: DeliveryError.self) {
                try await rig.adapter.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            }
            #expect(e?.code == .durationOutOfRange && e?.kind == .permanent, "\(String(describing: e))")
            #expect(e?.message.contains("up to 5 s") == true)
            #expect(await rig.state.requestCounts["tiktok.init"] == inits)
        }
    }

    /// The sandbox refuses what TikTok refuses an unaudited app, and the adapter says what to set.
    @Test func anUnauditedAppsPublicInitIsRefusedAsTikTokRefusesIt() async throws {
        let dir = try TempDir()
        let rig = try await PlatformRig.make(TikTokPlatform.self, dir, size: 200_000)
        try await stopping(rig.server) {
            await rig.server.grant(platform: "tiktok", account: "tiktok:brand", ["audited": "false"])
            let e = await #expect(throws: DeliveryError.self) { try await rig.deliver(Self.publicPost) }
            #expect(e?.kind == .permanent && e?.message.contains("unaudited_client_can_only_post_to_private_accounts") == true)
            #expect(e?.message.contains("`audited: false`") == true)
            var privately = Self.publicPost
            privately.privacy = .private
            _ = try await rig.deliver(privately)
            #expect(await rig.state.allVideos().map(\.privacy) == ["SELF_ONLY"])
        }
    }

    /// `audited: false` under the account: a public drop is told at validation, at its privacy line, and
    /// nothing is sent; a private one publishes.
    @Test func anUnauditedAppsPublicDropIsRefusedAtValidation() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(
            root: dir.url, extra: "accounts:\n  tiktok:main: {audited: false}", targets: "targets: [tiktok:main]")
        let clip = try Clips.make(width: 360, height: 640, seconds: 4)
        try TestPipelines.drop(clip, as: "open", sidecar: "title: Open\nprivacy: public\n", into: config)
        try TestPipelines.drop(clip, as: "closed", sidecar: "title: Closed\nprivacy: private\nrepublish: true\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            let open = try #require(drops.first { $0.stem == "open" })
            #expect(open.state == .failed && open.reasonCode == "invalid_value", "\(open.reasonMessage ?? "")")
            #expect(open.reasonMessage?.contains("not audited") == true && open.reasonLocation == "open.yaml:2:10", "\(open.reasonLocation ?? "")")
            let closed = try #require(drops.first { $0.stem == "closed" })
            #expect(try p.context.ledger.deliveries(forDrop: closed.id).map(\.state) == [.published])
            #expect(await p.sandbox!.state.allVideos().map(\.privacy) == ["SELF_ONLY"])
        }
    }

    /// `post_mode: inbox`: the clip goes to the creator's inbox as a draft (Upload, source_info only) —
    /// no creator_info, no text, no public post, and an unaudited app may do it.
    @Test func theInboxModeSendsADraftAndPostsNothing() async throws {
        let dir = try TempDir()
        let rig = try await PlatformRig.make(TikTokPlatform.self, dir, size: 200_000)
        try await stopping(rig.server) {
            await rig.server.grant(platform: "tiktok", account: "tiktok:brand", ["audited": "false"])
            var draft = Self.publicPost
            draft.options["post_mode"] = "inbox"
            #expect(rig.adapter.preflight(draft) == nil)
            let out = try await rig.deliver(draft)
            let upload = try #require(await rig.state.tiktokUploads.values.first)
            #expect(upload.inbox && upload.status == "SEND_TO_USER_INBOX" && upload.title.isEmpty)
            #expect(out.remoteId == upload.publishID && out.url.isEmpty)
            #expect(await rig.state.allVideos().isEmpty)
            #expect(await rig.state.requestCounts["tiktok.creator_info"] == nil)
        }
    }
}

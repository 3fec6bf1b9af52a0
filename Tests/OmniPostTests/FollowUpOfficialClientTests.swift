import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// What our adapters write after a post (issue 26: subtitle tracks, captions, first comments), read back
/// by each platform's official client against the sandbox — PyVimeo for Vimeo's text tracks,
/// facebook-business for a Facebook video's captions and comments and an Instagram reel's comments — and
/// the client's own writes of the same things, accepted by the sandbox unchanged.
@Suite(.serialized) struct FollowUpOfficialClientTests {
    static let python = SandboxOfficialClientTests.python
    static var ready: Bool { FileManager.default.isExecutableFile(atPath: python) }
    static func script(_ name: String) -> String { PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/\(name)").path }
    static let srt = "1\n00:00:00,000 --> 00:00:01,000\nHello.\n"

    /// Our adapter's follow-ups on a post the rig delivered: the track (`language`) and the first comment.
    static func follow(_ rig: ConformanceRig, _ post: PublishOutcome, language: String, name: String, comment: String?) async throws {
        let file = rig.dir.file("track.\(language).srt")
        try Data(srt.utf8).write(to: file)
        var owed: [FollowUp] = [.subtitles(file: file.path, format: .srt, language: language, name: name)]
        if let comment { owed.append(.firstComment(comment)) }
        let run = try await FollowUpRun.run(owed, on: post, adapter: rig.adapter(), log: MemoryFollowUpLog())
        #expect(run.made.count == owed.count && run.failed.isEmpty, "\(run)")
    }

    @Test(.enabled(if: ready && PythonServer.has("vimeo")), .timeLimit(.minutes(3)))
    func pyVimeoReadsOurTextTrackAndAddsItsOwn() async throws {
        let f = try #require(ConformanceFixture.all.first { $0.name == "vimeo" })
        try await ConformanceRig.with(f) { rig in
            let post = try await rig.deliver()
            try await Self.follow(rig, post, language: "de", name: "Deutsch", comment: nil)
            let vtt = rig.dir.file("captions.fr.vtt")
            try Data("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nBonjour.\n".utf8).write(to: vtt)
            // Vimeo's tokens do not expire: the account's own.
            let token = try #require(try rig.account.text("access_token"))
            let r = try await offPool {
                try SandboxOfficialClientTests.run(Self.script("vimeo_official_client.py"), [rig.account.endpoint, token, "texttracks", "/videos/\(post.remoteId)", vtt.path, "fr"])
            }
            let before = try #require(r["before"] as? [[String: Any]], "\(r.value)")
            // What our adapter wrote, as the library reads it: one active subtitles track, its language and name.
            #expect(before.count == 1 && before[0]["language"] as? String == "de" && before[0]["name"] as? String == "Deutsch", "\(before)")
            #expect(before.first?["active"] as? Bool == true && before.first?["type"] as? String == "subtitles", "\(before)")
            // The library's own track: accepted as it sends it (a form POST, the file PUT to the link), kept
            // with the type it asked for.
            let after = try #require(r["after"] as? [[String: Any]], "\(r.value)")
            let fr = try #require(after.first { $0["language"] as? String == "fr" }, "\(after)")
            #expect(fr["type"] as? String == "captions" && fr["name"] as? String == "captions.fr.vtt" && fr["active"] as? Bool == false, "\(fr)")
            let kept = await rig.state.vimeoTextTracks(of: post.remoteId)
            #expect(kept.first { $0.language == "fr" }?.text.contains("Bonjour.") == true, "\(kept)")
            #expect(kept.first { $0.language == "de" }?.text.hasPrefix("WEBVTT") == true, "\(kept)")
        }
    }

    @Test(.enabled(if: ready && PythonServer.has("facebook_business")), .timeLimit(.minutes(3)))
    func facebookBusinessSDKReadsOurCaptionsAndCommentAndWritesItsOwn() async throws {
        let f = try #require(ConformanceFixture.all.first { $0.name == "facebook" })
        try await ConformanceRig.with(f) { rig in
            let post = try await rig.deliver()
            try await Self.follow(rig, post, language: "en", name: "English", comment: "First, from OmniPost.")
            let captions = rig.dir.file("reel.de_DE.srt")
            try Data(Self.srt.replacingOccurrences(of: "Hello.", with: "Hallo.").utf8).write(to: captions)
            let token = try await rig.settings.tokens.accessToken()
            let r = try await offPool {
                try SandboxOfficialClientTests.run(Self.script("meta_official_client.py"), ["facebook", rig.account.endpoint, token, post.remoteId, captions.path])
            }
            let before = try #require(r["before"] as? [String: Any], "\(r.value)")
            #expect(before["captions"] as? [String] == ["en_US"] && before["comments"] as? [String] == ["First, from OmniPost."], "\(r.value)")
            let after = try #require(r["after"] as? [String: Any], "\(r.value)")
            #expect(after["captions"] as? [String] == ["de_DE", "en_US"], "\(r.value)")
            #expect(after["comments"] as? [String] == ["First, from OmniPost.", "written by facebook-business"], "\(r.value)")
            // A comment as the user, not the Page, is refused as the Graph API refuses it (#200).
            #expect(r["user_refused"] as? Int == 200, "\(r.value)")
            let kept = await rig.state.fbCaptions(of: post.remoteId)
            #expect(kept.first { $0.language == "de_DE" }?.text.contains("Hallo.") == true && kept.first { $0.language == "en_US" }?.text.contains("Hello.") == true, "\(kept)")
        }
    }

    @Test(.enabled(if: ready && PythonServer.has("facebook_business")), .timeLimit(.minutes(3)))
    func facebookBusinessSDKReadsOurInstagramCommentAndWritesItsOwn() async throws {
        let f = try #require(ConformanceFixture.all.first { $0.name == "instagram" })
        try await ConformanceRig.with(f) { rig in
            let post = try await rig.deliver()
            let run = try await FollowUpRun.run([.firstComment("First, from OmniPost.")], on: post, adapter: rig.adapter(), log: MemoryFollowUpLog())
            #expect(run.made.count == 1, "\(run)")
            let token = try await rig.settings.tokens.accessToken()
            let r = try await offPool {
                try SandboxOfficialClientTests.run(Self.script("meta_official_client.py"), ["instagram", rig.account.endpoint, token, post.remoteId])
            }
            let before = try #require(r["before"] as? [[String: Any]], "\(r.value)")
            #expect(before.count == 1 && before[0]["text"] as? String == "First, from OmniPost." && !(before[0]["username"] as? String ?? "").isEmpty, "\(r.value)")
            #expect(r["after"] as? [String] == ["First, from OmniPost.", "written by facebook-business"], "\(r.value)")
            #expect(r["empty_refused"] as? Int == 100, "\(r.value)")
            #expect(await rig.state.comments(platform: "instagram", post: post.remoteId)?.count == 2)
        }
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
import OmniPostSandbox
import Testing

/// YouTube's own settings of a video as `overrides: {youtube: …}` keys, checked against its descriptor at
/// the sidecar's line and sent with videos.insert: the category by name, the default language, the
/// licence, whether it may be embedded, made for kids, and the altered or synthetic content disclosure.
@Suite struct YouTubeVideoSettingsTests {
    @Test func settingsReachTheVideo() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main",
            sidecar: """
                title: Settings
                privacy: public
                overrides:
                  youtube: {category: music, default_language: de, license: creativeCommon, embeddable: false, made_for_kids: false, contains_synthetic_media: true}

                """
        ) { p, _ in
            let v = try #require(await p.sandbox!.state.allVideos().first)
            #expect(v.categoryId == "10" && v.defaultLanguage == "de" && v.license == "creativeCommon", "\(v)")
            #expect(v.embeddable == false && v.madeForKids == false && v.containsSyntheticMedia == true, "\(v)")
        }
    }

    @Test(arguments: [
        ("license: cc", "youtube.license"), ("category: cooking", "youtube.category"), ("default_language: deutsch!", "youtube.default_language"),
        ("embeddable: maybe", "youtube.embeddable")
    ])
    func aValueYouTubeDoesNotTakeIsAnsweredAtItsLine(_ setting: String, _ key: String) throws {
        let m = try Manifest.parse(text: "title: x\noverrides:\n  youtube:\n    \(setting)\n", file: "c.yaml")
        let e = try #require(PlatformRegistry.rules.problems(of: m, file: "c.yaml").first)
        #expect(e.location?.line == 4, "\(e)")
        #expect(e.message.contains(key.split(separator: ".").last.map(String.init) ?? key), "\(e.message)")
    }
}

import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// How WeChat Channels' replica shows each conformance scenario, or why a case does not exist for a
/// platform reached by driving its creator page (RecipeConformanceTests holds every creator page to its failures).
extension WeChatChannelsPlatform: ConformanceSubject {
    static var conformance: ConformanceFixture {
        ConformanceFixture(
            module: WeChatChannelsPlatform.self, size: 600_000,
            accountYAML: { _ in "    min_gap: 0s\n    jitter: 0s\n" },
            adapter: { settings in RecipeAdapter(RecipeRig.browsing(settings)) },
            startRoute: "wechat_channels.upload_init", postRoute: "wechat_channels.publish",
            cut: .notApplicable("the creator page's own script sends the parts; a cut part is the page's to send again (the delivery is retried whole)"),
            redirect: .notApplicable("the creator page's own script sends the bytes, in a driven browser: no request of ours carries them"),
            startRedirect: .notApplicable("the creator page's own script starts the upload, in a driven browser: no request of ours starts it"),
            restart: .notApplicable("the creator page keeps no upload across browser sessions: an upload cut before publish starts again in a new page"),
            forget: .notApplicable("no upload session outlives its page"),
            rateLimit: .notApplicable("the page says 'too frequent' without a time: the delivery waits 30 minutes (RecipeConformanceTests)"),
            expireTokens: .notApplicable("a cookie session, not tokens: an ended session is auth_revoked (RecipeConformanceTests)"),
            revocation: .notApplicable("a cookie session: logging in again is `accounts add` (QR) or `import-cookies`"),
            refusal: .notApplicable("the page's refusals are its own words on the page (captcha, rules, limits: RecipeConformanceTests)"),
            lapse: .notApplicable("no upload session outlives its page"),
            processing: .notApplicable("the creator page reports no processing step before the post is listed"),
            pipelineFailure: .notApplicable("its failures are the page's (RecipeConformanceTests), not the shared faults"),
            readBack: .init(hidden: .notApplicable("the post is confirmed by finding it in the same content list the read-back reads: a post published there was shown")))
    }
}

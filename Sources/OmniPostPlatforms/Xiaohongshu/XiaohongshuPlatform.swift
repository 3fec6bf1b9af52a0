import Foundation
import OmniPostCore

/// Xiaohongshu (小红书) has no public publishing API: its creator center
/// (creator.xiaohongshu.com) is driven in headless Chromium by the recipe `recipes/xiaohongshu.yaml`.
/// The account signs in by QR code (`accounts add`) or with imported cookies.
package enum XiaohongshuPlatform: RecipePlatform {
    package static let sessionCookie = "web_session"
    package static let descriptor: PlatformDescriptor = {
        var d = PlatformDescriptor(
            name: "xiaohongshu", displayName: "Xiaohongshu", apiRoot: "https://creator.xiaohongshu.com", oauth: nil, sandboxTokenPath: "",
            defaultProfile: "xiaohongshu",
            accountFields: ["(cookies: `accounts add` by QR code, or `accounts import-cookies`)", "recipe (an override file)", "min_gap", "jitter"],
            capabilities: .init(
                upload: "driven browser (headless Chromium over the DevTools protocol, recipe as data): the creator center's own upload; a cut upload starts again",
                nativeScheduling: false, covers: "image (where the page offers it)",
                reconcile: "the note manager's list read for a new note of the title; never published again", quotas: "pacing per account (min_gap + jitter)"))
        d.settings = ["recipe", "min_gap", "jitter"]
        d.drivenBrowser = true
        // The content list, read in one browser session for every note asked about.
        d.readBack = .reads(batch: 50, cost: 0)
        return d
    }()
}

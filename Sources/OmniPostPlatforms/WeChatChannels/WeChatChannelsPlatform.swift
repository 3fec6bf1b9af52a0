import Foundation
import OmniPostCore

/// WeChat Channels (视频号) has no publishing API for a person's channel (its open APIs serve shops and
/// mini programs): the creator page "视频号助手" (channels.weixin.qq.com/platform/post/create) is driven in
/// headless Chromium by the recipe `recipes/wechat_channels.yaml`. The account signs in by scanning the
/// login page's QR code with WeChat (`accounts add`) or with imported cookies.
package enum WeChatChannelsPlatform: RecipePlatform {
    package static let sessionCookie = "sessionid"
    package static let descriptor: PlatformDescriptor = {
        var d = PlatformDescriptor(
            name: "wechat_channels", displayName: "WeChat Channels", apiRoot: "https://channels.weixin.qq.com", oauth: nil, sandboxTokenPath: "",
            defaultProfile: "wechat_channels",
            accountFields: ["(cookies: `accounts add` by QR code, or `accounts import-cookies`)", "recipe (an override file)", "min_gap", "jitter"],
            capabilities: .init(
                upload: "driven browser (headless Chromium over the DevTools protocol, recipe as data): 视频号助手's own upload; a cut upload starts again",
                nativeScheduling: false, covers: "the page's own frame",
                reconcile: "the content list (内容管理) read for a new post of the short title; never published again",
                quotas: "pacing per account (min_gap + jitter)"))
        d.settings = ["recipe", "min_gap", "jitter"]
        d.drivenBrowser = true
        return d
    }()
}

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OmniPostCore

/// WeChat Channels' creator page 视频号助手 as a replica under `/sandbox/wechat_channels/` (its pages are
/// `WeChatChannelsPages`; the login, QR, upload and publish routes every replica shares are
/// `ReplicaRoutes`): the post page and the content list, which the browser lands on after 发表. Every
/// page but the login page needs the `sessionid` cookie of a signed-in account; without one (or once
/// `sessionExpired` is set) it redirects to login.html, as the real site does.
enum WeChatChannelsRoutes: SandboxPlatform {
    static let name = "wechat_channels"
    static let root = "/sandbox/wechat_channels"
    /// The page's limits: a short title of at most 16 characters ("字数建议6-16个字符"), a description of
    /// at most 1,000.
    static let replica = ReplicaRoutes(
        platform: name, root: root, cookie: "sessionid", publishPath: "/cgi-bin/post/create",
        limits: .init(title: 16, titleSays: "短标题最多16个字符", description: 1000, descriptionSays: "描述最多1000个字"))

    /// A sandboxed pipeline's account brings a made-up `sessionid` cookie: it signs in as that account.
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        replica.grant(credentials, account: account, state: state)
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        replica.add(to: router, state: state, baseURL: baseURL, loginPath: "/login.html") { WeChatChannelsPages.login(qr: $0, qrImage: $1) }
        router.get("\(root)/platform") { req, _ -> Response in
            guard await replica.account(req, state) != nil else { return ReplicaRoutes.redirect("\(root)/login.html") }
            return ReplicaRoutes.html(WeChatChannelsPages.home())
        }
        router.get("\(root)/platform/post/create") { req, _ -> Response in
            guard await replica.account(req, state) != nil else { return ReplicaRoutes.redirect("\(root)/login.html") }
            return ReplicaRoutes.html(WeChatChannelsPages.createShell())
        }
        // The micro app's post form, loaded in the post page's iframe. An ended session sends the whole
        // page to login.html (the frame's own redirect would leave the login page inside the frame).
        router.get("\(root)/micro/content/post/create") { req, _ -> Response in
            await state.count("wechat_channels.publish_page")
            guard await replica.account(req, state) != nil else {
                return ReplicaRoutes.html("<!doctype html><script>top.location.href = '\(root)/login.html';</script>")
            }
            return ReplicaRoutes.html(WeChatChannelsPages.create(await state.replicaFaults(name)))
        }
        router.get("\(root)/platform/post/list") { req, _ -> Response in
            guard let account = await replica.account(req, state) else { return ReplicaRoutes.redirect("\(root)/login.html") }
            return ReplicaRoutes.html(WeChatChannelsPages.list(await state.replicaPosts(name, account: account)))
        }
    }
}

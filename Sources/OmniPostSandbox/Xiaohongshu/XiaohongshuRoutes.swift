import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OmniPostCore

/// Xiaohongshu's creator center as a replica under `/sandbox/xiaohongshu/` (its pages are
/// `XiaohongshuPages`; the login, QR, upload and publish routes every replica shares are `ReplicaRoutes`):
/// the publish page, the success page and the note manager. Every page but the login page needs the
/// `web_session` cookie of a signed-in account; without one (or once `sessionExpired` is set) it
/// redirects to the login page, as the real site does.
enum XiaohongshuRoutes: SandboxPlatform {
    static let name = "xiaohongshu"
    static let root = "/sandbox/xiaohongshu"
    /// The creator center's limits: a title of at most 20 characters, a body of at most 1,000.
    static let replica = ReplicaRoutes(
        platform: name, root: root, cookie: "web_session", publishPath: "/api/note/publish",
        limits: .init(title: 20, titleSays: "标题最多20个字", description: 1000, descriptionSays: "正文最多1000个字"))

    /// A sandboxed pipeline's account brings a made-up `web_session` cookie: it signs in as that account.
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        replica.grant(credentials, account: account, state: state)
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        replica.add(to: router, state: state, baseURL: baseURL, loginPath: "/login") { XiaohongshuPages.login(qr: $0, qrImage: $1) }
        router.get("\(root)/publish/publish") { req, _ -> Response in
            await state.count("xiaohongshu.publish_page")
            guard await replica.account(req, state) != nil else { return ReplicaRoutes.redirect("\(root)/login") }
            return ReplicaRoutes.html(XiaohongshuPages.publish(await state.xiaohongshuFaults()))
        }
        router.get("\(root)/publish/success") { req, _ -> Response in
            guard await replica.account(req, state) != nil else { return ReplicaRoutes.redirect("\(root)/login") }
            return ReplicaRoutes.html(XiaohongshuPages.success(note: ReplicaRoutes.escape(SandboxHTTP.query(req, "note_id") ?? "")))
        }
        router.get("\(root)/new/note-manager") { req, _ -> Response in
            guard let account = await replica.account(req, state) else { return ReplicaRoutes.redirect("\(root)/login") }
            return ReplicaRoutes.html(XiaohongshuPages.noteManager(await state.replicaPosts(name, account: account)))
        }
    }
}

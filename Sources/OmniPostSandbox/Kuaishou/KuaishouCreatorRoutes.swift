import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OmniPostCore

/// Kuaishou's creator page (cp.kuaishou.com) as a replica under `/sandbox/kuaishou-creator/`, for an
/// account that posts by the browser (`via: browser`) rather than the open platform: the publish page
/// ("上传视频", one text field — the work's description `#work-description-edit`, no title — "发布") and
/// the works list /article/manage/video, which shows each work's first line. Like the real page, "发布"
/// is enabled while the upload still runs (always, not only on demand): publish clicked then is refused
/// ("视频上传中，请稍后发布") and counted; "发布" then asks once more, "确认发布". Pages need the
/// `kuaishou.web.cp.api_st` cookie; without it they send the browser to the passport login
/// (passport.kuaishou.com/pc/account/login/ on the live site; under this root here), which opens on
/// its phone form — the QR code (`div.qr-login img[alt="qrcode"]`) shows after `div.platform-switch`
/// is clicked, as social-auto-upload's Kuaishou uploader does.
enum KuaishouCreatorRoutes: SandboxPlatform {
    static let name = "kuaishou_creator"
    static let root = "/sandbox/kuaishou-creator"
    static let replica = ReplicaRoutes(
        platform: "kuaishou", root: root, cookie: "kuaishou.web.cp.api_st", publishPath: "/rest/cp/works/v2/video/pc/submit",
        limits: .init(title: nil, description: 500, descriptionSays: "作品描述最多500个字"))
    static let page = CreatorPage(
        root: root, site: "快手创作者服务平台", loginHeading: "手机号登录", landing: "/article/publish/video",
        published: "/article/manage/video", publishPath: replica.publishPath, uploadLabel: "上传视频", uploaded: "上传成功",
        fields: #"<div id="work-description-edit" class="editor" contenteditable="true" data-placeholder="添加合适的话题和描述，作品能获得更多推荐～"></div>"#,
        reads:
            "(() => { const t = document.getElementById('work-description-edit').innerText; const i = t.indexOf('\\n'); return {title: i < 0 ? t : t.slice(0, i), desc: t, original: false}; })()",
        publishLabel: "发布", captcha: "请完成安全验证<br>拖动滑块完成拼图", item: "video-item", idAttribute: "data-photo-id",
        loginPath: "/pc/account/login/",
        loginForm: """
            <div class="login-form"><div class="platform-switch" style="float:right;width:48px;height:48px;background:#ffe0d0;cursor:pointer" title="扫码登录"></div>
            <div class="phone-login"><div>{heading}</div><input placeholder="请输入手机号"> <input placeholder="请输入验证码"> <button>登录</button></div>
            <div class="qr-login" style="display:none"><div>快手APP扫码登录</div>{qr}</div></div>
            <script>
            document.querySelector('.platform-switch').addEventListener('click', () => {
              document.querySelector('.phone-login').style.display = 'none';
              document.querySelector('.qr-login').style.display = 'block';
            });
            </script>
            """,
        qrImage: #"<img alt="qrcode" width="200" height="200" data-qr="{id}" src="{src}">"#, confirmLabel: "确认发布")

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        // Kuaishou's trap: "发布" can be clicked before the upload finished.
        page.add(to: router, state: state, baseURL: baseURL, replica: replica, publishEarly: true)
    }
}

extension KuaishouRoutes {
    /// A sandboxed account that posts by the browser brings a made-up session cookie for the creator page.
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        KuaishouCreatorRoutes.replica.grant(credentials, account: account, state: state)
    }
}

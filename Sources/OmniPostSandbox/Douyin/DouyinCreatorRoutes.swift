import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OmniPostCore

/// Douyin's creator page (creator.douyin.com) as a replica under `/sandbox/douyin-creator/`, for an
/// account that posts by the browser (`via: browser`) rather than the Open Platform: the upload page
/// (upload area "点击上传 或直接将视频文件拖入此区域", "重新上传" once the video is in, the title field
/// "填写作品标题，为作品获得更多流量" of 30 characters, the description editor `.zone-container`, an optional
/// "声明原创", "发布"), and the works list /creator-micro/content/manage. Pages need the `sessionid` cookie;
/// without it they send the browser to the site's root, which is the login page for a visitor
/// ("扫码登录", the QR code a data: image in `#animate_qrcode_container`, as social-auto-upload reads it).
enum DouyinCreatorRoutes: SandboxPlatform {
    static let name = "douyin_creator"
    static let root = "/sandbox/douyin-creator"
    static let replica = ReplicaRoutes(
        platform: "douyin", root: root, cookie: "sessionid", publishPath: "/web/api/media/aweme/create",
        limits: .init(title: 30, titleSays: "作品标题最多30个字", description: 1000, descriptionSays: "作品描述最多1000个字"))
    static let page = CreatorPage(
        root: root, site: "抖音创作者中心", loginHeading: "扫码登录", landing: "/creator-micro/content/upload",
        published: "/creator-micro/content/manage", publishPath: replica.publishPath, uploadLabel: "点击上传 或直接将视频文件拖入此区域",
        uploaded: "重新上传",
        fields: """
            <div><input class="title semi-input" maxlength="30" placeholder="填写作品标题，为作品获得更多流量"></div>
            <div class="zone-container editor" contenteditable="true" data-placeholder="添加作品简介"></div>
            {original}
            """,
        reads:
            "({title: document.querySelector('input.title').value, desc: document.querySelector('.zone-container').innerText, original: !!(document.getElementById('original') || {}).checked})",
        publishLabel: "发布", captcha: "请完成身份验证<br>拖动滑块完成拼图", item: "video-card", idAttribute: "data-aweme-id",
        loginPath: "",
        loginForm: #"<div class="login-pannel"><div class="single_tab">{heading}</div><div id="animate_qrcode_container">{qr}</div><div>打开抖音APP扫码登录</div></div>"#,
        qrImage: #"<img width="200" height="200" data-qr="{id}" src="{src}" alt="">"#)

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        page.add(to: router, state: state, baseURL: baseURL, replica: replica)
    }
}

extension DouyinRoutes {
    /// A sandboxed account that posts by the browser brings a made-up `sessionid` cookie for the creator page.
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        DouyinCreatorRoutes.replica.grant(credentials, account: account, state: state)
    }
}

import Foundation
import Hummingbird

/// A one-page creator replica (Douyin's and Kuaishou's creator pages, the fallbacks of their APIs): a
/// QR login page, and the publish page built from what differs — the upload area's words, the fields,
/// the publish button's — around the same decoys, progress bar and script (`ReplicaScript`); then the
/// works list. Xiaohongshu's and WeChat Channels' replicas have pages of their own shape.
struct CreatorPage {
    var root: String
    /// The `<title>` suffix and the heading over the login QR code.
    var site: String
    var loginHeading: String
    /// Where the login page goes once the phone confirmed, and where publish lands (`?id=`).
    var landing: String
    var published: String
    var publishPath: String
    var uploadLabel: String
    var uploaded: String
    /// The fields between the upload area and the publish button (HTML), and the JS expression reading them.
    var fields: String
    var reads: String
    var publishLabel: String
    var captcha: String
    /// The list: item class (its title and length classes are `<item>-title`, `<item>-duration`) and id attribute.
    var item: String
    var idAttribute: String
    /// Where the login page is under `root` ("" for the site's root page, as Douyin's), and its form
    /// around the QR image (`{qr}`), as the platform draws it.
    var loginPath = "/login"
    var loginForm = #"<div class="qrcode-wrap"><div>{heading}</div>{qr}</div>"#
    /// The QR image's own markup (`{src}`, `{id}`).
    var qrImage = #"<img class="qrcode" width="200" height="200" data-qr="{id}" src="{src}">"#
    /// The second question after publish, if the page asks one (Kuaishou's "确认发布").
    var confirmLabel: String? = nil

    func shell(_ title: String, _ body: String) -> String {
        """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>\(title) - \(site)</title>
        <style>
        body{font-family:sans-serif;margin:0} .nav{position:fixed;left:0;top:0;width:160px;height:100%;background:#f7f7f7}
        .main{margin-left:180px;padding:16px;max-width:900px} .upload-content{border:1px dashed #ccc;padding:24px;margin:8px 0;text-align:center}
        .progress{height:6px;background:#eee;margin:8px 0} .bar{height:6px;width:0;background:#fe2c55} .editor{min-height:60px;border:1px solid #ddd;padding:6px;margin:8px 0}
        input.title{width:400px;padding:6px} .mask{position:fixed;inset:0;background:rgba(0,0,0,.5);display:flex;align-items:center;justify-content:center}
        .mask div{background:#fff;padding:32px} button{padding:8px 24px;margin:8px 0} .\(item){padding:8px;border-bottom:1px solid #eee}
        </style></head><body>
        <div class="nav"><div>首页</div><div>作品管理</div><div>数据中心</div></div>
        <div class="main">\(body)</div></body></html>
        """
    }

    func login(qr: String, qrImage: String) -> String {
        """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>登录 - \(site)</title>
        <style>.mask{position:fixed;inset:0;background:rgba(0,0,0,.5)} button{padding:8px 24px}</style></head><body>
        \(loginForm.replacingOccurrences(of: "{heading}", with: loginHeading).replacingOccurrences(
            of: "{qr}", with: self.qrImage.replacingOccurrences(of: "{id}", with: qr).replacingOccurrences(of: "{src}", with: qrImage)))
        \(ReplicaRoutes.loginPoll(root: root, qr: qr, landing: root + landing))</body></html>
        """
    }

    func publish(_ f: SandboxState.ReplicaFaults) -> String {
        let upload = f.changedLayout ? "选择视频文件上传" : uploadLabel
        let button = f.changedLayout ? "立即发布" : publishLabel
        let original = f.noOriginalBox ? "" : #"<label class="original"><input type="checkbox" id="original"> 声明原创</label>"#
        return shell(
            "发布视频",
            """
            <div class="upload-content decoy" style="position:absolute;left:-4000px;top:40px">
              <input type="file" accept="video/*" data-decoy="1"><div>\(upload)</div></div>
            <div class="upload-content decoy" style="opacity:0;position:absolute;top:0;left:0;width:10px;height:10px;overflow:hidden">
              <input type="file" accept="video/*" data-decoy="1"><div>\(upload)</div></div>
            <div class="upload-content real">
              <input type="file" accept="video/*" style="display:none" id="video">
              <div class="upload-tip">\(upload)</div>
              <div class="progress"><div class="bar" id="bar"></div></div><div class="stage" id="stage"></div>
            </div>
            \(fields.replacingOccurrences(of: "{original}", with: original))
            <div><button class="publish-btn" id="publish" \(f.publishEnabledEarly ? "" : "disabled")>\(button)</button></div>
            <div id="toast"></div>
            \(ReplicaScript(
                root: root, publishPath: publishPath, loginPath: loginPath.isEmpty ? "/" : loginPath, uploaded: uploaded, opener: ".real .upload-tip", fields: reads,
                success: "'\(root)\(published)?id=' + j.note_id", captcha: captcha, silent: f.silentPublish, confirm: confirmLabel).html)
            """)
    }

    func list(_ posts: [SandboxState.ReplicaPost]) -> String {
        let items = posts.map { p in
            "<div class=\"\(item)\" \(idAttribute)=\"\(p.id)\"><div class=\"\(item)-title\">\(ReplicaRoutes.escape(p.title))</div><div class=\"\(item)-duration\">\(ReplicaRoutes.duration(p.duration))</div></div>"
        }
        return shell("作品管理", "<div class=\"list\">\(items.joined())</div>")
    }

    /// Its routes under `replica`: the shared ones, the publish page at `landing` and the list at `published`.
    /// `publishEarly`: the page's "publish" is enabled while the upload runs (Kuaishou's), whatever the faults say.
    func add(
        to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String, replica: ReplicaRoutes,
        publishEarly: Bool = false
    ) {
        let page = self
        let login = "\(root)\(loginPath.isEmpty ? "/" : loginPath)"
        replica.add(to: router, state: state, baseURL: baseURL, loginPath: loginPath) { page.login(qr: $0, qrImage: $1) }
        if loginPath.isEmpty {
            // The site's root is its login page for a visitor; a signed-in one is sent on to publish.
            router.get("\(root)/") { req, _ -> Response in
                if await replica.account(req, state) != nil { return ReplicaRoutes.redirect("\(page.root)\(page.landing)") }
                let id = await state.replicaNewQR(replica.platform)
                return ReplicaRoutes.html(page.login(qr: id, qrImage: QRCodeSVG.dataURL(baseURL() + "\(page.root)/qr/\(id)")))
            }
        }
        router.get("\(root)\(landing)") { req, _ -> Response in
            guard await replica.account(req, state) != nil else { return ReplicaRoutes.redirect(login) }
            var f = await state.replicaFaults(replica.platform)
            if publishEarly { f.publishEnabledEarly = true }
            return ReplicaRoutes.html(page.publish(f))
        }
        router.get("\(root)\(published)") { req, _ -> Response in
            guard let account = await replica.account(req, state) else { return ReplicaRoutes.redirect(login) }
            return ReplicaRoutes.html(page.list(await state.replicaPosts(replica.platform, account: account)))
        }
    }
}

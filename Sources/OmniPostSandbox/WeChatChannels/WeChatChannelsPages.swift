import Foundation

/// The replica's pages, shaped after 视频号助手's real flow (channels.weixin.qq.com, as the widely used
/// uploader dreammis/social-auto-upload drives it): login.html with "微信扫码登录" and the QR image in
/// the login service's frame; the home /platform whose "发表视频" opens the post page
/// /platform/post/create, whose form is the micro app's iframe, with its upload area ("上传时长8小时内，大小不超过20GB…") and a progress bar
/// fed by real chunked uploads, the description editor (div.input-editor, where #topics are typed), the
/// short title ("填写短标题有机会获得更多流量", 16 at most), the location ("不显示位置"), a
/// "声明原创" box an account may not have, no collection ("添加到合集" shows only for an account with
/// one), and "发表" disabled until the upload completes; then the content list /platform/post/list.
/// The upload area is preceded by two decoys a careful client never uses (off-screen, transparent).
enum WeChatChannelsPages {
    static let root = WeChatChannelsRoutes.root

    static func shell(_ title: String, _ body: String) -> String {
        """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>\(title) - 视频号助手</title>
        <style>
        body{font-family:sans-serif;margin:0} .finder-nav{position:fixed;left:0;top:0;width:160px;height:100%;background:#f7f7f7}
        .main{margin-left:180px;padding:16px;max-width:900px} .upload-content{border:1px dashed #ccc;padding:24px;margin:8px 0;text-align:center}
        .progress{height:6px;background:#eee;margin:8px 0} .bar{height:6px;width:0;background:#07c160}
        .input-editor{min-height:60px;border:1px solid #ddd;padding:6px;margin:8px 0} input.short-title{width:400px;padding:6px}
        .mask{position:fixed;inset:0;background:rgba(0,0,0,.5);display:flex;align-items:center;justify-content:center}
        .mask div{background:#fff;padding:32px} button{padding:8px 24px;margin:8px 0} .post-feed-item{padding:8px;border-bottom:1px solid #eee}
        </style></head><body>
        <div class="finder-nav"><div>首页</div><div>内容管理</div><div>互动管理</div></div>
        <div class="main">\(body)</div></body></html>
        """
    }

    /// The login page: its QR code is drawn by WeChat's login service in a frame of another origin
    /// (open.weixin.qq.com/connect/qrconnect inside channels.weixin.qq.com), which the page's own
    /// script cannot read. Here that frame is a data: document — an opaque origin in the same renderer,
    /// as the real same-site frame is — so a client must reach into the frame itself to read the code.
    static func login(qr: String, qrImage: String) -> String {
        let frame = """
            <!doctype html><html><head><meta charset="utf-8"><style>body{margin:0;text-align:center;font-family:sans-serif}</style></head><body>
            <div id="app"><div class="title">微信登录</div><img class="qrcode" width="200" height="200" data-qr="\(qr)" src="\(qrImage)">
            <div class="info">请使用微信扫描二维码登录</div></div></body></html>
            """
        return """
            <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>视频号助手</title></head><body>
            <div class="login-qrcode-wrap"><div>微信扫码登录 视频号助手</div>
            <iframe class="login-frame" width="260" height="300" style="border:0" src="data:text/html;base64,\(Data(frame.utf8).base64EncodedString())"></iframe></div>
            \(ReplicaRoutes.loginPoll(root: root, qr: qr, landing: root + "/platform"))</body></html>
            """
    }

    /// The signed-in home /platform: "发表视频" opens the post page (a hidden description above it says
    /// the same words — the one a person could click is the button).
    static func home() -> String {
        shell(
            "首页",
            """
            <p class="post-desc" style="display:none">发表视频</p>
            <div class="post-entry"><button class="weui-desktop-btn weui-desktop-btn_primary" id="post-entry">发表视频</button></div>
            <script>
            document.getElementById('post-entry').addEventListener('click', () => {
              sessionStorage.setItem('post-entry', '1');
              location.href = '\(root)/platform/post/create';
            });
            </script>
            """)
    }

    /// /platform/post/create: the post form lives in the micro app's iframe (micro/content/post/create),
    /// which mounts only when the page was reached from /platform's "发表视频" — opened directly, the
    /// page stays an empty shell, as social-auto-upload found on the live site.
    static func createShell() -> String {
        shell(
            "发表视频",
            """
            <div id="container-wrap"></div>
            <script>
            if (sessionStorage.getItem('post-entry')) {
              sessionStorage.removeItem('post-entry');
              const f = document.createElement('iframe');
              f.name = 'content';
              f.src = '\(root)/micro/content/post/create';
              f.style.cssText = 'width:100%;height:860px;border:0';
              document.getElementById('container-wrap').appendChild(f);
            }
            </script>
            """)
    }

    /// The micro app's post form (the iframe's document).
    static func create(_ f: SandboxState.ReplicaFaults) -> String {
        let uploadLabel = f.changedLayout ? "将视频拖到此处，或点击上传" : "上传时长8小时内，大小不超过20GB"
        let publishLabel = f.changedLayout ? "发布" : "发表"
        let original = f.noOriginalBox ? "" : #"<label class="declare-original"><input type="checkbox" id="original"> 声明原创</label>"#
        return frameShell(
            """
            <div class="post-create"><h3>发表视频</h3>
            <div class="upload-content decoy" style="position:absolute;left:-4000px;top:40px">
              <input type="file" accept="video/mp4,video/x-m4v,video/*" data-decoy="1"><div>\(uploadLabel)</div></div>
            <div class="upload-content decoy" style="opacity:0;position:absolute;top:0;left:0;width:10px;height:10px;overflow:hidden">
              <input type="file" accept="video/mp4,video/x-m4v,video/*" data-decoy="1"><div>\(uploadLabel)</div></div>
            <div class="upload-content real">
              <input type="file" accept="video/mp4,video/x-m4v,video/*" style="display:none" id="video">
              <div class="upload-tip">\(uploadLabel)</div><div>，建议分辨率720p及以上，码率10Mbps以内，格式为MP4/H.264格式</div>
              <div class="progress"><div class="bar" id="bar"></div></div><div class="stage" id="stage"></div>
            </div>
            <div class="input-editor" contenteditable="true" data-placeholder="添加描述"></div>
            <div class="short-title-wrap"><span>短标题</span> <input class="short-title" maxlength="16" placeholder="填写短标题有机会获得更多流量"></div>
            <div class="position-display"><span>位置</span> <span class="position-option" id="location">不显示位置</span></div>
            \(original)
            <div class="form-btns"><button class="weui-desktop-btn weui-desktop-btn_primary" id="publish" \(f.publishEnabledEarly ? "" : "disabled")>\(publishLabel)</button></div>
            <div id="toast"></div></div>
            <script>
            let hideLocation = false;
            document.getElementById('location').addEventListener('click', () => { hideLocation = true; });
            </script>
            \(ReplicaScript(
                root: root, publishPath: "/cgi-bin/post/create", loginPath: "/login.html", uploaded: "上传完成", opener: ".real .upload-tip",
                fields: "({title: document.querySelector('input.short-title').value, desc: document.querySelector('.input-editor').innerText, original: !!(document.getElementById('original') || {}).checked, extras: {location: hideLocation ? 'hidden' : 'shown'}})",
                success: "'\(root)/platform/post/list?feed_id=' + j.note_id", captcha: "安全验证<br>拖动下方滑块完成拼图", silent: f.silentPublish,
                navigate: "top.location").html)
            """)
    }

    /// A document of the micro app's frame: the page's styles, no navigation of its own.
    static func frameShell(_ body: String) -> String {
        """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>发表视频</title>
        <style>
        body{font-family:sans-serif;margin:0;padding:16px} .upload-content{border:1px dashed #ccc;padding:24px;margin:8px 0;text-align:center}
        .progress{height:6px;background:#eee;margin:8px 0} .bar{height:6px;width:0;background:#07c160}
        .input-editor{min-height:60px;border:1px solid #ddd;padding:6px;margin:8px 0} input.short-title{width:400px;padding:6px}
        .mask{position:fixed;inset:0;background:rgba(0,0,0,.5);display:flex;align-items:center;justify-content:center}
        .mask div{background:#fff;padding:32px} button{padding:8px 24px;margin:8px 0}
        </style></head><body>\(body)</body></html>
        """
    }

    static func list(_ posts: [SandboxState.ReplicaPost]) -> String {
        let items = posts.map { p in
            "<div class=\"post-feed-item\" data-feed-id=\"\(p.id)\"><div class=\"post-title\">\(ReplicaRoutes.escape(p.title))</div><div class=\"post-duration\">\(ReplicaRoutes.duration(p.duration))</div></div>"
        }
        return shell("内容管理", "<div class=\"post-list\">\(items.joined())</div>")
    }
}

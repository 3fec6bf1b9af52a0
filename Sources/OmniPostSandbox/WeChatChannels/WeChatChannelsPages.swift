import Foundation

/// The replica's pages, shaped after 视频号助手's real flow (channels.weixin.qq.com, as the widely used
/// uploader dreammis/social-auto-upload drives it): login.html with "微信扫码登录" and a QR image; the post
/// page /platform/post/create with its upload area ("上传时长8小时内，大小不超过20GB…") and a progress bar
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

    static func login(qr: String, qrImage: String) -> String {
        """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>视频号助手</title></head><body>
        <div class="login-qrcode-wrap"><div>微信扫码登录 视频号助手</div>
        <img class="qrcode" width="200" height="200" data-qr="\(qr)" src="\(qrImage)"><div>请使用微信扫描二维码登录</div></div>
        <script>
        const id = '\(qr)';
        setInterval(async () => {
          const r = await fetch('\(root)/api/qrcode/status?qr_id=' + id);
          const j = await r.json();
          if (j.code_status === 2) location.href = '\(root)/platform/post/create';
        }, 300);
        </script></body></html>
        """
    }

    static func create(_ f: SandboxState.ReplicaFaults) -> String {
        let uploadLabel = f.changedLayout ? "将视频拖到此处，或点击上传" : "上传时长8小时内，大小不超过20GB"
        let publishLabel = f.changedLayout ? "发布" : "发表"
        let original = f.noOriginalBox ? "" : #"<label class="declare-original"><input type="checkbox" id="original"> 声明原创</label>"#
        return shell(
            "发表视频",
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
                success: "'list?feed_id=' + j.note_id", captcha: "安全验证<br>拖动下方滑块完成拼图", silent: f.silentPublish).html)
            """)
    }

    static func list(_ posts: [SandboxState.ReplicaPost]) -> String {
        let items = posts.map { p in
            "<div class=\"post-feed-item\" data-feed-id=\"\(p.id)\"><div class=\"post-title\">\(ReplicaRoutes.escape(p.title))</div><div class=\"post-duration\">\(ReplicaRoutes.duration(p.duration))</div></div>"
        }
        return shell("内容管理", "<div class=\"post-list\">\(items.joined())</div>")
    }
}

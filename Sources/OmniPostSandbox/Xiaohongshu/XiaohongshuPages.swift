import Foundation

/// The replica's pages, shaped after the creator center's real flow (creator.xiaohongshu.com, as the
/// widely used uploader dreammis/social-auto-upload drives it): a login box with "APP扫一扫登录" and a QR
/// image; the video publish page with its upload area and a progress bar fed by real chunked uploads
/// (XHR, 256 KiB at a time), a 20-character title field ("填写标题会有更多赞哦～"), a description editor
/// (`data-placeholder` "输入正文描述…"), a cover control, a "声明原创" box, a "发布" button — inside the
/// shadow root of an `<xhs-publish-btn>` — disabled until the upload completes; /publish/success after publishing; the note manager listing the notes. The
/// upload area is preceded by two decoys a careful client never uses: one off-screen, one
/// transparent — both with their own `input.upload-input`, both reporting their use.
enum XiaohongshuPages {
    static func shell(_ title: String, _ body: String) -> String {
        """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>\(title) - 小红书创作服务平台</title>
        <style>
        body{font-family:sans-serif;margin:0} .sidebar{position:fixed;left:0;top:0;width:160px;height:100%;background:#fafafa}
        .main{margin-left:180px;padding:16px;max-width:900px} .btn-publish-note{margin:16px;padding:8px;background:#ff2442;color:#fff;border-radius:8px}
        .upload-content{border:1px dashed #ccc;padding:24px;margin:8px 0;text-align:center} .progress{height:6px;background:#eee;margin:8px 0}
        .bar{height:6px;width:0;background:#ff2442} input.title{width:400px;padding:6px} .editor{min-height:60px;border:1px solid #ddd;padding:6px;margin:8px 0}
        .mask{position:fixed;inset:0;background:rgba(0,0,0,.5);display:flex;align-items:center;justify-content:center}
        .mask div{background:#fff;padding:32px} button{padding:8px 24px;margin:8px 0} .note-item{padding:8px;border-bottom:1px solid #eee}
        </style></head><body>
        <div class="sidebar"><div class="btn-publish-note">发布笔记</div><div>笔记管理</div></div>
        <div class="main">\(body)</div></body></html>
        """
    }

    /// The login box opens on its SMS form; the QR panel ("APP扫一扫登录") shows after the switch icon in
    /// the box's corner is clicked (social-auto-upload clicks `img.css-wemwzq`, the icon's generated class).
    static func login(qr: String, qrImage: String) -> String {
        """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>登录 - 小红书创作服务平台</title></head><body>
        <div class="login-box-container"><div class="login-box" style="position:relative;width:360px;padding:24px;border:1px solid #eee">
        <img class="css-wemwzq" width="40" height="40" alt="" style="position:absolute;right:0;top:0;cursor:pointer"
          src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='40' height='40'%3E%3Crect width='40' height='40' fill='%23ff2442'/%3E%3C/svg%3E">
        <div class="sms-login"><div>短信登录</div><input placeholder="手机号"> <input placeholder="验证码"> <button>登录</button></div>
        <div class="qr-login" style="display:none"><div>APP扫一扫登录</div><div><img class="qrcode-img" width="200" height="200" data-qr="\(qr)" src="\(qrImage)"></div>
        <div>请使用小红书APP扫码登录</div></div></div></div>
        <script>
        document.querySelector('img.css-wemwzq').addEventListener('click', () => {
          document.querySelector('.sms-login').style.display = 'none';
          document.querySelector('.qr-login').style.display = 'block';
        });
        </script>
        \(ReplicaRoutes.loginPoll(root: XiaohongshuRoutes.root, qr: qr, landing: XiaohongshuRoutes.root + "/publish/publish?from=homepage&target=video"))</body></html>
        """
    }

    /// The publish button as the creator center now draws it: a custom element whose button (and its
    /// words) live in an open shadow root — invisible to a search of the document alone. Its
    /// `disabled` is the inner button's, and a click on that button reaches the element's listeners.
    static let publishButton = #"""
        <script>
        customElements.define('xhs-publish-btn', class extends HTMLElement {
          constructor() {
            super();
            this.attachShadow({mode: 'open'}).innerHTML =
              '<style>button{padding:8px 24px;margin:8px 0;background:#ff2442;color:#fff;border:0;border-radius:16px}button:disabled{opacity:.5}</style><button class="publishBtn"></button>';
          }
          connectedCallback() {
            const b = this.shadowRoot.querySelector('button');
            b.textContent = this.getAttribute('label');
            b.disabled = this.hasAttribute('disabled');
          }
          get disabled() { return this.shadowRoot.querySelector('button').disabled; }
          set disabled(v) { this.shadowRoot.querySelector('button').disabled = v; }
        });
        </script>
        """#

    static func publish(_ f: SandboxStateFaultsView) -> String {
        let titlePlaceholder = f.changedLayout ? "添加标题" : "填写标题会有更多赞哦～"
        let publishLabel = f.changedLayout ? "立即发布" : "发布"
        let uploadLabel = f.changedLayout ? "点击或拖拽上传视频" : "拖拽视频到此或点击上传"
        let original = f.noOriginalBox ? "" : #"<label class="original"><input type="checkbox" id="original"> 声明原创</label>"#
        return shell(
            "发布笔记",
            """
            <div class="creator-tab">上传视频</div>
            <div class="upload-content decoy" style="position:absolute;left:-4000px;top:40px">
              <input class="upload-input" type="file" accept="video/*" data-decoy="1"><div>拖拽视频到此或点击上传</div></div>
            <div class="upload-content decoy" style="opacity:0;position:absolute;top:0;left:0;width:10px;height:10px;overflow:hidden">
              <input class="upload-input" type="file" accept="video/*" data-decoy="1"><div>拖拽视频到此或点击上传</div></div>
            <div class="upload-content real">
              <input class="upload-input" type="file" accept="video/*" style="display:none" id="video">
              <div class="drag-text">\(uploadLabel)</div>
              <div class="preview-new"><div class="progress"><div class="bar" id="bar"></div></div><div class="stage" id="stage"></div></div>
            </div>
            <div><input class="title" maxlength="20" placeholder="\(titlePlaceholder)"></div>
            <div class="editor" contenteditable="true" data-placeholder="输入正文描述，真诚有价值的分享予人温暖"></div>
            <div class="cover-plugin"><input type="file" accept="image/*" style="display:none" id="cover"><div class="cover-plugin-title">设置封面</div></div>
            \(original)
            \(publishButton)
            <div class="submit"><xhs-publish-btn id="publish" label="\(publishLabel)" \(f.publishEnabledEarly ? "" : "disabled")></xhs-publish-btn></div>
            <div id="toast"></div>
            \(ReplicaScript(
                root: XiaohongshuRoutes.root, publishPath: "/api/note/publish", opener: ".real .drag-text",
                fields: "({title: document.querySelector('input.title').value, desc: document.querySelector('.editor').innerText, original: !!(document.getElementById('original') || {}).checked})",
                success: "'success?note_id=' + j.note_id", captcha: "请完成安全验证<br>拖动滑块完成拼图", silent: f.silentPublish).html)
            """)
    }

    static func success(note: String) -> String {
        shell("发布成功", "<div class=\"success\">发布成功</div><div>笔记 \(note) 已发布</div>")
    }

    static func noteManager(_ notes: [SandboxState.XiaohongshuNote]) -> String {
        let items = notes.map { n in
            "<div class=\"note-item\" data-note-id=\"\(n.id)\"><div class=\"note-title\">\(escape(n.title))</div><div class=\"note-duration\">\(ReplicaRoutes.duration(n.duration))</div></div>"
        }
        return shell("笔记管理", "<div class=\"note-list\">\(items.joined())</div>")
    }

    static func escape(_ s: String) -> String { ReplicaRoutes.escape(s) }
}

typealias SandboxStateFaultsView = SandboxState.ReplicaFaults

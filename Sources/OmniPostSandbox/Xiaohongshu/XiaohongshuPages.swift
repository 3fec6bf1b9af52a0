import Foundation

/// The replica's pages, shaped after the creator center's real flow (creator.xiaohongshu.com, as the
/// widely used uploader dreammis/social-auto-upload drives it): a login box with "APP扫一扫登录" and a QR
/// image; the video publish page with its upload area and a progress bar fed by real chunked uploads
/// (XHR, 256 KiB at a time), a 20-character title field ("填写标题会有更多赞哦～"), a description editor
/// (`data-placeholder` "输入正文描述…"), a cover control, a "声明原创" box, a "发布" button disabled until
/// the upload completes; /publish/success after publishing; the note manager listing the notes. The
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

    static func login(qr: String, qrImage: String) -> String {
        """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>登录 - 小红书创作服务平台</title></head><body>
        <div class="login-box-container"><div class="login-box">
        <div>APP扫一扫登录</div><div><img class="qrcode-img" width="200" height="200" data-qr="\(qr)" src="\(qrImage)"></div>
        <div>请使用小红书APP扫码登录</div></div></div>
        <script>
        const id = '\(qr)';
        setInterval(async () => {
          const r = await fetch('/sandbox/xiaohongshu/api/qrcode/status?qr_id=' + id);
          const j = await r.json();
          if (j.code_status === 2) location.href = '/sandbox/xiaohongshu/publish/publish?from=homepage&target=video';
        }, 300);
        </script></body></html>
        """
    }

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
            <div><button class="publishBtn" id="publish" \(f.publishEnabledEarly ? "" : "disabled")>\(publishLabel)</button></div>
            <div id="toast"></div>
            <script>
            const silent = \(f.silentPublish);
            let uploadId = null, duration = null;
            document.querySelectorAll('input[data-decoy]').forEach(i => i.addEventListener('change', () => fetch('/sandbox/xiaohongshu/api/decoy', {method: 'POST'})));
            document.querySelector('.real .drag-text').addEventListener('click', () => document.getElementById('video').click());
            document.querySelector('.cover-plugin-title').addEventListener('click', () => document.getElementById('cover').click());
            document.getElementById('video').addEventListener('change', async (e) => {
              const file = e.target.files[0];
              if (!file) return;
              const stage = document.getElementById('stage'), bar = document.getElementById('bar');
              stage.textContent = '上传中 0%';
              const v = document.createElement('video');
              v.preload = 'metadata';
              v.onloadedmetadata = () => { duration = v.duration; };
              v.src = URL.createObjectURL(file);
              const init = await (await fetch('/sandbox/xiaohongshu/api/upload/init', {method: 'POST', headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({size: file.size, name: file.name})})).json();
              const chunk = 262144;
              for (let off = 0; off < file.size; off += chunk) {
                const part = file.slice(off, Math.min(off + chunk, file.size));
                await new Promise((ok, fail) => {
                  const x = new XMLHttpRequest();
                  x.open('PUT', '/sandbox/xiaohongshu/api/upload/' + init.upload_id + '?offset=' + off);
                  x.onload = () => x.status === 200 ? ok() : fail(x.status);
                  x.onerror = () => fail('network');
                  x.send(part);
                }).catch(() => { stage.textContent = '上传失败'; throw new Error('upload failed'); });
                const pct = Math.floor(Math.min(off + chunk, file.size) * 100 / file.size);
                bar.style.width = pct + '%';
                stage.textContent = '上传中 ' + pct + '%';
              }
              uploadId = init.upload_id;
              stage.textContent = '上传成功';
              document.getElementById('publish').disabled = false;
            });
            document.getElementById('publish').addEventListener('click', async () => {
              const body = {upload_id: uploadId || '', title: document.querySelector('input.title').value,
                desc: document.querySelector('.editor').innerText, original: !!(document.getElementById('original') || {}).checked,
                duration: duration};
              const r = await fetch('/sandbox/xiaohongshu/api/note/publish', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
              const j = await r.json();
              if (silent) return;
              if (j.note_id) { location.href = 'success?note_id=' + j.note_id; return; }
              if (j.code === 'captcha') {
                const m = document.createElement('div');
                m.className = 'mask';
                m.innerHTML = '<div class="captcha">请完成安全验证<br>拖动滑块完成拼图</div>';
                document.body.appendChild(m);
                return;
              }
              if (j.code === 'login') { location.href = '/sandbox/xiaohongshu/login'; return; }
              document.getElementById('toast').textContent = j.msg || '发布失败';
            });
            </script>
            """)
    }

    static func success(note: String) -> String {
        shell("发布成功", "<div class=\"success\">发布成功</div><div>笔记 \(note) 已发布</div>")
    }

    static func noteManager(_ notes: [SandboxState.XiaohongshuNote]) -> String {
        let items = notes.map { n in
            let d = n.duration.map { Int($0.rounded()) }.map { String(format: "%d:%02d", $0 / 60, $0 % 60) } ?? ""
            return "<div class=\"note-item\" data-note-id=\"\(n.id)\"><div class=\"note-title\">\(escape(n.title))</div><div class=\"note-duration\">\(d)</div></div>"
        }
        return shell("笔记管理", "<div class=\"note-list\">\(items.joined())</div>")
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}

typealias SandboxStateFaultsView = SandboxState.XiaohongshuFaults

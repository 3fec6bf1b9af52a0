import Foundation

/// The script a replica's publish page runs, the same for every platform (each page names its own
/// elements and words): decoys report their use; the real file input uploads in 256 KiB chunks by XHR
/// with a progress bar; publish is enabled when the upload completes (or early, as Kuaishou's page
/// does, on demand); a click sends the form's fields and shows the answer — the success page, a slider
/// captcha, the login page, or a toast.
struct ReplicaScript {
    var root: String
    var publishPath: String
    /// Where an ended session is sent, under `root`.
    var loginPath = "/login"
    /// The stage's words: uploading (with a percentage after it), done, failed.
    var uploading = "上传中"
    var uploaded = "上传成功"
    var failed = "上传失败"
    /// What opens the hidden file input when clicked (a selector).
    var opener: String
    /// A JS expression giving `{title, desc, original, extras}` from the page's fields.
    var fields: String
    /// A JS expression giving the address to go to once published, from `j.note_id`.
    var success: String
    /// What the captcha's mask says.
    var captcha: String
    var silent: Bool
    /// The page's second question after publish (Kuaishou's "确认发布"): publish is sent only once it
    /// is clicked. Nil: the first click sends it.
    var confirm: String? = nil
    /// Where the page goes after publish: `location` (its own window) or `top.location` for a form that
    /// lives in a frame (WeChat Channels' post form), which moves the whole page on.
    var navigate = "location"

    var html: String {
        """
        <script>
        const silent = \(silent);
        let uploadId = null, duration = null;
        document.querySelectorAll('input[data-decoy]').forEach(i => i.addEventListener('change', () => fetch('\(root)/api/decoy', {method: 'POST'})));
        document.querySelector('\(opener)').addEventListener('click', () => document.getElementById('video').click());
        const coverOpener = document.querySelector('.cover-plugin-title');
        if (coverOpener) coverOpener.addEventListener('click', () => document.getElementById('cover').click());
        document.getElementById('video').addEventListener('change', async (e) => {
          const file = e.target.files[0];
          if (!file) return;
          const stage = document.getElementById('stage'), bar = document.getElementById('bar');
          stage.textContent = '\(uploading) 0%';
          const v = document.createElement('video');
          v.preload = 'metadata';
          v.onloadedmetadata = () => { duration = v.duration; };
          v.src = URL.createObjectURL(file);
          const init = await (await fetch('\(root)/api/upload/init', {method: 'POST', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({size: file.size, name: file.name})})).json();
          const chunk = 262144;
          for (let off = 0; off < file.size; off += chunk) {
            const part = file.slice(off, Math.min(off + chunk, file.size));
            await new Promise((ok, fail) => {
              const x = new XMLHttpRequest();
              x.open('PUT', '\(root)/api/upload/' + init.upload_id + '?offset=' + off);
              x.onload = () => x.status === 200 ? ok() : fail(x.status);
              x.onerror = () => fail('network');
              x.send(part);
            }).catch(() => { stage.textContent = '\(failed)'; throw new Error('upload failed'); });
            const pct = Math.floor(Math.min(off + chunk, file.size) * 100 / file.size);
            bar.style.width = pct + '%';
            stage.textContent = '\(uploading) ' + pct + '%';
          }
          uploadId = init.upload_id;
          stage.textContent = '\(uploaded)';
          document.getElementById('publish').disabled = false;
        });
        async function send() {
          const f = \(fields);
          const body = {upload_id: uploadId || '', title: f.title, desc: f.desc, original: f.original, extras: f.extras || {}, duration: duration};
          const r = await fetch('\(root)\(publishPath)', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
          const j = await r.json();
          if (silent) return;
          if (j.note_id) { \(navigate).href = \(success); return; }
          if (j.code === 'captcha') {
            const m = document.createElement('div');
            m.className = 'mask';
            m.innerHTML = '<div class="captcha">\(captcha)</div>';
            document.body.appendChild(m);
            return;
          }
          if (j.code === 'login') { \(navigate).href = '\(root)\(loginPath)'; return; }
          document.getElementById('toast').textContent = j.msg || '发布失败';
        }
        const confirmLabel = \(confirm.map { "'\($0)'" } ?? "null");
        document.getElementById('publish').addEventListener('click', () => {
          if (!confirmLabel) { send(); return; }
          const m = document.createElement('div');
          m.className = 'mask confirm-dialog';
          m.innerHTML = '<div><div>确认发布该作品吗？</div><button class="cancel">取消</button> <button class="ok">' + confirmLabel + '</button></div>';
          document.body.appendChild(m);
          m.querySelector('.cancel').addEventListener('click', () => m.remove());
          m.querySelector('.ok').addEventListener('click', () => { m.remove(); send(); });
        });
        </script>
        """
    }
}

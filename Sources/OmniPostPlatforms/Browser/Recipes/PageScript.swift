/// The script a recipe's steps run in the page (installed once per document): it finds an anchor's
/// candidates and keeps only an element a person could use — it has a size, is displayed, not hidden
/// or transparent, not disabled, and `document.elementFromPoint` at its centre (scrolled into view) is
/// the element itself or inside it. A decoy (off-screen, invisible, covered by another layer, a
/// zero-size input) fails one of these and is never used. The element picked is kept in
/// `window.__omnipostPicked` for the DevTools command that follows (a file handed to its input).
enum PageScript {
    static let install = #"""
        (() => {
          if (window.__omnipost) return true;
          const norm = s => (s || '').replace(/\s+/g, ' ').trim();
          const describe = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
            (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\s+/).join('.') : '');
          function hidden(el) {
            const r = el.getBoundingClientRect();
            if (r.width < 1 || r.height < 1) return 'has no size';
            for (let e = el; e; e = e.parentElement) {
              const s = getComputedStyle(e);
              if (s.display === 'none') return 'is not displayed';
              if (s.visibility === 'hidden' || s.visibility === 'collapse') return 'is hidden';
              if (parseFloat(s.opacity) < 0.05) return 'is transparent';
            }
            return null;
          }
          function disabled(el) {
            for (let e = el; e; e = e.parentElement) {
              if (e.disabled === true || e.getAttribute('aria-disabled') === 'true' || e.classList.contains('disabled')) return true;
            }
            return false;
          }
          function hit(el) {
            el.scrollIntoView({block: 'center', inline: 'center'});
            const r = el.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return {why: 'is outside the window'};
            const h = document.elementFromPoint(x, y);
            if (!h) return {why: 'is under no point of the window'};
            if (h === el || el.contains(h)) return {x, y};
            return {why: 'is covered by ' + describe(h)};
          }
          function candidates(a) {
            // A document still loading has no body yet: nothing on it to find.
            if (!document.body) return [];
            if (a.kind === 'selector') return [...document.querySelectorAll(a.value)];
            const want = norm(a.value);
            const all = [...document.body.querySelectorAll('*')];
            if (a.kind === 'placeholder') {
              return all.filter(e => norm(e.getAttribute('placeholder')) === want || norm(e.getAttribute('data-placeholder')) === want);
            }
            const m = all.filter(e => !['SCRIPT', 'STYLE', 'TEMPLATE'].includes(e.tagName) &&
              (norm(e.innerText) === want || norm(e.getAttribute('aria-label')) === want));
            // The innermost: a button and its label span both read "发布"; the span is where a person aims.
            return m.filter(e => !m.some(o => o !== e && e.contains(o)));
          }
          window.__omnipost = {
            // {ok, x, y} for the one a person could use; else {ok: false, found, why: [...]}.
            pick(a, needEnabled) {
              const c = candidates(a);
              const why = [];
              for (const el of c) {
                const h = hidden(el);
                if (h) { why.push(describe(el) + ' ' + h); continue; }
                if (needEnabled && disabled(el)) { why.push(describe(el) + ' is disabled'); continue; }
                const p = hit(el);
                if (p.why) { why.push(describe(el) + ' ' + p.why); continue; }
                window.__omnipostPicked = el;
                return {ok: true, x: p.x, y: p.y, found: c.length, disabled: disabled(el)};
              }
              return {ok: false, found: c.length, why};
            },
            // The file input belonging to the picked control: inside it, the one its label names, or
            // the nearest enclosing block's — never another upload area's.
            fileInput() {
              const el = window.__omnipostPicked;
              if (!el) return null;
              if (el.tagName === 'INPUT' && el.type === 'file') return el;
              if (el.control && el.control.type === 'file') return el.control;
              for (let e = el; e && e !== document.body; e = e.parentElement) {
                const inputs = e.querySelectorAll('input[type=file]');
                if (inputs.length === 1) return inputs[0];
                if (inputs.length > 1) return null;
              }
              return null;
            },
            // The picked field's text (an input's value, an editor's text).
            fieldText() {
              const el = window.__omnipostPicked;
              if (!el) return '';
              const f = el.matches('input, textarea') ? el : (el.querySelector('input, textarea, [contenteditable=true]') || el);
              return 'value' in f && f.tagName !== 'DIV' ? f.value : f.innerText;
            },
            // Focuses the picked field and selects what it holds, so typing replaces it.
            selectField() {
              const el = window.__omnipostPicked;
              const f = el.matches('input, textarea, [contenteditable=true]') ? el : (el.querySelector('input, textarea, [contenteditable=true]') || el);
              f.focus();
              if (f.select) f.select(); else document.execCommand('selectAll', false, null);
              return true;
            },
            // A page state: an anchor shown (text: contained in a visible element's text).
            shown(a) {
              if (!document.body) return false;
              if (a.kind === 'text') {
                const want = norm(a.value);
                return [...document.body.querySelectorAll('*')].some(e => norm(e.innerText).includes(want) && !hidden(e) &&
                  ![...e.children].some(c => norm(c.innerText).includes(want)));
              }
              return candidates(a).some(e => !hidden(e));
            },
            // The picked QR image's modules, row by row ('1' dark): its pixels drawn on a canvas (again
            // from a blob: URL when the first canvas is tainted), the symbol's box found from its dark
            // pixels, the module size from the top-left finder pattern (7 modules wide), each module
            // read at its centre.
            async qrModules() {
              const el = window.__omnipostPicked;
              const draw = (img) => {
                const w = img.naturalWidth || img.width, h = img.naturalHeight || img.height;
                const c = document.createElement('canvas');
                c.width = w; c.height = h;
                const g = c.getContext('2d');
                g.fillStyle = '#fff'; g.fillRect(0, 0, w, h);
                g.drawImage(img, 0, 0, w, h);
                return {w, h, d: g.getImageData(0, 0, w, h).data};
              };
              let px;
              if (el.tagName === 'CANVAS') {
                px = {w: el.width, h: el.height, d: el.getContext('2d').getImageData(0, 0, el.width, el.height).data};
              } else {
                if (el.decode) await el.decode();
                try { px = draw(el); } catch (e) {
                  const blob = await (await fetch(el.src)).blob();
                  const img = new Image();
                  img.src = URL.createObjectURL(blob);
                  await img.decode();
                  px = draw(img);
                }
              }
              const {w, h, d} = px;
              const dark = (x, y) => { const i = (y * w + x) * 4; return d[i] + d[i + 1] + d[i + 2] < 384; };
              let minX = w, minY = h, maxX = -1, maxY = -1;
              for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (dark(x, y)) {
                if (x < minX) minX = x; if (x > maxX) maxX = x; if (y < minY) minY = y; if (y > maxY) maxY = y;
              }
              if (maxX < 0) return [];
              let run = 0;
              while (minX + run <= maxX && dark(minX + run, minY)) run++;
              const m = run / 7, n = Math.round((maxX - minX + 1) / m);
              const rows = [];
              for (let r = 0; r < n; r++) {
                let row = '';
                for (let c = 0; c < n; c++) row += dark(Math.floor(minX + (c + 0.5) * m), Math.floor(minY + (r + 0.5) * m)) ? '1' : '0';
                rows.push(row);
              }
              return rows;
            },
            // The content list's items: title, duration and id as the page shows them.
            items(list) {
              return [...document.querySelectorAll(list.item)].map(e => ({
                title: norm((e.querySelector(list.title) || {}).innerText),
                duration: list.duration ? norm((e.querySelector(list.duration) || {}).innerText) : null,
                id: list.id ? e.getAttribute(list.id) : null
              }));
            }
          };
          return true;
        })()
        """#
}

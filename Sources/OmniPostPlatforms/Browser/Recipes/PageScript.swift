/// The script a recipe's steps run in the page (installed once per document): it finds an anchor's
/// candidates and keeps only an element a person could use — it has a size, is displayed, not hidden
/// or transparent, not disabled, and the element under its centre (scrolled into view) is the element
/// itself or inside it. A decoy (off-screen, invisible, covered by another layer, a zero-size input)
/// fails one of these and is never used. The element picked is kept in `window.__omnipostPicked` for
/// the DevTools command that follows (a file handed to its input).
///
/// A page is searched whole, as a person sees it: the document, every open shadow root (a custom
/// element such as Xiaohongshu's `<xhs-publish-btn>` keeps its button in one) and every frame whose
/// document this script may read (WeChat Channels' post form is a same-origin iframe). Coordinates are
/// the top window's: a frame's element is offset by its frame's content box. A frame of another origin
/// cannot be read from here; `RecipeRunner` runs this same script in that frame's own isolated world.
enum PageScript {
    static let install = #"""
        (() => {
          if (window.__omnipost) return true;
          const norm = s => (s || '').replace(/\s+/g, ' ').trim();
          const describe = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
            (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\s+/).join('.') : '');
          const isFrame = e => e.tagName === 'IFRAME' || e.tagName === 'FRAME';
          // A frame's document when this script may read it (same origin), else null.
          function frameDoc(f) {
            try { const d = f.contentDocument; return d && d.documentElement ? d : null; } catch (_) { return null; }
          }
          const win = e => e.ownerDocument.defaultView;
          // Where a frame's content starts in its parent's window: its box, border and padding.
          function contentOrigin(f) {
            const r = f.getBoundingClientRect(), s = win(f).getComputedStyle(f);
            return {x: r.left + f.clientLeft + parseFloat(s.paddingLeft || 0), y: r.top + f.clientTop + parseFloat(s.paddingTop || 0)};
          }
          // How far `doc`'s window sits from the top window this script can reach.
          function offset(doc) {
            let dx = 0, dy = 0;
            for (let w = doc.defaultView; w; ) {
              let f = null;
              try { f = w.frameElement; } catch (_) { f = null; }
              if (!f) break;
              const o = contentOrigin(f);
              dx += o.x; dy += o.y;
              w = win(f);
            }
            return {dx, dy};
          }
          // The element a box is drawn inside of: a slot it is assigned to, its parent, a shadow root's
          // host, a frame's element — crossing every boundary a person does not see.
          function above(e) {
            if (e.assignedSlot) return e.assignedSlot;
            if (e.parentElement) return e.parentElement;
            const n = e.parentNode;
            if (n && n.host) return n.host;
            if (n && n.nodeType === 9) { try { return n.defaultView.frameElement; } catch (_) { return null; } }
            return null;
          }
          // Every tree a person's page is made of: the document, each open shadow root, each readable frame.
          function roots() {
            const out = [];
            const visit = (root) => {
              out.push(root);
              for (const e of root.querySelectorAll('*')) {
                if (e.shadowRoot) visit(e.shadowRoot);
                if (isFrame(e)) { const d = frameDoc(e); if (d) visit(d); }
              }
            };
            visit(document);
            return out;
          }
          // A tree's elements a person could read (a document's body, not its head).
          function elements(root) {
            const top = root.nodeType === 9 ? root.body : root;
            return top ? [...top.querySelectorAll('*')] : [];
          }
          function hidden(el) {
            const r = el.getBoundingClientRect();
            if (r.width < 1 || r.height < 1) return 'has no size';
            for (let e = el; e; e = above(e)) {
              const s = win(e).getComputedStyle(e);
              if (s.display === 'none') return 'is not displayed';
              if (s.visibility === 'hidden' || s.visibility === 'collapse') return 'is hidden';
              if (parseFloat(s.opacity) < 0.05) return 'is transparent';
            }
            return null;
          }
          function disabled(el) {
            for (let e = el; e; e = above(e)) {
              if (e.disabled === true || e.getAttribute('aria-disabled') === 'true' || e.classList.contains('disabled')) return true;
            }
            return false;
          }
          // The innermost element at (x, y) of `doc`'s window: into open shadow roots and readable frames.
          function deepAt(doc, x, y) {
            let h = doc.elementFromPoint(x, y);
            while (h) {
              if (h.shadowRoot) {
                const i = h.shadowRoot.elementFromPoint(x, y);
                if (i && i !== h) { h = i; continue; }
              }
              if (isFrame(h)) {
                const d = frameDoc(h);
                if (d) {
                  const o = contentOrigin(h);
                  const i = d.elementFromPoint(x - o.x, y - o.y);
                  if (i) { x -= o.x; y -= o.y; h = i; continue; }
                }
              }
              break;
            }
            return h;
          }
          function inside(h, el) {
            for (let e = h; e; e = above(e)) if (e === el) return true;
            return false;
          }
          function hit(el) {
            el.scrollIntoView({block: 'center', inline: 'center'});
            const r = el.getBoundingClientRect(), w = win(el);
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            if (x < 0 || y < 0 || x > w.innerWidth || y > w.innerHeight) return {why: 'is outside the window'};
            const o = offset(el.ownerDocument);
            const X = x + o.dx, Y = y + o.dy;
            if (X < 0 || Y < 0 || X > innerWidth || Y > innerHeight) return {why: 'is outside the window'};
            const h = deepAt(document, X, Y);
            if (!h) return {why: 'is under no point of the window'};
            if (inside(h, el)) return {x: X, y: Y, under: h};
            return {why: 'is covered by ' + describe(h)};
          }
          function candidates(a) {
            // A document still loading has no body yet: nothing on it to find.
            if (!document.body) return [];
            const rs = roots();
            if (a.kind === 'selector') return rs.flatMap(r => [...r.querySelectorAll(a.value)]);
            const want = norm(a.value);
            const all = rs.flatMap(elements);
            if (a.kind === 'placeholder') {
              // Matched from its start: pages append hints to a placeholder ("填写作品标题，为作品获得更多
              // 流量"), and the maintained uploaders match "填写作品标题" the same way.
              return all.filter(e => norm(e.getAttribute('placeholder')).startsWith(want) || norm(e.getAttribute('data-placeholder')).startsWith(want));
            }
            const m = all.filter(e => !['SCRIPT', 'STYLE', 'TEMPLATE'].includes(e.tagName) &&
              (norm(e.innerText) === want || norm(e.getAttribute('aria-label')) === want));
            // The innermost: a button and its label span both read "发布"; the span is where a person aims.
            return m.filter(e => !m.some(o => o !== e && e.contains(o)));
          }
          // Open shadow roots' matches inside `el` too (a custom element's own input).
          function within(el, sel) {
            const out = [...el.querySelectorAll(sel)];
            if (el.shadowRoot) out.push(...el.shadowRoot.querySelectorAll(sel));
            for (const e of el.querySelectorAll('*')) if (e.shadowRoot) out.push(...e.shadowRoot.querySelectorAll(sel));
            return out;
          }
          function field(el) {
            const sel = 'input, textarea, [contenteditable=true]';
            return el.matches(sel) ? el : (within(el, sel)[0] || el);
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
                // What the pointer lands on may be a disabled button inside the element's shadow tree.
                const off = disabled(el) || disabled(p.under);
                if (needEnabled && off) { why.push(describe(el) + ' is disabled'); continue; }
                window.__omnipostPicked = el;
                return {ok: true, x: p.x, y: p.y, found: c.length, disabled: off};
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
              for (let e = el; e && e !== el.ownerDocument.body; e = above(e)) {
                if (isFrame(e)) break;
                const inputs = within(e, 'input[type=file]');
                if (inputs.length === 1) return inputs[0];
                if (inputs.length > 1) return null;
              }
              return null;
            },
            // The picked field's text (an input's value, an editor's text).
            fieldText() {
              const el = window.__omnipostPicked;
              if (!el) return '';
              const f = field(el);
              return 'value' in f && f.tagName !== 'DIV' ? f.value : f.innerText;
            },
            // Focuses the picked field and selects what it holds, so typing replaces it.
            selectField() {
              const el = window.__omnipostPicked;
              const f = field(el);
              f.focus();
              if (f.select) f.select(); else f.ownerDocument.execCommand('selectAll', false, null);
              return true;
            },
            // A page state: an anchor shown (text: contained in a visible element's text).
            shown(a) {
              if (!document.body) return false;
              if (a.kind === 'text') {
                const want = norm(a.value);
                return roots().flatMap(elements).some(e => norm(e.innerText).includes(want) && !hidden(e) &&
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
                const c = el.ownerDocument.createElement('canvas');
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
              return roots().flatMap(r => [...r.querySelectorAll(list.item)]).map(e => ({
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

// The Upload page's tus client (tus.io 1.0.0): each file is created with its form as Upload-Metadata,
// then sent in 8 MiB PATCHes read from the file as they go (a Blob slice; never the whole file in
// memory). A failed PATCH asks the server for its offset (HEAD) and goes on from there, backing off up
// to 30 s; the upload's address is kept in localStorage by name, size and date, so choosing the same
// file again after the page was closed continues it instead of starting over.
(function () {
  var form = document.getElementById('upload');
  if (!form || !window.fetch) return;
  var list = document.getElementById('progress');
  var CHUNK = 8 * 1024 * 1024;
  var csrf = form.getAttribute('data-csrf');
  var pipeline = form.getAttribute('data-pipeline');

  function b64(s) { return btoa(unescape(encodeURIComponent(s))); }
  function headers(extra) {
    var h = { 'Tus-Resumable': '1.0.0', 'X-CSRF-Token': csrf };
    for (var k in extra) h[k] = extra[k];
    return h;
  }
  function key(file) { return 'omnipost-upload:' + pipeline + ':' + file.name + ':' + file.size + ':' + file.lastModified; }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function metadata(file) {
    var fields = { filename: file.name };
    ['title', 'description', 'tags', 'privacy'].forEach(function (n) { var v = form.elements[n].value.trim(); if (v) fields[n] = v; });
    var at = form.elements['publish_at'].value;
    if (at) fields.publish_at = new Date(at).toISOString();
    var targets = Array.prototype.filter.call(form.querySelectorAll('input[name=targets]'), function (c) { return c.checked; }).map(function (c) { return c.value; });
    if (targets.length) fields.targets = targets.join(',');
    return Object.keys(fields).map(function (k) { return k + ' ' + b64(fields[k]); }).join(',');
  }

  function row(file) {
    var li = document.createElement('li');
    var bar = document.createElement('progress');
    bar.max = file.size; bar.value = 0;
    var text = document.createElement('span');
    li.appendChild(document.createTextNode(file.name + ' '));
    li.appendChild(bar); li.appendChild(text);
    list.appendChild(li);
    return { li: li, bar: bar, say: function (s) { text.textContent = ' ' + s; } };
  }

  async function offsetOf(url) {
    var r = await fetch(url, { method: 'HEAD', headers: headers({}), credentials: 'same-origin' });
    if (r.status === 404) return null;
    if (!r.ok) throw new Error('HEAD answered ' + r.status);
    return { offset: parseInt(r.headers.get('Upload-Offset'), 10), drop: r.headers.get('OmniPost-Drop') };
  }

  async function send(file, ui) {
    var url = localStorage.getItem(key(file));
    var at = url ? await offsetOf(url).catch(function () { return null; }) : null;
    if (!at) {
      var q = pipeline ? '?pipeline=' + encodeURIComponent(pipeline) : '';
      var made = await fetch('/uploads' + q, {
        method: 'POST', credentials: 'same-origin',
        headers: headers({ 'Upload-Length': String(file.size), 'Upload-Metadata': metadata(file) })
      });
      if (made.status !== 201) throw new Error(await made.text());
      url = made.headers.get('Location');
      localStorage.setItem(key(file), url);
      at = { offset: 0, drop: null };
    } else if (at.offset > 0) {
      ui.say('continuing from ' + Math.round(at.offset / 1048576) + ' MiB');
    }
    var offset = at.offset, drop = at.drop, wait = 1000;
    while (offset < file.size) {
      try {
        var r = await fetch(url, {
          method: 'PATCH', credentials: 'same-origin',
          headers: headers({ 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }),
          body: file.slice(offset, Math.min(offset + CHUNK, file.size))
        });
        if (r.status === 409 || r.status >= 500) throw new Error('PATCH answered ' + r.status);
        if (r.status !== 204) { localStorage.removeItem(key(file)); throw Object.assign(new Error(await r.text()), { final: true }); }
        offset = parseInt(r.headers.get('Upload-Offset'), 10);
        drop = r.headers.get('OmniPost-Drop') || drop;
        wait = 1000;
        ui.bar.value = offset;
        ui.say(Math.round(100 * offset / file.size) + ' %');
      } catch (e) {
        if (e.final) throw e;
        ui.say('connection lost; trying again in ' + Math.round(wait / 1000) + ' s');
        await sleep(wait);
        wait = Math.min(wait * 2, 30000);
        var now = await offsetOf(url).catch(function () { return null; });
        if (now) offset = now.offset;
      }
    }
    localStorage.removeItem(key(file));
    return drop;
  }

  form.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var files = Array.prototype.slice.call(form.elements['files'].files);
    for (var i = 0; i < files.length; i++) {
      var ui = row(files[i]);
      try {
        var drop = await send(files[i], ui);
        ui.li.className = 'done';
        ui.say('in the inbox as ' + (drop || files[i].name));
      } catch (e) {
        ui.li.className = 'failed';
        ui.say('refused: ' + e.message);
      }
    }
  });
})();

// Live refresh where JavaScript is on: the server says when the ledger changed (server-sent events),
// and the page's <main> is fetched again and swapped in, at most once a second. With JavaScript off
// the pages still work; they refresh every 30 s by a <noscript> meta refresh.
(function () {
  var main = document.querySelector('main[data-live="on"]');
  if (!main || !window.EventSource || !window.fetch) return;
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    setTimeout(function () {
      fetch(location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('main');
          if (fresh) { main.innerHTML = fresh.innerHTML; document.body.setAttribute('data-refreshed', String(Date.now())); }
        })
        .catch(function () {})
        .then(function () { busy = false; if (again) { again = false; refresh(); } });
    }, 1000);
  }
  var pipeline = new URLSearchParams(location.search).get('pipeline');
  var source = new EventSource('/live' + (pipeline ? '?pipeline=' + encodeURIComponent(pipeline) : ''));
  source.addEventListener('change', refresh);
  source.addEventListener('hello', function () { document.body.setAttribute('data-live', 'connected'); });
})();

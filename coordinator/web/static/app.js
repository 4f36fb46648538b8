// Live updates without a framework: one EventSource on the events table; each
// element with data-live="URL" is re-fetched (at most once a second) when an
// event arrives, and a list with id="events" gets the event prepended.
(function () {
  "use strict";
  var live = Array.prototype.slice.call(document.querySelectorAll("[data-live]"));
  var list = document.getElementById("events");
  if (!live.length && !list) { return; }
  var pending = false;

  function refresh() {
    pending = false;
    live.forEach(function (el) {
      fetch(el.getAttribute("data-live"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) { if (html !== null && html !== undefined) { el.innerHTML = html; } })
        .catch(function () { /* the next event tries again */ });
    });
  }

  function describe(ev) {
    var parts = [];
    var d = ev.data || {};
    Object.keys(d).slice(0, 4).forEach(function (k) {
      var v = d[k];
      if (typeof v === "object") { v = JSON.stringify(v); }
      parts.push(k + "=" + String(v).slice(0, 60));
    });
    if (ev.node_id) { parts.unshift("node " + ev.node_id.slice(0, 8)); }
    if (ev.workunit_id) { parts.unshift("wu " + ev.workunit_id); }
    return parts.join(" · ");
  }

  function show(ev) {
    if (!list) { return; }
    var li = document.createElement("li");
    li.className = "fresh";
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = ev.ago;
    var what = document.createElement("span");
    var kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = ev.kind;
    what.appendChild(kind);
    what.appendChild(document.createTextNode(" " + describe(ev)));
    li.appendChild(when);
    li.appendChild(what);
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 60) { list.removeChild(list.lastChild); }
  }

  var url = "/ui/events/stream";
  var after = document.body.getAttribute("data-after");
  if (after) { url += "?after=" + encodeURIComponent(after); }
  var source = new EventSource(url);
  source.addEventListener("newral", function (msg) {
    try { show(JSON.parse(msg.data)); } catch (e) { /* ignore a malformed event */ }
    if (live.length && !pending) { pending = true; window.setTimeout(refresh, 1000); }
  });
  document.body.setAttribute("data-stream", "open");
})();

// Times in the viewer's own time zone. The server writes every time in UTC
// (<time datetime="…" title="… UTC">); this writes it in the browser's time
// zone, in one format across the pages, keeping the UTC on hover, and keeps
// each countdown ("in 3 h 12 min", data-countdown) current. Parts of a page
// that change later (live updates) are written the same way as they come.
(function () {
  "use strict";
  var fmt = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
  });

  function format(d) { return fmt.format(d); }

  function utc(d) { return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"); }

  // duration says a length of time as the server does (api.duration).
  function duration(ms) {
    var s = Math.round(ms / 1000);
    if (s < 60) { return s + " s"; }
    if (s < 3600) { return Math.floor(s / 60) + " min " + (s % 60) + " s"; }
    if (s < 48 * 3600) { return Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min"; }
    return Math.floor(s / 86400) + " days " + Math.floor(s % 86400 / 3600) + " h";
  }

  function until(d) {
    var ms = d.getTime() - Date.now();
    return ms <= 0 ? "now" : "in " + duration(ms);
  }

  function set(el, text) { if (el.textContent !== text) { el.textContent = text; } }

  function localize(root) {
    (root || document).querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.dateTime);
      if (isNaN(d.getTime())) { return; }
      if (t.title !== utc(d)) { t.title = utc(d); }
      set(t, format(d));
    });
    (root || document).querySelectorAll("[data-countdown]").forEach(function (c) {
      var d = new Date(c.dataset.countdown);
      if (!isNaN(d.getTime())) { set(c, until(d)); }
    });
  }

  // timeElement makes a <time> for d, as the server would write it.
  function timeElement(d) {
    var t = document.createElement("time");
    t.dateTime = d.toISOString();
    t.title = utc(d);
    t.textContent = format(d);
    return t;
  }

  // A field for a time zone starts with the viewer's own.
  document.querySelectorAll("input[data-default-zone]").forEach(function (i) {
    if (!i.value) { i.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; }
  });

  window.cutoverTime = { format: format, duration: duration, until: until, localize: localize, element: timeElement };
  localize(document);
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    setTimeout(function () { pending = false; localize(document); }, 0);
  }).observe(document.body, { childList: true, subtree: true });
  setInterval(function () { localize(document); }, 15000);
})();

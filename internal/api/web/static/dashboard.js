// Live updates of a pilot group's or a wave's dashboard, or of a user's
// page. The page follows the server's stream of its answer (server-sent
// events, with the sign-in cookie) and updates the progress bars, states,
// reasons and failures in place as each event comes; a user's page takes
// its card afresh from the server when the user's move changes. Where the stream is cut (a proxy that buffers
// it, a server restarting, a server that does not stream) the page reads
// the answer every two seconds instead, and tries the stream again later.
// The "updated" line says which it does.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) { return; }
  var id = root.dataset.group, waveID = root.dataset.wave, user = root.dataset.user;
  var kind = user ? "user" : waveID ? "wave" : "group";
  var url = user ? "/api/v1/users/" + encodeURIComponent(user) :
    waveID ? "/api/v1/waves/" + encodeURIComponent(waveID) : "/api/v1/groups/" + encodeURIComponent(id);
  // The outcomes in the order a bar shows them, with their words, as the
  // server says them (data-outcomes).
  var outcomes = JSON.parse(root.dataset.outcomes || "[]");

  var POLL = 2000;      // polling's interval, as before the stream
  var QUIET = 20000;    // a stream silent this long (heartbeats come every 15 s) is stalled
  var RETRY = 30000;    // the first wait before trying the stream again; doubles up to RETRY_MAX
  var RETRY_MAX = 300000;

  function set(el, text) { if (el && el.textContent !== text) { el.textContent = text; } }
  function users(n) { return n === 1 ? "1 user" : n + " users"; }

  // renderBar redraws a bar split by outcome and its legend (layout.html's
  // "bar") from a progress' outcomes, when they changed.
  function renderBar(scope, p) {
    var bar = scope.querySelector('[data-field="bar"]'), legend = scope.querySelector('[data-field="legend"]');
    if (!bar || !legend) { return; }
    var o = p.outcomes || {}, total = 0;
    outcomes.forEach(function (pair) { total += o[pair[0]] || 0; });
    var rects = [], items = [], parts = [], x = 0, link = legend.dataset.link;
    outcomes.forEach(function (pair) {
      var n = o[pair[0]] || 0;
      if (!n) { return; }
      var w = Math.floor(1000 * n / Math.max(total, 1));
      var rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      rect.setAttribute("class", "seg-" + pair[0]);
      rect.setAttribute("x", x);
      rect.setAttribute("width", Math.max(w, 2));
      rect.setAttribute("height", 20);
      rects.push(rect);
      x += w;
      var text = n + " " + pair[1];
      parts.push(text);
      var li = document.createElement("li"), key = document.createElement("span");
      key.className = "key seg-" + pair[0];
      li.appendChild(key);
      if (link) {
        var a = document.createElement("a");
        a.href = link + "?outcome=" + encodeURIComponent(pair[0]);
        a.textContent = text;
        li.appendChild(a);
      } else {
        li.appendChild(document.createTextNode(text));
      }
      items.push(li);
    });
    var label = users(total) + ": " + (parts.join(", ") || "no users");
    if (bar.getAttribute("aria-label") === label) { return; }
    bar.replaceChildren.apply(bar, rects);
    bar.setAttribute("aria-label", label);
    legend.replaceChildren.apply(legend, items);
  }

  // detail writes when a wave starts, started, ends or ended, as the
  // server does (api.waveTime), when what it says changed.
  function detail(w, el) {
    var T = window.cutoverTime;
    if (!el || !T) { return; }
    var eta = w.progress.estimated_finish;
    var key = [w.state, w.start_at, w.started_at, w.finished_at, eta, w.concurrency_limit, w.next_window_open].join("|");
    if (el.dataset.key === key) { return; }
    el.dataset.key = key;
    var nodes = [];
    function text(s) { nodes.push(document.createTextNode(s)); }
    function time(iso) { nodes.push(T.element(new Date(iso))); }
    function count(iso) {
      var c = document.createElement("span");
      c.dataset.countdown = iso;
      c.textContent = T.until(new Date(iso));
      nodes.push(c);
    }
    if (w.finished_at) {
      if (w.started_at) {
        text("Started "); time(w.started_at); text(", ended "); time(w.finished_at);
        text(", after " + T.duration(Date.parse(w.finished_at) - Date.parse(w.started_at)) + ".");
      } else {
        text("Ended "); time(w.finished_at); text(" without starting.");
      }
    } else if (!w.started_at && w.state === "scheduled") {
      text("Starts "); time(w.start_at); text(" ("); count(w.start_at); text(").");
    } else if (!w.started_at) {
      text("Was to start "); time(w.start_at); text(".");
    } else {
      text("Started "); time(w.started_at);
      if (eta && w.state === "running") { text("; expected to end around "); time(eta); text(" ("); count(eta); text(")"); }
      text(".");
      if (w.state === "running") { text(" At most " + w.concurrency_limit + " of " + w.concurrency + " moves at once now."); }
    }
    if (w.next_window_open) { text(" Its maintenance window opens "); time(w.next_window_open); text("."); }
    el.replaceChildren.apply(el, nodes);
  }

  // attentionLink is where an attention leads (api.attentionLink).
  function attentionLink(a, list) {
    return a.kind === "failed" || a.kind === "rollback_failed" ? list + "?outcome=" + a.kind : "";
  }

  // fromPage reads this page afresh from the server and resolves to the
  // element id of it (null if the page has none): the parts of a page the
  // stream's JSON does not carry are taken as the server renders them.
  function fromPage(id) {
    return fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
      .then(function (html) { return new DOMParser().parseFromString(html, "text/html").getElementById(id); });
  }

  function renderWave(w) {
    var card = document.getElementById("wave-" + w.id);
    if (!card) { return; }
    var st = card.querySelector('[data-field="state"]');
    set(st, w.state.replace("_", " "));
    st.className = "state state-" + w.state + ((w.attention || []).length ? " state-attention" : "");
    card.classList.toggle("needs-attention", (w.attention || []).length > 0);
    var reason = card.querySelector('[data-field="reason"]');
    set(reason, w.state_reason || "");
    reason.hidden = !w.state_reason;
    set(card.querySelector('[data-field="counts"]'), w.progress.says);
    var completion = card.querySelector('[data-field="completion"]');
    if (completion) {
      set(completion, (w.completion || {}).says || "");
      completion.hidden = !(w.completion && w.completion.users);
    }
    renderBar(card, w.progress);
    detail(w, card.querySelector('[data-field="detail"]'));
    refreshActions((w.actions || []).join(" "));
    refreshDetails([w.state, (w.progress.counts || {}).failed || 0, w.concurrency_limit].join("|"));
  }

  // refreshDetails takes the wave page's failures and timeline afresh from
  // the page when what they show may have changed (its state, its failed
  // count, its adaptive limit: each writes the timeline), at most once
  // every DETAILS ms; a change held back by that is read when it is up.
  var DETAILS = 2000, detailsAt = 0, detailsTimer = null, detailsBusy = false, detailsWant = "";
  function refreshDetails(key) {
    var details = document.getElementById("wave-details");
    detailsWant = key;
    if (!details || details.dataset.key === key || detailsBusy || detailsTimer) { return; }
    var wait = detailsAt + DETAILS - Date.now();
    if (wait > 0) {
      detailsTimer = setTimeout(function () { detailsTimer = null; refreshDetails(detailsWant); }, wait);
      return;
    }
    detailsBusy = true;
    detailsAt = Date.now();
    fromPage("wave-details")
      .then(function (fresh) {
        var now = document.getElementById("wave-details");
        if (fresh && now) { now.replaceWith(fresh); }
      })
      .catch(function () { /* read again at the next change */ })
      .finally(function () {
        detailsBusy = false;
        var now = document.getElementById("wave-details");
        if (now && now.dataset.key !== detailsWant) { refreshDetails(detailsWant); }
      });
  }

  // refreshActions swaps the wave page's buttons for those the wave offers
  // now (a running wave that completes offers a rollback, not a pause), read
  // from the page itself, when the answer's list of actions differs from
  // the page's; the rest of the page stays as it is. A lead typing in one
  // of the forms keeps it; a lead whose focus was on a button that goes is
  // taken to the line that says what their last action did.
  var refreshing = false;
  function refreshActions(offered) {
    var actions = document.getElementById("wave-actions");
    if (!actions || actions.dataset.actions === offered || refreshing) { return; }
    refreshing = true;
    fromPage("wave-actions")
      .then(function (fresh) {
        var focus = document.activeElement;
        var typing = actions.contains(focus) && focus.matches("input, textarea, select") && focus.value;
        if (!fresh || typing) { return; }
        actions.replaceWith(fresh);
        if (actions.contains(focus)) {
          var status = document.getElementById("action-status");
          if (status) { status.tabIndex = -1; status.focus(); }
        }
      })
      .catch(function () { /* the buttons stay; the API refuses what the wave does not offer */ })
      .finally(function () { refreshing = false; });
  }

  // renderUser takes the user's card afresh from the page when their move
  // changed (its state, run or timeline), unless the agent is in the
  // middle of an action on it.
  var userKey = null, swapping = false;
  function renderUser(u) {
    var key = [u.state, u.place, (u.moves || []).length, u.move ? u.move.id + ":" + u.move.run : 0, (u.timeline || []).length].join("|");
    var was = userKey;
    userKey = key;
    if (was === null || was === key) { return; }
    var dialog = document.getElementById("confirm-dialog");
    if (swapping || dialog && dialog.open) { userKey = was; return; } // taken at the next event
    swapping = true;
    fromPage("user-status")
      .then(function (fresh) {
        var card = document.getElementById("user-status");
        if (fresh && card) { card.replaceWith(fresh); }
      })
      .catch(function () { userKey = was; /* read again at the next change */ })
      .finally(function () { swapping = false; });
  }

  // renderGroup updates a group's page: its sentence, bar, what needs a
  // person, its waves and its failures.
  function renderGroup(g) {
    var list = "/ui/groups/" + encodeURIComponent(g.id) + "/users";
    set(document.getElementById("group-summary"), g.progress.says);
    var status = document.getElementById("group-status");
    if (status) { status.classList.toggle("needs-attention", (g.attention || []).length > 0); }
    renderBar(document.getElementById("group-bar") || root, g.progress);
    var att = document.getElementById("group-attention");
    if (att) {
      var key = JSON.stringify(g.attention || []);
      if (att.dataset.key !== key) {
        att.dataset.key = key;
        att.replaceChildren.apply(att, (g.attention || []).map(function (a) {
          var li = document.createElement("li"), href = attentionLink(a, list), says = document.createTextNode(a.says);
          if (href) { var l = document.createElement("a"); l.href = href; l.appendChild(says); li.appendChild(l); } else { li.appendChild(says); }
          if (a.wave_id) {
            var w = document.createElement("a");
            w.href = "/ui/waves/" + a.wave_id;
            w.textContent = "the wave";
            li.append(" (", w, ")");
          }
          return li;
        }));
      }
    }
    (g.waves || []).forEach(renderWave);
    // When the group's waves change state, its line of times (started,
    // ends, the next wave) is taken afresh from the page.
    var timeLine = document.getElementById("group-time");
    var states = (g.waves || []).map(function (w) { return w.state; }).join("|");
    if (timeLine && timeLine.dataset.key !== undefined && timeLine.dataset.key !== states) {
      fromPage("group-time").then(function (fresh) {
        var now = document.getElementById("group-time");
        if (fresh && now) { fresh.dataset.key = states; now.replaceWith(fresh); }
      }).catch(function () { /* read again at the next change */ });
    }
    if (timeLine && timeLine.dataset.key === undefined) { timeLine.dataset.key = states; }
    var body = document.querySelector("#failures tbody");
    var rows = (g.failures || []).map(function (f) {
      var tr = document.createElement("tr");
      var code = document.createElement("code");
      code.textContent = f.code;
      var count = document.createElement("a");
      count.href = list + "?outcome=failed&code=" + encodeURIComponent(f.code);
      count.textContent = users(f.count);
      var fix = document.createElement("strong");
      fix.textContent = "Fix:";
      [["Code", [code]], ["Users", [count]], ["The fix", [f.explanation + " ", fix, " " + f.fix]]].forEach(function (c) {
        var td = document.createElement("td");
        td.dataset.label = c[0];
        td.append.apply(td, c[1]);
        tr.appendChild(td);
      });
      return tr;
    });
    if (body && rows.length) { body.replaceChildren.apply(body, rows); }
  }

  // note keeps the note of a lead's last action while the state it left
  // holds, and takes it away when the state changes again ("Resumed." is
  // not said of a wave that has since completed).
  function note(state) {
    var status = document.getElementById("action-status");
    if (!status || status.hidden || !status.dataset.state) { return; }
    if (state === status.dataset.state) {
      status.dataset.seen = "1"; // a read from before the action, if any came late, is past
    } else if (status.dataset.seen) {
      status.hidden = true;
      status.textContent = "";
      delete status.dataset.state;
      delete status.dataset.seen;
    }
  }

  function render(g) {
    if (user || waveID) { note(g.state); }
    if (user) {
      renderUser(g);
    } else if (waveID) {
      renderWave(g);
    } else {
      renderGroup(g);
    }
    updated = new Date();
    say();
  }

  // The "updated" line: how the page follows (live or polling) and when it
  // last heard. The wave's page has none in its markup: it gets one.
  var line = document.getElementById("updated");
  if (!line) {
    line = document.createElement("p");
    line.className = "muted";
    line.id = "updated";
    var card = document.getElementById("wave-" + waveID);
    (card || root).appendChild(line);
  }
  // Live, it changes twice a second: a screen reader hears the progress,
  // not the clock.
  line.setAttribute("aria-live", "off");
  var stamp = line.querySelector("time") || document.createElement("time");
  var how = document.createElement("span");
  how.setAttribute("data-field", "how");
  var updated = null, mode = "connecting", problem = "";
  line.replaceChildren(how, document.createTextNode(" · updated "), stamp);
  function say() {
    var text = { live: "live", polling: "polling every " + POLL / 1000 + " s" }[mode] || "connecting";
    if (problem) { text += " (" + problem + ")"; }
    set(how, text);
    line.dataset.mode = mode;
    if (updated) {
      stamp.dateTime = updated.toISOString();
      if (window.cutoverTime) { set(stamp, window.cutoverTime.format(updated)); } else { set(stamp, updated.toISOString()); }
    }
  }
  say();

  // Polling: today's way, while the stream is out.
  var pollTimer = null;
  function poll() {
    pollTimer = null;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (g) { problem = ""; if (mode !== "live") { render(g); } })
      .catch(function (e) { problem = "not updated: " + e.message; say(); })
      .finally(function () { if (mode !== "live" && !pollTimer) { pollTimer = setTimeout(poll, POLL); } });
  }
  function startPolling() {
    if (!pollTimer) { pollTimer = setTimeout(poll, POLL); }
  }
  function stopPolling() {
    if (pollTimer) { clearTimeout(pollTimer); pollTimer = null; }
  }

  // The stream.
  var source = null, watchdog = null, retryTimer = null, retryWait = RETRY, openedAt = 0;
  function heard() {
    clearTimeout(watchdog);
    watchdog = setTimeout(function () { cut("the stream went quiet"); }, QUIET);
  }
  function connect() {
    retryTimer = null;
    if (!window.EventSource) { startPolling(); return; }
    var es = new EventSource(url + "/live");
    source = es;
    openedAt = Date.now();
    heard();
    es.addEventListener(kind, function (e) {
      if (source !== es) { return; }
      heard();
      var g;
      try { g = JSON.parse(e.data); } catch (err) { return; }
      mode = "live";
      problem = "";
      stopPolling();
      render(g);
    });
    es.addEventListener("heartbeat", function () { if (source === es) { heard(); } });
    // The server ends a stream now and then (it renews it, or it stops):
    // connect again at once; polling covers the moment between.
    es.addEventListener("reconnect", function () {
      if (source !== es) { return; }
      close();
      startPolling();
      connect();
    });
    es.onerror = function () {
      if (source !== es) { return; }
      cut("");
    };
  }
  function close() {
    clearTimeout(watchdog);
    if (source) { source.close(); source = null; }
  }
  // cut falls back to polling and tries the stream again later: the
  // browser's own reconnection would hammer a server that does not stream.
  // A stream that lived a while is tried again after RETRY; one cut short
  // (a server that answers once and ends, a proxy that cuts it) later and
  // later.
  function cut(why) {
    close();
    mode = "polling";
    if (why) { problem = why; }
    say();
    startPolling();
    if (Date.now() - openedAt > QUIET) { retryWait = RETRY; }
    if (!retryTimer) {
      retryTimer = setTimeout(connect, retryWait);
      retryWait = Math.min(retryWait * 2, RETRY_MAX);
    }
  }

  // A lead's action on this page changed it: read it at once rather than
  // wait for the stream, which says so too within a moment.
  document.addEventListener("cutover:changed", function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(render)
      .catch(function () { /* the stream or the polling brings it */ });
  });

  // A page left (for another, or kept in the browser's back-forward cache)
  // closes its stream: a browser opens at most six connections to a host,
  // and streams of pages no longer shown would take them all, leaving the
  // lead's next action waiting for one. A page shown again reconnects.
  window.addEventListener("pagehide", function () {
    close();
    stopPolling();
    clearTimeout(retryTimer);
    retryTimer = null;
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) { connect(); startPolling(); }
  });

  connect();
  startPolling(); // until the stream's first event
})();

// Live updates of a pilot group's dashboard: the page reads the group from
// the API every two seconds (with the sign-in cookie) and updates the
// progress bars, states, reasons and failures in place.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) { return; }
  var id = root.dataset.group, waveID = root.dataset.wave;
  var states = ["moved", "skipped", "failed", "cancelled", "rolled_back"];

  function counts(p) {
    var c = p.counts || {};
    var parts = [p.done + " of " + p.total + " done (" + p.percent_done + "%)"];
    states.forEach(function (s) { if (c[s]) { parts.push(c[s] + " " + s.replace("_", " ")); } });
    if (p.in_flight) { parts.push(p.in_flight + " in flight"); }
    if (c.retrying) { parts.push(c.retrying + " waiting to retry"); }
    return parts.join(", ");
  }
  function detail(w) {
    var s = "at most " + w.concurrency_limit + " of " + w.concurrency + " in flight";
    if (w.progress.estimated_finish && w.state === "running") {
      s += "; about " + Math.max(0, Math.round((Date.parse(w.progress.estimated_finish) - Date.now()) / 1000)) + " s left";
    }
    if (w.next_window_open) { s += "; its window opens " + new Date(w.next_window_open).toLocaleString(); }
    return s;
  }
  function set(el, text) { if (el && el.textContent !== text) { el.textContent = text; } }

  function renderWave(w) {
    var card = document.getElementById("wave-" + w.id);
    if (!card) { return; }
    var st = card.querySelector('[data-field="state"]');
    set(st, w.state);
    st.className = "state state-" + w.state;
    var reason = card.querySelector('[data-field="reason"]');
    set(reason, w.state_reason || "");
    reason.hidden = !w.state_reason;
    var bar = card.querySelector('[data-field="progress"]');
    bar.value = w.progress.percent_done;
    bar.setAttribute("aria-label", w.name + ": " + w.progress.percent_done + "% done");
    set(card.querySelector('[data-field="counts"]'), counts(w.progress));
    set(card.querySelector('[data-field="detail"]'), detail(w));
  }

  function render(g) {
    if (waveID) { renderWave(g); return; }
    set(document.getElementById("group-summary"),
      g.progress.done + " of " + g.progress.total + " done (" + g.progress.percent_done + "%), " + ((g.progress.counts || {}).failed || 0) + " failed");
    var gp = document.getElementById("group-progress");
    gp.value = g.progress.percent_done;
    gp.setAttribute("aria-label", "The whole group: " + g.progress.percent_done + "% done");
    (g.waves || []).forEach(renderWave);
    var body = document.querySelector("#failures tbody");
    var rows = (g.failures || []).map(function (f) {
      var tr = document.createElement("tr");
      [f.code, String(f.count), f.explanation + " Fix: " + f.fix].forEach(function (t, i) {
        var td = document.createElement("td");
        if (i === 0) { var code = document.createElement("code"); code.textContent = t; td.appendChild(code); } else { td.textContent = t; }
        tr.appendChild(td);
      });
      return tr;
    });
    if (rows.length) { body.replaceChildren.apply(body, rows); }
    set(document.querySelector("#updated time"), new Date().toLocaleTimeString());
  }

  function tick() {
    var url = waveID ? "/api/v1/waves/" + encodeURIComponent(waveID) : "/api/v1/groups/" + encodeURIComponent(id);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(render)
      .catch(function (e) { set(document.querySelector("#updated"), "not updated: " + e.message); })
      .finally(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 2000);
})();

// A lead's actions on the pages. Each is a form marked data-url: on submit it
// asks for a confirmation that says what it does to users (data-confirm),
// then sends the change to the API, the same route, use case, role check and
// audit entry as any API client, with the session's anti-forgery token. The
// answer is shown in the form's result area: the errors by line or field, or
// what happened; then the page goes on as data-done says: reload (the
// default), live (the page follows the change itself), go:<path> (another
// page) or the name of a renderer of the answer.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";
  var dialog = document.getElementById("confirm-dialog");

  // confirm shows the dialog with what the action does; resolves true when
  // the lead confirms.
  // A button of its own (data-confirm on the submitter) says what it does
  // in place of its form; "{n}" in it is how many users are chosen.
  function confirmAction(form, submitter) {
    var says = submitter && submitter.dataset.confirm ? submitter.dataset : form.dataset;
    var text = says.confirm;
    if (!text || !dialog) { return Promise.resolve(true); }
    text = text.replace("{n}", String(chosen(form).length));
    document.getElementById("confirm-title").textContent = says.confirmTitle || "Are you sure?";
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = says.confirmButton || "Yes, go ahead";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue === "ok");
      });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  // set puts a value at a dotted path ("failure_threshold.percent").
  function set(obj, path, value) {
    var keys = path.split("."), o = obj;
    keys.slice(0, -1).forEach(function (k) { o = o[k] = o[k] || {}; });
    o[keys[keys.length - 1]] = value;
  }

  // chosen lists the values of the form's ticked choices (data-type list).
  function chosen(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.dataset && el.dataset.type === "list" && el.checked;
    }).map(function (el) { return el.value; });
  }

  // jsonOf reads a form into the API's JSON: data-type says how a field
  // reads (number, bool, lines: one item per line, datetime: a local date
  // and time as RFC 3339); empty fields are left out, and so are fields
  // marked data-local, which are the page's own (a search's choices).
  function jsonOf(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name === "csrf" || "local" in el.dataset) { return; }
      var type = el.dataset.type || "text", v;
      if (type === "bool") { if (el.checked) { set(body, el.name, true); } return; }
      if (type === "list") {
        body[el.name] = body[el.name] || [];
        if (el.checked) { body[el.name].push(el.value); }
        return;
      }
      if (el.type === "radio" && !el.checked) { return; }
      v = el.value.trim();
      if (v === "") { return; }
      if (type === "number") { v = Number(v); }
      if (type === "lines") { v = v.split(/[\n,;]+/).map(function (s) { return s.trim(); }).filter(Boolean); }
      if (type === "datetime") { v = new Date(v).toISOString(); }
      set(body, el.name, v);
    });
    return body;
  }

  function show(form, cls, nodes) {
    var out = form.querySelector(".result");
    if (!out) { return; }
    out.className = "result " + cls;
    out.setAttribute("role", cls === "error" ? "alert" : "status");
    out.replaceChildren.apply(out, nodes);
    out.hidden = false;
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  // problem shows an API error: its message, then every problem by line
  // or field.
  function problem(form, status, err) {
    var nodes = [el("p", (err && err.message) || ("The server answered " + status + "."))];
    var details = (err && err.details) || [];
    if (details.length) {
      var ul = el("ul");
      details.forEach(function (d) {
        var where = d.line ? "line " + d.line + (d.field ? ", " + d.field : "") : (d.field || "");
        ul.appendChild(el("li", (where ? where + ": " : "") + d.message));
      });
      nodes.push(ul);
    }
    if (status === 403 && err && (err.code === "csrf_token" || err.code === "cross_origin")) {
      nodes.push(el("p", "Reload the page and try again."));
    }
    show(form, "error", nodes);
  }

  // when writes a time as every page does (time.js), in the viewer's zone.
  function when(iso) {
    var d = new Date(iso);
    return window.cutoverTime ? window.cutoverTime.format(d) : d.toISOString();
  }

  // Renderers of answers a page shows in place.
  var renderers = {
    "plan-preview": function (form, answer) {
      var waves = answer.waves || [];
      var table = el("table");
      var cap = el("caption", "The waves this plan makes, in your time zone (" + Intl.DateTimeFormat().resolvedOptions().timeZone + ")");
      table.appendChild(cap);
      var ends = answer.wave_ends || [];
      var head = el("tr");
      ["Wave", "Users", "Starts", "Ends around", "At once", "Attempts"].forEach(function (h) { var th = el("th", h); th.scope = "col"; head.appendChild(th); });
      var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
      var tbody = el("tbody");
      waves.forEach(function (w, i) {
        var tr = el("tr");
        [w.name, String(w.size), when(w.start_at), ends[i] ? when(ends[i]) : "not known yet", String(w.concurrency), String(w.max_attempts)].forEach(function (t) { tr.appendChild(el("td", t)); });
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      var total = waves.reduce(function (n, w) { return n + w.size; }, 0);
      var wrap = el("div", undefined, "scroll");
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", "Plan preview");
      wrap.appendChild(table);
      var said = "Preview: " + waves.length + " waves, " + total + " users";
      var pace = answer.ends_around ?
        "At the pace of the last week's moves (half took under " + Math.round(answer.pace_seconds) + " s; " + answer.pace_moves +
          " moves), the last wave ends around " + when(answer.ends_around) + ", not counting maintenance windows or retries." :
        "No move has ended in the last week, so when the waves end is not estimated yet.";
      show(form, "ok", [el("p", said + ". Nothing is saved until you save the plan."), el("p", pace), wrap]);
      // The confirmation of the save says what the preview showed; an edit
      // of the form after it hides the save until the next preview.
      form.dataset.confirmBase = form.dataset.confirmBase || form.dataset.confirm;
      form.dataset.confirm = form.dataset.confirmBase + " " + said + ", the first starting " +
        (waves.length ? when(waves[0].start_at) : "") + ".";
      var save = form.querySelector('[data-save]');
      if (save) { save.hidden = false; }
    },
    // What an import found before keeping anything: its users, those
    // being moved in another group and those in Teams by another group's
    // moves, each with a choice to leave them out; then the import itself.
    "import-preview": function (form, answer) {
      var r = answer.import || {};
      var nodes = [el("p", "Checked: " + r.users + (r.users === 1 ? " user" : " users") + ", every one well formed. Nothing is kept until you import.")];
      [["busy", r.busy, "being moved, or planned, in another group's wave"], ["in_teams", r.in_teams, "in Teams already, moved there (or found there) by another group"]].forEach(function (k) {
        var c = k[1] || { users: 0, says: [] };
        if (!c.users) { return; }
        nodes.push(el("p", c.users + (c.users === 1 ? " is " : " are ") + k[2] + ":"));
        var ul = el("ul");
        (c.says || []).forEach(function (s) { ul.appendChild(el("li", s)); });
        if (c.users > (c.says || []).length) { ul.appendChild(el("li", "and " + (c.users - c.says.length) + " more")); }
        nodes.push(ul);
        var label = el("label", undefined, "check"), box = el("input");
        box.type = "checkbox";
        box.name = "leave_out";
        box.value = k[0];
        box.checked = true;
        box.dataset.type = "list";
        box.dataset.keepPreview = "";
        label.append(box, " Leave " + (c.users === 1 ? "this user" : "these " + c.users + " users") + " out of the group");
        nodes.push(label);
      });
      if (!(r.busy && r.busy.users) && !(r.in_teams && r.in_teams.users)) {
        nodes.push(el("p", "None of them is in another group's moves."));
      }
      show(form, "ok", nodes);
      var save = form.querySelector("[data-save]");
      if (save) { save.hidden = false; }
    },
    // A dry run's outcome: the counts, by error code with the fix, the
    // first users concerned, and the list of them all (where they can be
    // left out of the plan, or downloaded).
    "preflight": function (form, r) {
      var nodes = [el("p", "Dry run: " + r.passed + " pass, " + r.warned + " with warnings, " + r.failed + " would fail. Nothing was moved.")];
      var ul = el("ul");
      (r.by_code || []).forEach(function (c) {
        ul.appendChild(el("li", c.code + ": " + c.count + " users. " + (c.explanation || "") + (c.fix ? " Fix: " + c.fix : "")));
      });
      if (ul.childNodes.length) { nodes.push(ul); }
      var users = (r.users || []).slice(0, 10);
      if (users.length) {
        var ul2 = el("ul");
        users.forEach(function (u) {
          var fails = (u.checks || []).filter(function (c) { return c.status !== "pass"; }).map(function (c) { return c.name + ": " + c.evidence + (c.fix ? " Fix: " + c.fix : ""); });
          ul2.appendChild(el("li", u.upn + " (" + u.status + "): " + fails.join("; ")));
        });
        nodes.push(el("p", "The first " + users.length + " of them:"), ul2);
      }
      var list = form.dataset.users;
      [["fail", r.failed, " who would fail"], ["warn", r.warned, " with warnings"]].forEach(function (k) {
        if (!list || !k[1]) { return; }
        var p = el("p"), a = el("a", "List the " + k[1] + (k[1] === 1 ? " user" : " users") + k[2]);
        a.href = list + "?dry=" + k[0];
        p.append(a, " — to leave them out of the plan, or download them.");
        nodes.push(p);
      });
      show(form, r.failed ? "warn" : "ok", nodes);
    },
    "token-secret": function (form, t) {
      var code = el("code", t.secret);
      var p = el("p", "Token " + t.name + " (" + t.role + ") made. Its secret, shown this once: ");
      p.appendChild(code);
      show(form, "ok", [p, el("p", t.note || "")]);
    }
  };

  function done(form, answer) {
    var how = form.dataset.done || "reload";
    if (renderers[how]) { renderers[how](form, answer); return; }
    if (how.indexOf("go:") === 0) {
      location.assign(how.slice(3).replace("{id}", encodeURIComponent(answer && answer.id)));
      return;
    }
    if (how === "live") {
      // The page follows the change itself (dashboard.js): it is said in
      // the page's status line, which outlives the form's buttons.
      var status = document.getElementById("action-status");
      if (status) {
        status.textContent = form.dataset.doneText || "Done.";
        status.hidden = false;
        // The note holds while what it announced holds: the page's script
        // takes it away once the state the action left (its answer's) has
        // been shown and then changes.
        status.dataset.state = (answer && answer.state) || "";
        delete status.dataset.seen;
      }
      form.querySelector(".result").hidden = true;
      document.dispatchEvent(new CustomEvent("cutover:changed"));
      return;
    }
    show(form, "ok", [el("p", form.dataset.doneText || (answer && answer.says) || "Done.")]);
    if (how === "reload") { reloadSoon(); }
  }

  // reloadSoon reloads the page a moment after an action, long enough to
  // read what it said; a lead who goes elsewhere in that moment (a link
  // followed, a form sent) goes there, not back to this page.
  var reloading = null;
  function reloadSoon() {
    reloading = setTimeout(function () { location.reload(); }, 400);
  }
  function stayGone() {
    if (reloading !== null) { clearTimeout(reloading); reloading = null; }
  }
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[href]");
    if (a) { stayGone(); }
  }, true);
  if (window.navigation) { window.navigation.addEventListener("navigate", stayGone); }

  function submit(form, submitter) {
    var url = (submitter && submitter.dataset.url) || form.dataset.url;
    var method = (submitter && submitter.dataset.method) || form.dataset.method || "POST";
    var headers = { "Accept": "application/json", "X-CSRF-Token": csrf };
    var body;
    if (form.dataset.body === "multipart") {
      body = new FormData(form);
      body.delete("csrf");
      if (submitter && submitter.dataset.preview) { body.set("preview", "true"); }
    } else if (form.dataset.body !== "none") {
      var json = jsonOf(form);
      if (submitter && submitter.dataset.preview) { json.preview = true; }
      if (submitter && submitter.dataset.as) {
        // The same choices under the name this button's route takes.
        json[submitter.dataset.as] = json.users;
        delete json.users;
      }
      body = JSON.stringify(json);
      headers["Content-Type"] = "application/json";
    }
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    show(form, "busy", [el("p", "Working…")]);
    return fetch(url, { method: method, headers: headers, body: body, credentials: "same-origin" })
      .then(function (r) {
        return r.text().then(function (t) {
          var v = null;
          try { v = t ? JSON.parse(t) : null; } catch (e) { v = null; }
          if (!r.ok) { problem(form, r.status, v && v.error); return; }
          if (submitter && submitter.dataset.preview) { renderers[submitter.dataset.preview](form, v); return; }
          done(form, v);
        });
      })
      .catch(function (e) { show(form, "error", [el("p", "The server could not be reached: " + e.message)]); })
      .finally(function () { buttons.forEach(function (b) { b.disabled = false; }); });
  }

  // A list of users to choose from: "choose all" ticks every user shown,
  // and the count of those chosen is said as it changes.
  var all = document.getElementById("choose-all");
  function sayChosen() {
    var form = document.getElementById("chosen"), count = document.getElementById("chosen-count");
    if (!form || !count) { return; }
    var n = chosen(form).length;
    count.textContent = n === 0 ? "None chosen." : n === 1 ? "1 user chosen." : n + " users chosen.";
  }
  if (all) {
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(all.form.elements, function (e) {
        if (e.dataset && e.dataset.type === "list") { e.checked = all.checked; }
      });
      sayChosen();
    });
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.dataset && ev.target.dataset.type === "list") { sayChosen(); }
  });

  document.addEventListener("input", function (ev) {
    if (ev.target.dataset && "keepPreview" in ev.target.dataset) { return; } // a choice the preview offered
    var form = ev.target.form;
    var save = form && form.querySelector('[data-save]');
    if (!save || save.hidden) { return; }
    save.hidden = true;
    show(form, "busy", [el("p", form.id === "plan" ? "The plan changed: preview it again before saving." : "The form changed: check it again before importing.")]);
  });

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.dataset || !form.dataset.url) { return; }
    ev.preventDefault();
    var submitter = ev.submitter;
    var preview = submitter && submitter.dataset.preview;
    if (submitter && "needsChoice" in submitter.dataset && chosen(form).length === 0) {
      show(form, "error", [el("p", "Choose at least one user in the list first.")]);
      return;
    }
    (preview ? Promise.resolve(true) : confirmAction(form, submitter)).then(function (ok) {
      if (ok) { submit(form, submitter); }
    });
  });
})();

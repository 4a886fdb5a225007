// Finding the Entra ID group to import by its name. The import form
// (#import-entra) takes the group's object ID, which people rarely know;
// this asks the API for the groups whose name starts with what the lead
// typed (GET /api/v1/entra/groups: a read, so it needs no anti-forgery
// token) and lists them as radio buttons. The one chosen fills in the
// object ID and, if it is still empty, the pilot group's name. The radio
// buttons are marked data-local: actions.js does not send them with the
// import.
(function () {
  "use strict";
  var input = document.getElementById("entra-find");
  var button = document.getElementById("entra-find-button");
  var status = document.getElementById("entra-find-status");
  var list = document.getElementById("entra-matches");
  var groupID = document.getElementById("entra-group");
  var groupName = document.getElementById("entra-name");
  if (!input || !button || !status || !list || !groupID || !groupName) { return; }
  // searches counts the searches sent, so that the answer to an earlier
  // one, arriving late, does not replace the latest.
  var searches = 0;

  function say(text) { status.textContent = text; }

  function clear() {
    list.replaceChildren();
    list.hidden = true;
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  // choose fills the import form from the group chosen.
  function choose(g) {
    groupID.value = g.id;
    if (groupName.value.trim() === "") { groupName.value = g.display_name; }
  }

  function show(groups, name) {
    clear();
    if (!groups.length) {
      say("No group starts with \u201c" + name + "\u201d.");
      return;
    }
    list.appendChild(el("legend", "Groups whose name starts with \u201c" + name + "\u201d"));
    groups.forEach(function (g, i) {
      var radio = el("input");
      radio.type = "radio";
      radio.name = "entra-pick";
      radio.id = "entra-pick-" + i;
      radio.value = g.id;
      radio.dataset.local = "";
      radio.addEventListener("change", function () { if (radio.checked) { choose(g); } });
      var label = el("label", undefined, "check");
      label.htmlFor = radio.id;
      label.appendChild(radio);
      label.appendChild(el("span", g.display_name));
      if (g.description) { label.appendChild(el("span", g.description, "muted")); }
      list.appendChild(label);
    });
    list.hidden = false;
    var found = groups.length === 1 ? "1 group found" : groups.length + " groups found";
    if (groups.length >= 20) { found += "; only the first 20 are shown: type more of the name to narrow the list"; }
    say(found + ".");
  }

  function find() {
    var name = input.value.trim();
    if (name === "") {
      say("Type the start of the group's name first.");
      input.focus();
      return;
    }
    var mine = ++searches;
    list.setAttribute("aria-busy", "true");
    say("Looking for groups\u2026");
    fetch("/api/v1/entra/groups?name=" + encodeURIComponent(name), {
      method: "GET", credentials: "same-origin", headers: { "Accept": "application/json" }
    })
      .then(function (r) {
        return r.text().then(function (t) {
          var v = null;
          try { v = t ? JSON.parse(t) : null; } catch (e) { v = null; }
          if (mine !== searches) { return; }
          if (!r.ok) {
            clear();
            say((v && v.error && v.error.message) || ("The server answered " + r.status + "."));
            return;
          }
          show((v && v.groups) || [], name);
        });
      })
      .catch(function (e) {
        if (mine === searches) { clear(); say("The server could not be reached: " + e.message); }
      })
      .finally(function () { if (mine === searches) { list.removeAttribute("aria-busy"); } });
  }

  button.addEventListener("click", find);
  // Enter in the search box searches; it does not submit the import.
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      ev.preventDefault();
      find();
    }
  });
})();

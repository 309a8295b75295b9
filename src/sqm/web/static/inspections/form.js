// Phone visit form: keeps a draft in localStorage on every change and on the server a moment
// later, restores the newer of the two after a reload, uploads photos as they are taken, and
// submits everything at once.
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;
  var key = "sqm-visit-" + form.dataset.visit;
  var status = document.getElementById("draft-status");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var timer = null;

  function collect() {
    var answers = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (el) {
      answers[el.name.slice(2)] = el.value === "na" ? null : Number(el.value);
    });
    var notes = {};
    form.querySelectorAll("input.note").forEach(function (el) {
      if (el.value) notes[el.name.slice(2)] = el.value;
    });
    var ta = form.querySelector("textarea[name=notes]");
    return {
      answers: answers,
      item_notes: notes,
      notes: ta ? ta.value : "",
      started_at: document.getElementById("started_at").value,
      saved: Date.now()
    };
  }

  function apply(d) {
    if (!d || !d.answers) return;
    Object.keys(d.answers).forEach(function (code) {
      var v = d.answers[code] === null ? "na" : String(d.answers[code]);
      var el = form.querySelector('input[name="a_' + code + '"][value="' + v + '"]');
      if (el) el.checked = true;
    });
    Object.keys(d.item_notes || {}).forEach(function (code) {
      var el = form.querySelector('input[name="n_' + code + '"]');
      if (el) el.value = d.item_notes[code];
    });
    var ta = form.querySelector("textarea[name=notes]");
    if (ta && d.notes) ta.value = d.notes;
    if (d.started_at) document.getElementById("started_at").value = d.started_at;
  }

  function progress() {
    var groups = {};
    form.querySelectorAll("input[type=radio]").forEach(function (el) { groups[el.name] = groups[el.name] || el.checked; });
    var names = Object.keys(groups);
    var done = names.filter(function (n) { return groups[n]; }).length;
    document.getElementById("progress").textContent = done + " / " + names.length;
  }

  function saveLocal() {
    var d = collect();
    try { localStorage.setItem(key, JSON.stringify(d)); } catch (e) { /* private mode: server draft only */ }
    status.textContent = "✓ " + new Date(d.saved).toLocaleTimeString();
    progress();
    clearTimeout(timer);
    timer = setTimeout(saveServer, 1500);
  }

  function saveServer() {
    var d = collect();
    fetch(form.dataset.draftUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ answers: d.answers, notes: d.notes }),
      credentials: "same-origin"
    }).catch(function () { /* offline: the local draft is kept */ });
  }

  // restore: the local draft wins when it has answers (it is never older than the server's)
  var local = null;
  try { local = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { local = null; }
  var server = null;
  try { server = JSON.parse(document.getElementById("server-draft").textContent || "null"); } catch (e) { server = null; }
  if (server) apply(server);
  if (local) apply(local);
  if (!document.getElementById("started_at").value) {
    document.getElementById("started_at").value = new Date().toISOString();
  }
  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("checkin_lat").value = pos.coords.latitude;
      document.getElementById("checkin_lon").value = pos.coords.longitude;
    }, function () {}, { enableHighAccuracy: true, timeout: 10000 });
  }
  progress();
  form.addEventListener("change", saveLocal);
  form.addEventListener("input", function (e) { if (e.target.matches("input.note, textarea")) saveLocal(); });

  form.querySelectorAll("input[data-photo]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (!input.files.length) return;
      var fd = new FormData();
      fd.append("file", input.files[0]);
      fd.append("item_code", input.dataset.photo);
      fd.append("kind", input.dataset.kind);
      fd.append("csrf_token", csrf);
      var mark = form.querySelector('[data-photo-status="' + input.dataset.photo + '"]');
      mark.textContent = "…";
      fetch(form.dataset.evidenceUrl, { method: "POST", body: fd, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" })
        .then(function (r) { mark.textContent = r.ok ? "✓" : "✗"; })
        .catch(function () { mark.textContent = "✗"; });
    });
  });
})();

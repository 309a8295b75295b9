// One question group at a time, with progress and required-answer checks next to the
// field. The server validates everything again; without JavaScript every group shows.
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form) return;
  document.documentElement.className += " js";
  var groups = Array.prototype.slice.call(form.querySelectorAll("fieldset.group"));
  var back = document.getElementById("back"), next = document.getElementById("next");
  var submit = document.getElementById("submit"), bar = document.getElementById("bar");
  var step = document.getElementById("step");
  var current = 0;

  function value(name) {
    var els = form.elements[name];
    if (!els) return null;
    if (els.length !== undefined && !els.tagName) {
      var vals = [];
      for (var i = 0; i < els.length; i++) if (els[i].checked) vals.push(els[i].value);
      return els[0].type === "checkbox" ? vals : (vals[0] || null);
    }
    if (els.type === "radio" || els.type === "checkbox") return els.checked ? els.value : null;
    return els.value === "" ? null : els.value;
  }
  function holds(cond) {
    var v = value(cond.field);
    if (v === null || (Array.isArray(v) && !v.length)) return false;
    var list = Array.isArray(v) ? v : [v];
    var num = parseFloat(list[0]);
    switch (cond.op) {
      case "answered": return true;
      case "eq": return list.indexOf(String(cond.value)) >= 0;
      case "ne": return list.indexOf(String(cond.value)) < 0;
      case "in": return cond.value.some(function (x) { return list.indexOf(String(x)) >= 0; });
      case "ge": return num >= cond.value;
      case "le": return num <= cond.value;
    }
    return false;
  }
  function visible(el) {
    var c = el.getAttribute("data-show-if");
    return !c || holds(JSON.parse(c));
  }
  function applyConditions() {
    form.querySelectorAll(".q[data-show-if]").forEach(function (q) {
      var show = visible(q);
      q.hidden = !show;
      if (!show) q.querySelectorAll("input,textarea").forEach(function (i) {
        if (i.type === "radio" || i.type === "checkbox") i.checked = false; else i.value = "";
      });
    });
  }
  function liveGroups() { return groups.filter(visible); }
  function show() {
    var live = liveGroups();
    if (current >= live.length) current = live.length - 1;
    groups.forEach(function (g) { g.hidden = g !== live[current]; });
    back.hidden = current === 0;
    next.hidden = current === live.length - 1;
    submit.hidden = current !== live.length - 1;
    bar.style.width = Math.round(100 * (current + 1) / live.length) + "%";
    step.textContent = (current + 1) + " / " + live.length;
    window.scrollTo(0, 0);
  }
  function mark(q, msg) {
    var p = q.querySelector(".err.js-err");
    if (!msg) { if (p) p.remove(); q.classList.remove("bad"); return; }
    if (!p) { p = document.createElement("p"); p.className = "err js-err"; q.appendChild(p); }
    p.textContent = msg;
    q.classList.add("bad");
  }
  function sums() {
    form.querySelectorAll(".q[data-type=constant_sum]").forEach(function (q) {
      var t = 0;
      q.querySelectorAll("input").forEach(function (i) { t += parseInt(i.value || "0", 10) || 0; });
      q.querySelector("[data-total]").textContent = t;
    });
  }
  function check(group) {
    var ok = true, first = null;
    group.querySelectorAll(".q").forEach(function (q) {
      if (q.hidden) return;
      var msg = null;
      if (q.getAttribute("data-type") === "constant_sum") {
        var t = 0, any = false;
        q.querySelectorAll("input").forEach(function (i) { if (i.value !== "") any = true; t += parseInt(i.value || "0", 10) || 0; });
        if (any && t !== 100) msg = form.getAttribute("data-sum");
        else if (!any && q.hasAttribute("data-required")) msg = form.getAttribute("data-required");
      } else if (q.hasAttribute("data-required")) {
        var names = {};
        q.querySelectorAll("input,textarea").forEach(function (i) { names[i.name] = true; });
        Object.keys(names).forEach(function (n) {
          var v = value(n);
          if (v === null || (Array.isArray(v) && !v.length)) msg = form.getAttribute("data-required");
        });
      }
      mark(q, msg);
      if (msg) { ok = false; if (!first) first = q; }
    });
    if (first) first.scrollIntoView({ block: "center" });
    return ok;
  }
  form.addEventListener("change", function () { applyConditions(); sums(); });
  form.addEventListener("input", sums);
  next.addEventListener("click", function () { if (check(liveGroups()[current])) { current++; show(); } });
  back.addEventListener("click", function () { current--; show(); });
  form.addEventListener("submit", function (e) {
    if (!check(liveGroups()[current])) { e.preventDefault(); return; }
    submit.disabled = true;  // one click, one submission
  });
  applyConditions();
  sums();
  // after a server-side rejection, open the first group with a message
  var bad = form.querySelector(".q.bad");
  if (bad) current = Math.max(0, liveGroups().indexOf(bad.closest("fieldset")));
  show();
})();

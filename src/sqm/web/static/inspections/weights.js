// Weight-profile editor: the hand-entered percentages' sum (and each section's) live as the
// analyst types, and the reciprocal of each AHP judgment in the mirrored cell.
(function () {
  "use strict";
  function num(text) {
    var t = String(text || "").trim();
    if (t.indexOf("/") > 0) {
      var p = t.split("/");
      return Number(p[0]) / Number(p[1]);
    }
    return Number(t);
  }

  var manual = document.getElementById("manual-form");
  function updateSum() {
    var total = 0;
    var bySection = {};
    var bad = false;
    manual.querySelectorAll("input[data-w]").forEach(function (el) {
      var v = num(el.value);
      if (!(v > 0)) { bad = true; return; }
      total += v;
      bySection[el.dataset.section] = (bySection[el.dataset.section] || 0) + v;
    });
    var out = document.getElementById("weight-sum");
    out.textContent = total.toFixed(2) + " %";
    out.className = !bad && Math.abs(total - 100) <= 0.1 ? "ok" : "bad";
    manual.querySelectorAll("[data-section-sum]").forEach(function (el) {
      el.textContent = (bySection[el.dataset.sectionSum] || 0).toFixed(2) + " %";
    });
  }
  if (manual) {
    manual.addEventListener("input", updateSum);
    updateSum();
  }

  var ahp = document.getElementById("ahp-form");
  function updateMirror() {
    ahp.querySelectorAll("input[data-ij]").forEach(function (el) {
      var cell = ahp.querySelector('[data-mirror="' + el.dataset.ij + '"]');
      var v = num(el.value);
      if (!cell) return;
      if (!(v > 0)) { cell.textContent = "?"; return; }
      cell.textContent = v >= 1 ? (v === 1 ? "1" : "1/" + Math.round(v * 100) / 100) : String(Math.round(100 / v) / 100);
    });
  }
  if (ahp) {
    ahp.addEventListener("input", updateMirror);
    updateMirror();
  }
})();

// Survey design pages: after the editor is re-drawn, bring the changed part into view;
// "Use as total" copies the calculator's result into the wave's total.
(function () {
  "use strict";
  function reveal(root) {
    var editor = (root && root.querySelector && root.querySelector("#editor")) || document.getElementById("editor");
    if (root && root.id === "editor") editor = root;
    if (!editor) return;
    var id = editor.getAttribute("data-anchor");
    var target = id && document.getElementById(id);
    if (!target) return;
    var box = target.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) target.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("htmx:afterSettle", function (evt) { reveal(evt.target); });
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest && evt.target.closest("button.use-n");
    if (!btn) return;
    var total = document.getElementById("total");
    if (total) { total.value = btn.getAttribute("data-n"); total.focus(); }
  });
})();

// Checklist editor: add, remove and move sections, indicators and items. Every node carries
// hidden fields with its key, level and parent; the server reads the nodes in document order,
// so moving an element moves the node. New nodes get a fresh key.
(function () {
  "use strict";
  var form = document.getElementById("checklist-editor");
  if (!form) return;
  var counter = 0;

  function freshKey() {
    counter += 1;
    return "n" + Date.now().toString(36) + counter;
  }

  function build(level, parentKey) {
    var tpl = document.getElementById("tpl-" + level);
    var key = freshKey();
    var html = tpl.innerHTML.split("__KEY__").join(key).split("__PARENT__").join(parentKey || "");
    var box = document.createElement("div");
    box.innerHTML = html.trim();
    var node = box.firstElementChild;
    // a new indicator comes with one item, a new section with one indicator
    if (level === "section") add(node, "indicator");
    if (level === "indicator") add(node, "item");
    return node;
  }

  function add(owner, level) {
    var list = owner ? owner.querySelector(":scope > .children") : document.getElementById("tree");
    var node = build(level, owner ? owner.dataset.key : "");
    list.appendChild(node);
    syncKind(node);
    return node;
  }

  function syncKind(root) {
    root.querySelectorAll("select[data-kind]").forEach(function (sel) {
      var scale = sel.closest(".item").querySelector("input[data-scale]");
      if (sel.value === "yes_no") {
        scale.value = "1";
        scale.readOnly = true;
      } else {
        scale.readOnly = false;
        if (Number(scale.value) < 2) scale.value = "5";
      }
    });
  }

  form.addEventListener("click", function (e) {
    var t = e.target;
    if (!(t instanceof HTMLElement)) return;
    var node = t.closest(".node");
    if (t.dataset.add) {
      e.preventDefault();
      var owner = t.dataset.add === "section" ? null : t.closest(".node");
      var made = add(owner, t.dataset.add);
      var first = made.querySelector("input[name$='.code']");
      if (first) first.focus();
    } else if (t.hasAttribute("data-remove") && node) {
      e.preventDefault();
      if (window.confirm(document.getElementById("confirm-remove").textContent)) node.remove();
    } else if (t.hasAttribute("data-up") && node) {
      e.preventDefault();
      var prev = node.previousElementSibling;
      if (prev) node.parentNode.insertBefore(node, prev);
    } else if (t.hasAttribute("data-down") && node) {
      e.preventDefault();
      var next = node.nextElementSibling;
      if (next) node.parentNode.insertBefore(next, node);
    }
  });
  form.addEventListener("change", function (e) {
    if (e.target.matches("select[data-kind]")) syncKind(e.target.closest(".item"));
  });
  syncKind(form);
})();

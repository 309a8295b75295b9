// Page behaviours declared by data attributes, so that no template needs inline script
// or on* handlers (the Content-Security-Policy allows scripts from /static and nonces only).
//   <form data-confirm="Delete?">       asks before submitting
//   <select data-autosubmit>            submits its form when changed
//   <button data-print>                 prints the page
//   <a data-back href="/">              goes back in history (the link's href otherwise)
//   <button data-toggle-children>       opens/closes the <ul> beside it (org tree)
//   <div data-forget-draft="key">       removes a saved draft from localStorage
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target.closest ? e.target.closest("form[data-confirm]") : null;
    if (form && !window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
  }, true);
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });
  document.addEventListener("click", function (e) {
    var el = e.target.closest ? e.target.closest("[data-print],[data-back],[data-toggle-children]") : null;
    if (!el) return;
    if (el.hasAttribute("data-print")) {
      window.print();
    } else if (el.hasAttribute("data-back")) {
      if (window.history.length > 1) { e.preventDefault(); window.history.back(); }
    } else {
      var open = el.getAttribute("aria-expanded") !== "true";
      el.setAttribute("aria-expanded", String(open));
      var list = el.parentElement.querySelector(":scope > ul");
      if (list) list.hidden = !open;
    }
  });
  function forgetDrafts() {
    document.querySelectorAll("[data-forget-draft]").forEach(function (el) {
      try { window.localStorage.removeItem(el.getAttribute("data-forget-draft")); } catch (err) { /* storage off */ }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", forgetDrafts);
  else forgetDrafts();
})();

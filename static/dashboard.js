// EggPool dashboard behaviour: the mobile page menu, the theme picker and the
// refresh button. Pages work without it; these are conveniences.
"use strict";

function initMenu() {
  const toggle = document.querySelector(".menu-toggle");
  const bar = document.querySelector(".topbar");
  if (!toggle || !bar) return;
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    const label = open ? "Close page menu" : "Open page menu";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.setAttribute("aria-label", label);
    toggle.setAttribute("data-tooltip", label);
    bar.toggleAttribute("data-menu-open", open);
  });
}

function initThemePicker() {
  const select = document.querySelector("select[data-autosubmit]");
  if (!select || !select.form) return;
  select.addEventListener("change", () => select.form.submit());
}

function initRefresh() {
  const button = document.querySelector("[data-refresh]");
  if (!button) return;
  button.addEventListener("click", (event) => {
    event.preventDefault();
    location.reload();
  });
}

function init() {
  initMenu();
  initThemePicker();
  initRefresh();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", init);
} else {
  init();
}

// EggPool dashboard behaviour: the mobile page menu, the theme picker, the
// refresh button and, on pages whose <body> has data-refresh-s, auto-refresh
// (spec 06 §2). Pages work without it; these are conveniences.
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

// One timer for the page, kept globally so that a re-run of bootstrap replaces it.
const EggPoolDashboard = (globalThis.EggPoolDashboard ??= { refreshTimer: undefined });

function setUpdated(text) {
  const marker = document.getElementById("dashboard-updated");
  if (marker) marker.textContent = text;
}

// Fetches the page again and swaps only #dashboard-content; non-OK answers are ignored.
async function refreshContent() {
  try {
    const res = await fetch(location.href, {
      cache: "no-store",
      headers: { "x-dashboard-refresh": "1" },
    });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = doc.getElementById("dashboard-content");
    const content = document.getElementById("dashboard-content");
    if (!fresh || !content) return;
    content.innerHTML = fresh.innerHTML;
    setUpdated(new Date().toLocaleTimeString());
    EggPoolDashboard.bootstrap();
  } catch {
    setUpdated("stale");
  }
}

function initAutoRefresh() {
  clearInterval(EggPoolDashboard.refreshTimer);
  EggPoolDashboard.refreshTimer = undefined;
  const seconds = Number(document.body.dataset.refreshS);
  if (!Number.isFinite(seconds) || seconds <= 0) return;
  EggPoolDashboard.refreshTimer = setInterval(refreshContent, Math.max(1, seconds) * 1000);
}

// Re-initialises what lives inside #dashboard-content after a swap (nothing yet: no charts).
EggPoolDashboard.bootstrap = function bootstrap() {};

function init() {
  initMenu();
  initThemePicker();
  initRefresh();
  initAutoRefresh();
  EggPoolDashboard.bootstrap();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", init);
} else {
  init();
}

// EggPool dashboard behaviour: the mobile page menu, the theme picker, the
// refresh button, charts (when the page loads Chart.js) and, on pages whose
// <body> has data-refresh-s, auto-refresh (spec 06 §2). Pages work without
// it: the server draws every chart as SVG; these are conveniences.
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
const EggPoolDashboard = (globalThis.EggPoolDashboard ??= { refreshTimer: undefined, charts: [] });
EggPoolDashboard.charts ??= [];

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

// The active theme's colours, read from the variables theme.css sets.
function themeColors() {
  const style = getComputedStyle(document.documentElement);
  const v = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    requests: v("--color-info", "#0969da"),
    errors: v("--color-error", "#cf222e"),
    text: v("--text-muted", "#6e7781"),
    grid: v("--table-border", "#d8dee4"),
    tooltipBg: v("--card-bg", "#ffffff"),
    tooltipText: v("--page-text", "#1f2328"),
    tooltipBorder: v("--card-border", "#d0d7de"),
  };
}

// The options every bar chart of the dashboard shares: counts from zero in the theme's colours.
function barOptions(c) {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    scales: {
      x: { ticks: { color: c.text }, grid: { color: c.grid } },
      y: {
        beginAtZero: true,
        ticks: { color: c.text, precision: 0 },
        grid: { color: c.grid },
      },
    },
    plugins: {
      legend: { labels: { color: c.text } },
      tooltip: {
        backgroundColor: c.tooltipBg,
        titleColor: c.tooltipText,
        bodyColor: c.tooltipText,
        borderColor: c.tooltipBorder,
        borderWidth: 1,
      },
    },
  };
}

// Replaces each server-drawn requests chart with a Chart.js bar chart.
function initCharts() {
  for (const chart of EggPoolDashboard.charts.splice(0)) chart.destroy();
  const Chart = globalThis.Chart;
  if (typeof Chart !== "function") return;
  const c = themeColors();
  for (const figure of document.querySelectorAll("figure[data-chart=requests]")) {
    const data = JSON.parse(figure.dataset.series || "{}");
    const holder = figure.querySelector(".chart-canvas");
    const canvas = holder && holder.querySelector("canvas");
    if (!canvas || !Array.isArray(data.labels)) continue;
    holder.hidden = false;
    const svg = figure.querySelector(".chart-fallback");
    if (svg) svg.style.display = "none";
    EggPoolDashboard.charts.push(
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: "Requests", data: data.requests, backgroundColor: c.requests },
            { label: "Errors", data: data.errors, backgroundColor: c.errors },
          ],
        },
        options: barOptions(c),
      }),
    );
  }
  initBarCharts(Chart, c);
}

// Replaces each server-drawn category chart (data-chart=bars) with a Chart.js bar chart; each
// dataset's tone names the theme colour (--color-<tone>) it is drawn in.
function initBarCharts(Chart, c) {
  const style = getComputedStyle(document.documentElement);
  const tone = (t) => style.getPropertyValue(`--color-${t}`).trim() || c.requests;
  for (const figure of document.querySelectorAll("figure[data-chart=bars]")) {
    const data = JSON.parse(figure.dataset.series || "{}");
    const holder = figure.querySelector(".chart-canvas");
    const canvas = holder && holder.querySelector("canvas");
    if (!canvas || !Array.isArray(data.labels) || !Array.isArray(data.datasets)) continue;
    holder.hidden = false;
    const svg = figure.querySelector(".chart-fallback");
    if (svg) svg.style.display = "none";
    const datasets = data.datasets.map((d) => ({
      label: d.label,
      data: d.data,
      backgroundColor: tone(d.tone),
      maxBarThickness: 56,
    }));
    EggPoolDashboard.charts.push(
      new Chart(canvas, {
        type: "bar",
        data: { labels: data.labels, datasets },
        options: barOptions(c),
      }),
    );
  }
}

// Re-initialises what lives inside #dashboard-content after a swap.
EggPoolDashboard.bootstrap = function bootstrap() {
  initCharts();
  // A heatmap wider than the screen starts at its newest days.
  for (const wrap of document.querySelectorAll(".heatmap-wrap")) wrap.scrollLeft = wrap.scrollWidth;
};

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

// The Timeseries page (spec 06 §4): each change of a control refetches
// /api/timeseries/grouped and redraws the stacked chart and both tables in
// place, without a page load. Without this script the form is a plain GET.
"use strict";

(function () {
  const form = document.getElementById("timeseries-controls");
  const figure = document.querySelector("figure[data-chart=grouped]");
  if (!form || !figure) return;
  const status = document.getElementById("timeseries-status");
  const empty = document.getElementById("timeseries-empty");
  const COLOUR_VARS = [
    "--color-info",
    "--color-success",
    "--color-warning",
    "--color-error",
    "--accent-color",
    "--heatmap-4",
    "--link-color-hover",
    "--heatmap-2",
  ];
  let chart;
  let seq = 0;

  const count = (n) => Math.round(n).toLocaleString("en-US");
  const cost = (micros) => {
    const d = micros / 1e6;
    return "$" + d.toFixed(d !== 0 && Math.abs(d) < 1 ? 4 : 2);
  };
  const ms = (v) =>
    v === null || v === undefined
      ? "—"
      : v < 1000
      ? Math.round(v) + " ms"
      : (v / 1000).toFixed(2) + " s";
  const metricValue = (p, metric) =>
    metric === "tokens"
      ? p.total_tokens
      : metric === "requests"
      ? p.request_count
      : p.cost_microdollars / 1e6;

  function row(cells) {
    const tr = document.createElement("tr");
    for (const [col, text, cls] of cells) {
      const td = document.createElement("td");
      td.dataset.col = col;
      if (cls) td.className = cls;
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }

  function fillTables(data) {
    const detail = document.querySelector("#timeseries-detail tbody");
    const aggregate = document.querySelector("#timeseries-aggregate tbody");
    detail.replaceChildren(
      ...data.points.filter((p) => p.request_count > 0).map((p) => {
        const tr = row([
          ["Bucket", p.bucket],
          ["Series", p.label],
          ["Requests", count(p.request_count), "num"],
          ["Tokens", count(p.total_tokens), "num"],
          ["Errors", count(p.error_count), "num p2"],
          ["Cost", cost(p.cost_microdollars), "num p2"],
          ["Input", count(p.input_tokens), "num p3"],
          ["Output", count(p.output_tokens), "num p3"],
          ["Avg latency", ms(p.avg_latency_ms), "num p3"],
        ]);
        tr.dataset.series = p.series_key;
        return tr;
      }),
    );
    aggregate.replaceChildren(
      ...data.bucket_totals.map((t) =>
        row([
          ["Bucket", t.bucket],
          ["Requests", count(t.request_count), "num"],
          ["Tokens", count(t.total_tokens), "num"],
          ["Errors", count(t.error_count), "num p2"],
          ["Cost", cost(t.cost_microdollars), "num p2"],
          ["Received", count(t.bytes_received) + " B", "num p3"],
          ["Emitted", count(t.bytes_emitted) + " B", "num p3"],
        ])
      ),
    );
  }

  function fillLegend(data) {
    const legend = figure.querySelector(".ts-legend");
    if (!legend) return;
    legend.replaceChildren(
      ...data.series.map((s, j) => {
        const li = document.createElement("li");
        const sw = document.createElement("span");
        sw.className = "ts-swatch " + (s.is_other ? "ts-other" : "ts-c" + (j % 8));
        li.append(sw, s.label);
        return li;
      }),
    );
  }

  function draw(data, metric) {
    if (chart) chart.destroy();
    chart = undefined;
    const Chart = globalThis.Chart;
    const holder = figure.querySelector(".chart-canvas");
    const canvas = holder && holder.querySelector("canvas");
    if (typeof Chart !== "function" || !canvas || data.series.length === 0) return;
    const style = getComputedStyle(document.documentElement);
    const v = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
    const text = v("--text-muted", "#6e7781");
    const grid = v("--table-border", "#d8dee4");
    const n = data.series.length;
    const datasets = data.series.map((s, j) => ({
      label: s.label,
      data: data.buckets.map((_, i) => metricValue(data.points[i * n + j], metric)),
      backgroundColor: s.is_other ? text : v(COLOUR_VARS[j % 8], "#0969da"),
    }));
    holder.hidden = false;
    const svg = figure.querySelector(".chart-fallback");
    if (svg) svg.style.display = "none";
    chart = new Chart(canvas, {
      type: "bar",
      data: { labels: data.buckets.map((b) => b.slice(0, 16).replace("T", " ")), datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { stacked: true, ticks: { color: text }, grid: { color: grid } },
          y: { stacked: true, beginAtZero: true, ticks: { color: text }, grid: { color: grid } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            backgroundColor: v("--card-bg", "#ffffff"),
            titleColor: v("--page-text", "#1f2328"),
            bodyColor: v("--page-text", "#1f2328"),
            borderColor: v("--card-border", "#d0d7de"),
            borderWidth: 1,
          },
        },
      },
    });
  }

  function show(data, metric) {
    const none = data.series.length === 0;
    figure.hidden = none;
    if (empty) empty.hidden = !none;
    fillTables(data);
    fillLegend(data);
    draw(data, metric);
  }

  // The theme picker's hidden fields carry the controls, so a theme change keeps them.
  function keepInThemeForm(params) {
    const themeForm = document.querySelector(".theme-form");
    if (!themeForm) return;
    for (const old of themeForm.querySelectorAll("input[type=hidden]")) old.remove();
    for (const [name, value] of params) {
      if (name === "theme") continue;
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      themeForm.prepend(input);
    }
  }

  async function refetch() {
    const params = new URLSearchParams(new FormData(form));
    for (const [k, v] of [...params]) if (v === "") params.delete(k);
    const metric = params.get("metric") || "tokens";
    const api = new URLSearchParams(params);
    api.delete("theme");
    const mine = ++seq;
    status.textContent = "Loading…";
    status.className = "muted";
    let res;
    try {
      res = await fetch("/api/timeseries/grouped?" + api, {
        cache: "no-store",
        credentials: "same-origin",
      });
    } catch {
      if (mine === seq) {
        (status.textContent = "Could not reach the server", status.className = "ts-error");
      }
      return;
    }
    const body = await res.json().catch(() => ({}));
    if (mine !== seq) return;
    if (!res.ok) {
      status.textContent = body.error || "The server answered " + res.status;
      status.className = "ts-error";
      return;
    }
    history.replaceState(null, "", "/timeseries?" + params);
    keepInThemeForm(params);
    const other = body.series.some((s) => s.is_other) ? " plus Other" : "";
    status.textContent = body.group_by + " · " + body.bucket + " buckets · top " + body.limit +
      other;
    figure.dataset.grouped = JSON.stringify(body);
    figure.dataset.metric = metric;
    show(body, metric);
  }

  form.addEventListener("change", refetch);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    refetch();
  });
  const initial = JSON.parse(figure.dataset.grouped || "{}");
  if (Array.isArray(initial.series) && initial.series.length > 0) {
    draw(initial, figure.dataset.metric || "tokens");
  }
})();

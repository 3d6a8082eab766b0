/**
 * The Overview page and `/api/timeseries` against a real EggPool and the mock
 * upstream: card numbers match the database, events are redacted and
 * escaped, pending requests show up, and `/` no longer redirects.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { poolToml } from "./dashboard_fixtures.ts";
import { CHART_JS_UMD } from "../scripts/gen_assets.ts";

const BEARER = { authorization: `Bearer ${LOCAL_KEY}` };
const HTML = { accept: "text/html" };

async function get(pool: TestEggPool, path: string, headers: Record<string, string> = BEARER) {
  const res = await fetch(`${pool.origin}${path}`, { headers, redirect: "manual" });
  return { res, text: await res.text() };
}

/** Value and detail line of each card, by its `data-card` id. */
function cards(html: string): Record<string, { value: string; detail: string }> {
  const out: Record<string, { value: string; detail: string }> = {};
  const re =
    /data-card="([^"]+)".*?class="card-value">(.*?)<\/p><p class="card-detail muted">(.*?)<\/p>/gs;
  for (const m of html.matchAll(re)) out[m[1]] = { value: m[2], detail: m[3] };
  return out;
}

function count(n: unknown): string {
  return Math.round(Number(n ?? 0)).toLocaleString("en-US");
}

async function chat(pool: TestEggPool, stream = false): Promise<number> {
  const res = await postChat(pool, {
    model: "mock-small",
    stream,
    messages: [{ role: "user", content: "hello" }],
  });
  await res.text();
  return res.status;
}

Deno.test("the Overview's cards, panels and timeseries match the database", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  for (let i = 0; i < 5; i++) assert.equal(await chat(pool), 200);
  for (let i = 0; i < 2; i++) assert.equal(await chat(pool, true), 200);
  mock.script.set("*", { status: 500 });
  for (let i = 0; i < 2; i++) assert.notEqual(await chat(pool), 200);
  mock.script.clear();
  // Rejected before routing: two unknown models and a body that is not JSON.
  for (const model of ["no-such-model", "<b>ghost</b>"]) {
    const res = await postChat(pool, { model, messages: [{ role: "user", content: "hi" }] });
    assert.equal(res.status, 404);
    await res.body?.cancel();
  }
  const bad = await fetch(`${pool.origin}/v1/chat/completions`, {
    method: "POST",
    headers: { ...BEARER, "content-type": "application/json" },
    body: "{not json",
  });
  assert.equal(bad.status, 400);
  await bad.body?.cancel();

  // A stale pending request and two events, one with a raw error and markup.
  const now = Date.now();
  const db = new DatabaseSync(pool.dbPath);
  try {
    db.prepare(
      `INSERT INTO requests (proxy_request_id, requested_model, client_protocol, status, started_at)
       VALUES ('pending-1', 'mock-small', 'openai', 'pending', ?)`,
    ).run(now - 1_000_000);
    const details = JSON.stringify({
      note: "<script>alert(1)</script>",
      error_detail: "RAW-UPSTREAM-SECRET",
      api_key: "sk-leak",
      filler: "x".repeat(400),
    });
    db.prepare(
      "INSERT INTO operational_events (event_type, details_json, occurred_at) VALUES (?, ?, ?)",
    ).run("test_event", details, now);
  } finally {
    db.close();
  }

  // No redirect: `/` is the Overview, gated like every page.
  assert.equal((await get(pool, "/", {})).res.status, 401);
  assert.equal(
    (await get(pool, "/?period=1h", HTML)).res.headers.get("location"),
    "/login?next=%2F%3Fperiod%3D1h",
  );
  const page = await get(pool, "/?period=1h");
  assert.equal(page.res.status, 200);
  assert.equal(page.res.headers.get("cache-control"), "no-store");
  assert.match(page.text, /<body data-refresh-s="60">/);
  assert.match(
    page.text,
    /<a\s+href="\/\?period=1h&amp;theme=[^"]*" class="active" aria-current="page">Overview</,
  );

  const [t] = pool.query(
    `SELECT count(*) AS n, sum(status = 'completed') AS ok,
       sum(status IN ('error', 'interrupted')) AS errors, sum(streamed) AS streamed,
       sum(input_tokens) AS fresh, sum(cache_read_tokens) AS cr, sum(cache_write_tokens) AS cw,
       sum(output_tokens) AS out, sum(reasoning_tokens) AS reasoning
     FROM requests WHERE status != 'pending'`,
  );
  assert.equal(Number(t.n), 12);
  assert.equal(Number(t.errors), 2);
  const c = cards(page.text);
  // The parts add up to the whole: 7 + 2 + 3 = 12.
  assert.equal(c.requests.value, "12");
  assert.equal(Number(t.ok), 7);
  assert.equal(c.requests.detail, "7 success · 2 errors · 3 rejected");
  assert.equal(c.error_rate.value, `${(2 / 12 * 100).toFixed(1)}%`);
  const input = Number(t.fresh) + Number(t.cr) + Number(t.cw);
  assert.equal(c.cost.detail, `in ${count(input)} · out ${count(t.out)} tokens`);
  assert.equal(c.tokens.value, count(input + Number(t.out)));
  assert.equal(c.reasoning.value, count(t.reasoning));
  assert.equal(
    c.streaming.detail,
    `${count(t.streamed)} streamed · ${12 - Number(t.streamed)} non-streamed`,
  );
  assert.equal(c.pending.value, "1");
  assert.match(c.pending.detail, /^oldest 16m \d+s · stale 1$/);
  assert.match(page.text, /class="card stat-card warning" data-card="pending"/);
  assert.notEqual(c.ttft.value, "—");
  assert.match(c.throughput.value, /^\d+\.\d tok\/s$/);

  // Panels: accounts and models by requests; events redacted, truncated and escaped.
  const acctSum = [...page.text.matchAll(/data-account="[^"]*">.*?data-col="Requests">(\d+)</gs)]
    .reduce((s, m) => s + Number(m[1]), 0);
  const [routed] = pool.query(
    "SELECT count(*) AS n FROM requests WHERE status != 'pending' AND account_id IS NOT NULL",
  );
  assert.equal(acctSum, Number(routed.n), "every request that reached an account is listed");
  assert.match(
    page.text,
    /data-model="mock-small"><td data-col="Model">mock-small<\/td><td class="num" data-col="Requests">9</,
  );
  // A model that does not exist is never a top model.
  const topModels = /id="top-models".*?<\/section>/s.exec(page.text)?.[0] ?? "";
  assert.deepEqual([...topModels.matchAll(/data-model="([^"]*)"/g)].map((m) => m[1]), [
    "mock-small",
  ]);
  assert.ok(!page.text.includes("no-such-model"));
  assert.ok(!page.text.includes("<b>ghost"));
  assert.match(page.text, /<span class="chip">3 enabled · 0 disabled<\/span>/);
  assert.ok(!page.text.includes("RAW-UPSTREAM-SECRET"));
  assert.ok(!page.text.includes("sk-leak"));
  assert.ok(!page.text.includes("<script>alert"));
  const detail = /data-event="test_event">.*?data-col="Details">(.*?)<\/td>/s.exec(page.text)?.[1];
  assert.ok(detail?.startsWith("note=&lt;script>alert(1)&lt;/script> filler=xxx"), detail);
  assert.ok(detail?.endsWith("…"));
  assert.ok(!page.text.includes(LOCAL_KEY));

  // The chart's data: requests and errors per 5-minute step, zeros in the gaps.
  const ts = await get(pool, "/api/timeseries?period=1h");
  assert.equal(ts.res.status, 200);
  assert.match(ts.res.headers.get("content-type") ?? "", /^application\/json/);
  const body = JSON.parse(ts.text);
  assert.deepEqual(Object.keys(body).sort(), [
    "buckets",
    "period",
    "since",
    "stepMs",
    "totals",
    "until",
  ]);
  assert.equal(body.period, "1h");
  assert.equal(body.stepMs, 300_000);
  assert.deepEqual(body.totals, { requests: 12, errors: 2 });
  assert.ok(body.buckets.length >= 12 && body.buckets.length <= 14, String(body.buckets.length));
  for (const b of body.buckets) {
    assert.deepEqual(Object.keys(b).sort(), ["errors", "requests", "start"]);
    assert.equal(b.start % 300_000, 0);
  }
  const sum = body.buckets.reduce((s: number, b: { requests: number }) => s + b.requests, 0);
  assert.equal(sum, 12);
  assert.equal((await get(pool, "/api/timeseries", {})).res.status, 401);
  const day = JSON.parse((await get(pool, "/api/timeseries?period=30d")).text);
  assert.equal(day.stepMs, 86_400_000);
  assert.deepEqual(day.totals, { requests: 12, errors: 2 });

  // The chart, server-drawn (readable without scripts) with its data for Chart.js.
  const series = /data-chart="requests" data-series="([^"]*)"/.exec(page.text)?.[1];
  assert.ok(series, "the requests chart is on the page");
  const data = JSON.parse(series.replaceAll("&quot;", '"'));
  assert.equal(data.requests.reduce((a: number, b: number) => a + b, 0), 12);
  assert.equal(data.errors.reduce((a: number, b: number) => a + b, 0), 2);
  assert.equal(data.labels.length, data.requests.length);
  assert.equal((page.text.match(/class="bar-requests"/g) ?? []).length, data.requests.length);
  assert.match(page.text, /<script src="\/static\/chart.umd.min.js" defer><\/script>/);
  // The heatmap: 180 days, today's cell holds today's tokens (all requests ran today).
  const cellsHtml = [...page.text.matchAll(/<rect\s+class="hm-(\d)"[^>]*data-date="([^"]+)"/g)];
  assert.equal(cellsHtml.length, 180);
  const today = new Date().toISOString().slice(0, 10);
  assert.equal(cellsHtml.at(-1)?.[2], today);
  assert.equal(cellsHtml.at(-1)?.[1], "4");
  const todayValue = new RegExp(`data-date="${today}" data-value="(\\d+)"`).exec(page.text)?.[1];
  assert.equal(Number(todayValue), input + Number(t.out));
  assert.equal(cellsHtml.filter((m) => m[1] !== "0").length, 1);
});

Deno.test("an empty Overview shows zeros and no System Health row", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const page = await get(pool, "/");
  assert.equal(page.res.status, 200);
  const c = cards(page.text);
  assert.equal(c.requests.value, "0");
  assert.equal(c.error_rate.value, "—");
  assert.equal(c.pending, undefined);
  assert.ok(!page.text.includes("System Health"));
  assert.match(page.text, /No events yet\./);
  assert.match(
    page.text,
    /No requests in this period yet: point a client at \/v1\/chat\/completions/,
  );
  assert.equal((page.text.match(/<rect\s+class="hm-0"/g) ?? []).length, 180);
  const body = JSON.parse((await get(pool, "/api/timeseries?period=24h")).text);
  assert.deepEqual(body.totals, { requests: 0, errors: 0 });
  assert.equal(body.stepMs, 3_600_000);
});

Deno.test("static/ holds Chart.js only as the pinned package's UMD build, byte for byte", async () => {
  const charts: string[] = [];
  for await (const entry of Deno.readDir(new URL("../static/", import.meta.url))) {
    if (/^chart/i.test(entry.name)) charts.push(entry.name);
  }
  assert.deepEqual(charts, ["chart.umd.min.js"]);
  const copy = await Deno.readFile(new URL("../static/chart.umd.min.js", import.meta.url));
  const pkg = await Deno.readFile(CHART_JS_UMD);
  assert.ok(copy.length === pkg.length && copy.every((b, i) => b === pkg[i]), "run gen:assets");
});

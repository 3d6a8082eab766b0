/**
 * The Models page's Info pill and links, and the `/models/{id}` detail page,
 * against a real EggPool, the mock upstream and its SQLite file: the figures
 * match the database, the catalog's limits, capabilities and metadata show
 * escaped, an unresolved or unknown model says so, and everything is in the
 * served HTML (readable without scripts).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { poolToml } from "./dashboard_fixtures.ts";

const BEARER = { authorization: `Bearer ${LOCAL_KEY}` };
const ODD_MODEL = "vendor/<b>odd</b>";

async function get(pool: TestEggPool, path: string, headers: Record<string, string> = BEARER) {
  const res = await fetch(`${pool.origin}${path}`, { headers, redirect: "manual" });
  return { res, text: await res.text() };
}

function decode(html: string): string {
  return html.replace(/<[^>]*>/g, "").replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&").trim();
}

function cards(html: string): Record<string, { value: string; detail: string }> {
  const out: Record<string, { value: string; detail: string }> = {};
  const re =
    /data-card="([^"]+)".*?class="card-value">(.*?)<\/p><p class="card-detail muted">(.*?)<\/p>/gs;
  for (const m of html.matchAll(re)) out[m[1]] = { value: decode(m[2]), detail: decode(m[3]) };
  return out;
}

/** Cells of the row of table `id` whose `data-provider` is `provider`. */
function providerRow(html: string, id: string, provider: string): Record<string, string> {
  const table = new RegExp(`<table id="${id}">(.*?)</table>`, "s").exec(html)?.[1] ?? "";
  const tr = new RegExp(`<tr\\s+data-provider="${provider}">(.*?)</tr>`, "s").exec(table)?.[1];
  assert.ok(tr !== undefined, `no row ${provider} in #${id}`);
  const cells: Record<string, string> = {};
  for (const c of tr.matchAll(/<td[^>]*data-col="([^"]*)"[^>]*>(.*?)<\/td>/gs)) {
    cells[c[1]] = decode(c[2]);
  }
  return cells;
}

function fact(html: string, name: string): string | undefined {
  const m = new RegExp(`<dd data-fact="${name}">(.*?)</dd>`, "s").exec(html);
  return m === null ? undefined : decode(m[1]);
}

Deno.test("Models: Info pill and detail links; /models/{id} shows usage, callability and metadata", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  for (let i = 0; i < 3; i++) {
    const res = await postChat(pool, {
      model: "mock-small",
      messages: [{ role: "user", content: `hello ${i}` }],
    });
    assert.equal(res.status, 200);
    await res.text();
  }
  // The catalog as a richer models endpoint would have written it, and a model whose protocol
  // is unresolved (hidden for routing), with markup in its id and metadata.
  const db = new DatabaseSync(pool.dbPath);
  try {
    db.prepare(
      `UPDATE provider_models SET max_context_tokens = 128000, max_output_tokens = 4096,
         capabilities_json = '{"tools":true,"vision":false}', metadata_json = ?
       WHERE provider_id = 'p' AND model_id = 'mock-small'`,
    ).run(JSON.stringify({ owned_by: "<script>alert(1)</script>" }));
    db.prepare("INSERT INTO models (id, first_seen_at, last_seen_at) VALUES (?, 0, 0)")
      .run(ODD_MODEL);
    db.prepare(
      `INSERT INTO provider_models (provider_id, model_id, protocol, max_context_tokens,
         first_seen_at, last_seen_at) VALUES ('p', ?, NULL, 1000, 0, 86400000)`,
    ).run(ODD_MODEL);
  } finally {
    db.close();
  }

  const list = await get(pool, "/models?period=1h");
  assert.equal(list.res.status, 200);
  const link = /<a href="(\/models\/mock-small\?period=1h&amp;theme=[^"]*)">mock-small<\/a>/
    .exec(list.text);
  assert.ok(link !== null, "the model links to its detail page, keeping period and theme");
  assert.match(
    list.text,
    /data-tooltip="context 128,000 · output 4,096 · tools\." aria-label="[^"]*">info<\/span>/,
  );

  const page = await get(pool, link[1].replaceAll("&amp;", "&"));
  assert.equal(page.res.status, 200);
  assert.match(page.text, /<h1>mock-small<\/h1>/);
  const [u] = pool.query(
    `SELECT count(*) AS n, sum(status = 'completed') AS ok, sum(input_tokens) AS input,
       sum(output_tokens) AS output, sum(cost_microdollars) AS cost
     FROM requests WHERE model_id = 'mock-small'`,
  );
  assert.equal(Number(u.n), 3);
  const c = cards(page.text);
  assert.equal(c.requests.value, "3");
  assert.equal(c.requests.detail, "0 errors");
  const dollars = Number(u.cost) / 1e6;
  assert.equal(c.cost.value, `$${dollars.toFixed(dollars !== 0 && dollars < 1 ? 4 : 2)}`);
  assert.equal(c.availability.value, "listed");
  assert.equal(c.availability.detail, "1 of 1 providers callable now");
  assert.equal(c.info.value, "complete");
  assert.equal(c.info.detail, "context 128,000 · output 4,096 · tools");
  assert.equal(fact(page.text, "Successful"), String(u.ok));
  assert.equal(fact(page.text, "Input tokens"), Number(u.input).toLocaleString("en-US"));
  assert.equal(fact(page.text, "Output tokens"), Number(u.output).toLocaleString("en-US"));
  const p = providerRow(page.text, "model-providers", "p");
  assert.equal(p.Protocol, "openai");
  assert.equal(p.Callable, "yes");
  assert.equal(p.Accounts, "3 of 3");
  const meta = providerRow(page.text, "model-metadata", "p");
  assert.equal(meta.Context, "128,000");
  assert.equal(meta.Output, "4,096");
  assert.equal(meta.Capabilities, "tools");
  assert.equal(meta["Other metadata"], "owned_by=<script>alert(1)</script>");
  assert.ok(!page.text.includes("<script>alert(1)"), "metadata stays text");
  assert.match(page.text, /<strong>p<\/strong>: from its models endpoint, first seen/);
  // The period selector stays on the detail page.
  assert.match(page.text, /href="\/models\/mock-small\?period=24h&amp;theme=/);

  // An id with a slash and markup: each segment encoded, the page escaped, unresolved = hidden.
  const oddPath = `/models/vendor/${encodeURIComponent("<b>odd</b>")}`;
  const odd = await get(pool, oddPath);
  assert.equal(odd.res.status, 200);
  assert.match(odd.text, /<h1>vendor\/&lt;b>odd&lt;\/b><\/h1>/);
  assert.ok(!odd.text.includes("<b>odd"));
  const oc = cards(odd.text);
  assert.equal(oc.availability.value, "not listed");
  assert.equal(oc.requests.value, "0");
  assert.equal(oc.info.value, "sparse");
  assert.equal(oc.info.detail, "context 1,000");
  const op = providerRow(odd.text, "model-providers", "p");
  assert.equal(op.Protocol, "unresolved");
  assert.equal(op.Callable, "no");
  assert.match(odd.text, /No request used this model in this period\./);
  // The model is hidden, so the list does not show it.
  assert.ok(!list.text.includes("odd"));

  const missing = await get(pool, "/models/no-such-model");
  assert.equal(missing.res.status, 404);
  assert.match(missing.text, /No model has this id/);
  assert.equal((await get(pool, "/models/mock-small", {})).res.status, 401);
});

Deno.test("Models detail: a provider whose every account is backed off is not callable", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  for (const key of ["k-1", "k-2", "k-3"]) mock.script.set(key, { status: 429, retryAfter: 60 });
  const res = await postChat(pool, {
    model: "mock-small",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(res.status, 429);
  await res.text();
  const page = await get(pool, "/models/mock-small?period=1h");
  const p = providerRow(page.text, "model-providers", "p");
  assert.equal(p.Callable, "no");
  assert.equal(p.Accounts, "0 of 3");
  assert.match(
    page.text,
    /data-tooltip="Every account is disabled, keyless, backed off or circuit-broken for this model"/,
  );
  const c = cards(page.text);
  assert.equal(c.availability.detail, "0 of 1 providers callable now");
  assert.equal(c.requests.detail, "1 errors");
});

/** Cells of the Models table's row `data-row="id"`, by column label. */
function modelRow(html: string, id: string): Record<string, string> {
  const tr = new RegExp(`<tr\\s+data-row="${id}">(.*?)</tr>`, "s").exec(html)?.[1];
  assert.ok(tr !== undefined, `no row ${id}`);
  const cells: Record<string, string> = {};
  for (const c of tr.matchAll(/<td[^>]*data-col="([^"]*)"[^>]*>(.*?)<\/td>/gs)) {
    cells[c[1]] = decode(c[2]);
  }
  return cells;
}

Deno.test("Models: TPS, Priority (highest of the providers) and Est. cost, on the page and in /api/stats/models", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({
    models: ["mock-small"],
    latency: { headersMs: 20 },
  });
  // Two providers list the model; the collapsed row takes the higher priority.
  const toml = [
    ["lo", 2],
    ["hi", 5],
  ].map(([id, prio]) =>
    [
      `[providers.${id}]`,
      `id = "${id}"`,
      `base_url = "${mock.url}"`,
      `routing_priority = ${prio}`,
      `[[providers.${id}.accounts]]`,
      `name = "${id}-1"`,
      `api_key = "k-${id}"`,
    ].join("\n")
  ).join("\n") + "\n";
  await using pool = await startEggPool({ dir: tmp.path, toml });
  for (let i = 0; i < 4; i++) {
    const res = await postChat(pool, {
      model: "mock-small",
      messages: [{ role: "user", content: `count to ${i + 3}` }],
    });
    assert.equal(res.status, 200);
    await res.text();
  }
  const [u] = pool.query(
    `SELECT count(*) AS n,
       sum(CASE WHEN status = 'completed' AND output_tokens > 0 THEN output_tokens END) AS tok,
       sum(CASE WHEN status = 'completed' AND output_tokens > 0 THEN latency_ms END) AS ms,
       total(CASE WHEN cost_exactness = 'estimated' THEN cost_microdollars END) AS est,
       sum(cost_exactness = 'estimated') AS n_est
     FROM requests WHERE model_id = 'mock-small'`,
  );
  assert.equal(Number(u.n), 4);
  assert.ok(Number(u.ms) > 0 && Number(u.tok) > 0, "completed requests with output and time");
  // No [model_overrides] prices: every request is priced at the estimated defaults.
  assert.equal(Number(u.n_est), 4);
  assert.ok(Number(u.est) > 0);
  const tps = Math.round(Number(u.tok) / Number(u.ms) * 10_000) / 10;

  const page = await get(pool, "/models?period=1h");
  assert.equal(page.res.status, 200);
  const cells = modelRow(page.text, "mock-small");
  assert.equal(
    cells.Provider.split(", ").sort().join(","),
    [
      ...new Set(
        pool.query("SELECT provider_id FROM requests WHERE model_id = 'mock-small'")
          .map((r) => String(r.provider_id)),
      ),
    ].sort().join(","),
  );
  assert.equal(cells.TPS, tps.toFixed(1));
  assert.equal(cells.Priority, "5");
  const dollars = Number(u.est) / 1e6;
  assert.equal(cells["Est. cost"], `$${dollars.toFixed(dollars < 1 ? 4 : 2)}`);
  assert.equal(cells["Est. cost"], cells.Cost, "all of the cost is estimated");
  // Responsive priorities: TPS goes with the p2 columns, Priority and Est. cost with p3.
  assert.match(page.text, /<th[^>]*class="num p2"[^>]*>TPS/);
  assert.match(page.text, /<th[^>]*class="num p3"[^>]*>Priority/);
  assert.match(page.text, /<th[^>]*class="num p3"[^>]*>Est\. cost/);
  assert.match(page.text, /<td\s+class="num p2" data-col="TPS">/);

  const api = await get(pool, "/api/stats/models?period=1h");
  assert.equal(api.res.status, 200);
  const m = (JSON.parse(api.text).models as Record<string, unknown>[])
    .find((r) => r.model_id === "mock-small");
  assert.ok(m !== undefined);
  assert.equal(m.tokens_per_second, tps);
  assert.equal(m.estimated_cost_sum_microdollars, Number(u.est));
});

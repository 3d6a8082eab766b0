/**
 * The Reliability, Routing, Cache, Models, Latency and Pings pages served by
 * a real HTTP server over the stats API's seeded SQLite file
 * (tests/stats_api_fixture.ts): the figures on each page are the fixture's
 * known totals, every page needs the key unless `[dashboard].public`, empty
 * periods say what to do next, and markup in an account or model name stays
 * text. Stored error text never reaches a page.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createKeyChecker } from "../src/http/auth.ts";
import { mountDashboard } from "../src/dashboard/routes.ts";
import type { Db } from "../src/storage/db.ts";
import { insertRequest, rollupOf, upsertRollup } from "../src/storage/requests_repo.ts";
import type { IdLookup } from "../src/storage/requests_repo.ts";
import type { RequestOutcome, RequestStart } from "../src/stats/types.ts";
import { KEY, NOW, SECRET_TEXT, seedDatabase } from "./stats_api_fixture.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const PAGES = ["/reliability", "/routing", "/cache", "/models", "/latency", "/pings"];
const EVIL_ACCOUNT = "<img src=x onerror=alert(1)>";
const EVIL_MODEL = "<b>m-evil</b>";
const HOUR = 3_600_000;

/** A hostile account and model, routed two hours before NOW (inside 24h, outside 1h). */
function seedHostile(db: Db): void {
  db.exec(`INSERT INTO accounts (name, provider_id, enabled, created_at, updated_at)
    VALUES ('${EVIL_ACCOUNT}', 'p1', 0, 0, 0)`);
  const id = Number(db.stmt("SELECT id FROM accounts WHERE name = ?").get(EVIL_ACCOUNT)!.id);
  db.stmt("INSERT INTO models (id, first_seen_at, last_seen_at) VALUES (?, 0, 0)").run(EVIL_MODEL);
  db.stmt("INSERT INTO models (id, first_seen_at, last_seen_at) VALUES (?, 0, 0)").run("m-idle");
  const listed = db.stmt(`INSERT INTO provider_models (provider_id, model_id, protocol,
    first_seen_at, last_seen_at)
    VALUES (?, ?, 'openai', 0, 0)`);
  listed.run("p1", EVIL_MODEL);
  listed.run("p1", "m-idle");
  listed.run("p2", "m-idle");
  const at = NOW - 2 * HOUR;
  const outcome: RequestOutcome = {
    status: "completed",
    completedAt: at + 900,
    statusCode: 200,
    modelId: EVIL_MODEL,
    providerId: "p1",
    accountName: EVIL_ACCOUNT,
    upstreamProtocol: "openai",
    inputTokens: 40,
    outputTokens: 10,
    cacheReadTokens: 60,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros: 2_500_000,
    exactness: "estimated",
    latencyMs: 900,
    firstByteMs: 150,
    bytesOut: 10,
    attempts: [],
  };
  const routing = [[1, at, null, id, 0.5, 3, [], [[id, EVIL_ACCOUNT, null]]]];
  const ids: IdLookup = { accountId: (n) => (n === EVIL_ACCOUNT ? id : null) };
  const start: RequestStart = {
    requestId: "req-evil",
    startedAt: at,
    clientProtocol: "openai",
    requestedModel: EVIL_MODEL,
    streamed: true,
    bytesIn: 100,
    clientIp: "10.9.9.9",
  };
  const done: RequestOutcome = {
    ...outcome,
    attempts: [{
      attemptNumber: 1,
      accountName: EVIL_ACCOUNT,
      providerId: "p1",
      modelId: EVIL_MODEL,
      upstreamProtocol: "openai",
      startedAt: at + 5,
      completedAt: at + 900,
      statusCode: 200,
      latencyMs: 895,
      bytesOut: 10,
    }],
  };
  insertRequest(db, ids, start, done, JSON.stringify(routing));
  upsertRollup(db, rollupOf(ids, 300_000, start, done));
  db.stmt(`INSERT INTO provider_pings (provider_id, account_id, probed_at, latency_ms,
    status_code, error, model_count) VALUES ('p1', ?, ?, 80, 200, NULL, 3)`).run(id, at);
}

interface PagesServer extends AsyncDisposable {
  origin: string;
  get(path: string, headers?: Record<string, string>): Promise<{ res: Response; text: string }>;
}

/** The dashboard on a real `Deno.serve` over a freshly seeded database. */
async function startPages(options: { isPublic?: boolean; empty?: boolean } = {}) {
  const tmp = await withTmpDir();
  const db = seedDatabase(`${tmp.path}/stats.db`);
  seedHostile(db);
  if (options.empty) {
    db.exec("DELETE FROM requests; DELETE FROM provider_pings; DELETE FROM usage_rollups;");
  }
  const app = new Hono();
  mountDashboard(app, {
    settings: {
      enabled: true,
      public: options.isPublic ?? false,
      theme: "Cyber Red",
      refresh_interval_s: 60,
    },
    keys: createKeyChecker(KEY),
    localKey: KEY,
    db,
    clock: () => NOW,
    flush: () => {},
    pool: { status: () => [] },
    priorities: { p1: 3, p2: 7 },
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const out: PagesServer = {
    origin,
    async get(path, headers = { authorization: `Bearer ${KEY}` }) {
      const res = await fetch(`${origin}${path}`, { headers, redirect: "manual" });
      return { res, text: await res.text() };
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      db.close();
      await tmp[Symbol.asyncDispose]();
    },
  };
  return out;
}

/** Value and detail of each stat card, by `data-card` id. */
function cards(html: string): Record<string, { value: string; detail: string }> {
  const out: Record<string, { value: string; detail: string }> = {};
  const re =
    /data-card="([^"]+)".*?class="card-value">(.*?)<\/p><p class="card-detail muted">(.*?)<\/p>/gs;
  for (const m of html.matchAll(re)) out[m[1]] = { value: m[2], detail: m[3] };
  return out;
}

/** The text of each cell of the row `data-row="key"`, by column label. */
function row(html: string, key: string): Record<string, string> {
  const m = new RegExp(
    `<tr\\s+data-row="${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}">(.*?)</tr>`,
    "s",
  )
    .exec(html);
  assert.ok(m, `row ${key}`);
  const out: Record<string, string> = {};
  for (const c of m[1].matchAll(/<td[^>]*data-col="([^"]+)"[^>]*>(.*?)<\/td>/gs)) {
    out[c[1]] = c[2].replace(/<[^>]+>/g, "");
  }
  return out;
}

Deno.test("pages: each needs the key unless public, and is listed in the nav in spec order", async () => {
  await using s = await startPages();
  for (const path of PAGES) {
    assert.equal((await s.get(path, {})).res.status, 401, path);
    const html = await s.get(`${path}?period=1h`, { accept: "text/html" });
    assert.equal(html.res.status, 303);
    assert.equal(
      html.res.headers.get("location"),
      `/login?${new URLSearchParams({ next: `${path}?period=1h` })}`,
    );
    const ok = await s.get(`${path}?period=1h`);
    assert.equal(ok.res.status, 200, path);
    assert.equal(ok.res.headers.get("cache-control"), "no-store");
    const nav = [
      ...ok.text.matchAll(/<a\s+href="(\/[a-z]*)\?period=1h&amp;theme=[^"]*"(?: class="active")?/g),
    ]
      .map((m) => m[1]);
    assert.deepEqual(nav.slice(0, 8), [
      "/",
      "/reliability",
      "/routing",
      "/cache",
      "/accounts",
      "/models",
      "/latency",
      "/pings",
    ]);
    assert.match(ok.text, new RegExp(`href="${path}\\?period=1h&amp;theme=[^"]*" class="active"`));
  }
  await using open = await startPages({ isPublic: true });
  for (const path of PAGES) assert.equal((await open.get(path, {})).res.status, 200, path);
});

Deno.test("Reliability: attempt cards, the provider chart, retry labels, pending and events", async () => {
  await using s = await startPages();
  const { text } = await s.get("/reliability?period=1h");
  const c = cards(text);
  assert.equal(c.total_attempts.value, "8");
  assert.match(c.total_attempts.detail, /^for 6 requests/);
  assert.equal(c.successful_attempts.value, "4");
  assert.equal(c.successful_attempts.detail, "50.0% of attempts");
  assert.equal(c.retries.value, "2");
  assert.equal(c.retries.detail, "2 requests retried · rate 33.3%");
  assert.equal(c.failed_attempts.value, "4");
  assert.match(text, /<script src="\/static\/chart.umd.min.js" defer>/);
  const series = /data-chart-id="attempts-by-provider" data-series="([^"]+)"/.exec(text);
  assert.ok(series);
  const data = JSON.parse(series[1].replaceAll("&quot;", '"'));
  assert.deepEqual(data.labels, ["p1"]);
  assert.deepEqual(data.datasets.map((d: { data: number[] }) => d.data), [[4], [4]]);
  assert.deepEqual(row(text, "temporary"), {
    Category: "Temporary upstream",
    "Failed attempts": "2",
    Requests: "2",
    Accounts: "1",
    "Recorded as": "temporary",
  });
  assert.equal(row(text, "never").Category, "Fatal error");
  assert.equal(row(text, "transient").Category, "Transient upstream");
  assert.deepEqual(row(text, "pending"), {
    Pending: "2",
    Oldest: "2d 23h",
    Stale: "2",
  });
  const week = await s.get("/reliability?period=7d");
  assert.match(
    week.text,
    /crash_recovery<\/span><\/td><td\s+class="p2" data-col="Details">interrupted=1/,
  );
  assert.match(week.text, /stale_request_finalizer/);
  assert.ok(!text.includes(SECRET_TEXT) && !week.text.includes(SECRET_TEXT));
});

Deno.test("Routing: skew, decisions, the exclusion taxonomy and the three tables", async () => {
  await using s = await startPages();
  const { text } = await s.get("/routing?period=1h");
  const c = cards(text);
  assert.equal(c.skew.value, "1.67×");
  assert.equal(c.skew.detail, "most a1 (5) · least a2 (3)");
  assert.equal(c.decisions.value, "8");
  assert.equal(c.avg_eligible.value, "2.00");
  assert.equal(c.distinct_selected.value, "2");
  const series = /data-chart-id="exclusion-taxonomy" data-series="([^"]+)"/.exec(text);
  const data = JSON.parse(series![1].replaceAll("&quot;", '"'));
  assert.deepEqual(data.labels, ["disabled", "attempted"]);
  assert.deepEqual(data.datasets.map((d: { data: number[] }) => d.data), [[8, 0], [0, 2]]);
  assert.deepEqual(row(text, "m1/p1"), {
    Model: "m1",
    Provider: "p1",
    Requests: "5",
    "Share of model": "100.0%",
    Successful: "3",
    "Failed over": "2",
  });
  assert.equal(row(text, "a1").Selections, "5");
  assert.equal(row(text, "a2")["After failover"], "2");
  assert.equal(row(text, "a3/disabled").Kind, "suppressive");
  assert.equal(row(text, "a1/attempted").Kind, "advisory");
});

Deno.test("Cache, Models, Latency and Pings show the fixture's figures", async () => {
  await using s = await startPages();
  const cache = await s.get("/cache?period=24h");
  assert.match(cache.text, /<body data-refresh-s="60">/);
  const evil = row(cache.text, EVIL_ACCOUNT.replaceAll("<", "&lt;"));
  assert.equal(evil["Cached share"], "60.0%");
  assert.equal(evil["Input tokens"], "100");
  assert.equal(cards(cache.text).moves.value, "off");

  const models = await s.get("/models?period=1h");
  assert.deepEqual(row(models.text, "m1"), {
    Model: "m1",
    Provider: "p1",
    Availability: "not listed",
    Info: "no info",
    Requests: "5",
    Cost: "$0.0035",
    Exactness: "estimated",
    Errors: "1",
    Input: "350",
    Output: "170",
    "Avg latency": "1.32 s",
    "Avg TTFT": "200 ms",
    // 50 + 100 + 20 output tokens over 1.0 + 2.0 + 1.5 s of the completed requests.
    TPS: "37.8",
    Priority: "3",
    // Request 2 alone was priced at estimated rates.
    "Est. cost": "$0.0020",
    "Cache R": "0",
    "Cache W": "0",
    Reasoning: "0",
    "Avg cost/req": "$0.0007",
    "Avg cost/1k tok": "$0.0067",
  });
  assert.equal(row(models.text, "m-idle").Availability, "available");
  assert.equal(row(models.text, "m-idle").Requests, "0");
  // Listed by p1 (3) and p2 (7): the highest; no completed request, no TPS.
  assert.equal(row(models.text, "m-idle").Priority, "7");
  assert.equal(row(models.text, "m-idle").TPS, "—");
  assert.equal(row(models.text, "m-idle")["Est. cost"], "$0.00");
  // 7d: request 12 (3 output tokens in 100 ms) comes from the day rollups,
  // today's partial day from the rows: 173 tokens over 4.6 s.
  const week = await s.get("/models?period=7d");
  assert.equal(row(week.text, "m1").TPS, "37.6");
  assert.equal(row(week.text, "m1")["Est. cost"], "$0.0020");
  assert.equal(row(week.text, "m1").Requests, "7");
  const day = await s.get("/models?period=24h");
  // $2.50 at estimated prices: the pricing warning names the model, escaped.
  assert.match(day.text, /data-pricing-warning="&lt;b>m-evil&lt;\/b>"/);
  assert.match(day.text, /<strong>&lt;b>m-evil&lt;\/b><\/strong>: \$2.50/);

  const lat = await s.get("/latency?period=1h");
  const lc = cards(lat.text);
  assert.equal(lc.overhead.value, "5 ms");
  assert.equal(lc.wait.value, "245 ms");
  assert.equal(lc.read.value, "1.00 s");
  assert.equal(lc.latency.value, "1.25 s");
  assert.equal(lc.connect.value, "—");
  assert.deepEqual(row(lat.text, "p1"), {
    Provider: "p1",
    Requests: "3",
    "Avg TTFT": "200 ms",
    "P50 TTFT": "200 ms",
    "P95 TTFT": "300 ms",
    "P99 TTFT": "300 ms",
  });
  assert.equal(row(lat.text, "p1/m1")["Avg TTFT"], "200 ms");

  const pings = await s.get("/pings?period=1h");
  const pc = cards(pings.text);
  assert.equal(pc["ping-p1"].value, "200 ms");
  assert.equal(pc["ping-p1"].detail, "success 50.0% of 2 · models 12");
  assert.equal(pc["ping-p2"].detail, "success 0.0% of 1 · models —");
  assert.equal((pings.text.match(/<tr\s+data-row="\d+">/g) ?? []).length, 3);
  assert.match(pings.text, /data-col="Error">HTTP 500</);
  assert.match(pings.text, /data-col="Error">no answer</);
  for (const page of [cache, models, day, lat, pings]) {
    assert.ok(!page.text.includes(SECRET_TEXT));
    assert.ok(!page.text.includes("10.0.0."), "no client IP");
  }
});

Deno.test("pages: markup in account and model names stays text", async () => {
  await using s = await startPages();
  for (const path of PAGES) {
    const { text } = await s.get(`${path}?period=24h`);
    assert.ok(!text.includes("<img src=x"), path);
    assert.ok(!text.includes("<b>m-evil"), path);
    assert.ok(!text.includes("10.9.9.9"), path);
  }
  const routing = await s.get("/routing?period=24h");
  assert.match(routing.text, /&lt;img src=x onerror=alert\(1\)>/);
  const pings = await s.get("/pings?period=24h");
  assert.match(pings.text, /data-col="Account">&lt;img src=x onerror=alert\(1\)></);
});

Deno.test("pages: an empty period says what to do next", async () => {
  await using s = await startPages({ empty: true });
  const advice = /Point a client at \/v1\/chat\/completions or \/v1\/messages/;
  const reliability = await s.get("/reliability?period=1h");
  assert.match(reliability.text, /No upstream attempts in this period\. Point a client/);
  assert.match(reliability.text, /No failed attempts in this period/);
  assert.match((await s.get("/routing?period=1h")).text, /No routed requests in this period\./);
  assert.match((await s.get("/cache?period=1h")).text, advice);
  assert.match((await s.get("/latency?period=1h")).text, /TTFT is measured on streamed answers/);
  assert.match((await s.get("/pings?period=1h")).text, /No pings in this period\. EggPool pings/);
  // The catalog still lists models without traffic.
  const models = await s.get("/models?period=1h");
  assert.equal(row(models.text, "m-idle").Requests, "0");
});

/**
 * The Timeseries, Events, Traces, Runtime and Bandwidth pages against a real
 * EggPool, the mock upstream and its SQLite file: the figures on each page
 * match the database, hostile names stay inert, empty states say what to do,
 * and the dashboard's sign-in cookie opens the stats API until logout.
 */
import { denoChildEnv } from "./_helpers/cli.ts";
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { openDatabase } from "../src/storage/db.ts";
import { insertRequest } from "../src/storage/requests_repo.ts";
import { poolToml, SCRIPT_NAME } from "./dashboard_fixtures.ts";
import {
  freePort,
  healthy,
  opsEnv,
  serverScope,
  serverTomlLines,
  waitFor,
} from "./_helpers/ops.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../deno.json", import.meta.url).pathname;

const BEARER = { authorization: `Bearer ${LOCAL_KEY}` };
const HTML = { accept: "text/html" };
const ESCAPED_NAME = "&lt;script>alert(&quot;x&quot;)&lt;/script>";
const HOSTILE_MODEL = "<img src=x onerror=alert(1)>";

async function get(pool: TestEggPool, path: string, headers: Record<string, string> = BEARER) {
  const res = await fetch(`${pool.origin}${path}`, { headers, redirect: "manual" });
  return { res, text: await res.text() };
}

function count(n: unknown): string {
  return Math.round(Number(n ?? 0)).toLocaleString("en-US");
}

function decode(html: string): string {
  return html.replace(/<[^>]*>/g, "").replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&").trim();
}

/** Each row of table `id` as cells by column label. */
function tableRows(html: string, id: string): Record<string, string>[] {
  const table = new RegExp(`<table id="${id}">(.*?)</table>`, "s").exec(html);
  if (table === null) throw new Error(`No table #${id} on the page`);
  const rows: Record<string, string>[] = [];
  for (const tr of table[1].matchAll(/<tr[^>]*>(.*?)<\/tr>/gs)) {
    const cells: Record<string, string> = {};
    for (const c of tr[1].matchAll(/<td[^>]*data-col="([^"]*)"[^>]*>(.*?)<\/td>/gs)) {
      cells[c[1]] = decode(c[2]);
    }
    if (Object.keys(cells).length > 0) rows.push(cells);
  }
  return rows;
}

function cards(html: string): Record<string, { value: string; detail: string }> {
  const out: Record<string, { value: string; detail: string }> = {};
  const re =
    /data-card="([^"]+)".*?class="card-value">(.*?)<\/p><p class="card-detail muted">(.*?)<\/p>/gs;
  for (const m of html.matchAll(re)) out[m[1]] = { value: decode(m[2]), detail: decode(m[3]) };
  return out;
}

/** The facts of the `<dl id>` as label → text. */
function facts(html: string, id: string): Record<string, string> {
  const dl = new RegExp(`<dl [^>]*id="${id}">(.*?)</dl>`, "s").exec(html);
  if (dl === null) throw new Error(`No #${id} on the page`);
  const out: Record<string, string> = {};
  for (const m of dl[1].matchAll(/<dd data-fact="([^"]*)">(.*?)<\/dd>/gs)) {
    out[m[1]] = decode(m[2]);
  }
  return out;
}

async function sha256(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function chat(pool: TestEggPool, model = "mock-small"): Promise<number> {
  const res = await postChat(pool, { model, messages: [{ role: "user", content: "hello" }] });
  await res.text();
  return res.status;
}

Deno.test("Timeseries: the tables match the grouped series, the form works as a plain GET", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small", "mock-large"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  for (let i = 0; i < 6; i++) assert.equal(await chat(pool), 200);
  for (let i = 0; i < 3; i++) assert.equal(await chat(pool, "mock-large"), 200);
  const perAccount = pool.query(`SELECT a.name, count(*) AS n, total(r.input_tokens +
    r.output_tokens) AS tokens FROM requests r JOIN accounts a ON a.id = r.account_id
    GROUP BY a.name`);
  assert.equal(perAccount.reduce((s, r) => s + Number(r.n), 0), 9);
  assert.ok(perAccount.some((r) => r.name === SCRIPT_NAME), "the hostile account served some");

  const { res, text } = await get(
    pool,
    "/timeseries?period=1h&group_by=account&bucket=hour&metric=requests&limit=5",
  );
  assert.equal(res.status, 200);
  // Without JavaScript the controls are a GET form that keeps every choice.
  assert.match(text, /<form id="timeseries-controls"[^>]*method="get" action="\/timeseries"/);
  assert.match(text, /<option\s+value="account"\s+selected>/);
  assert.match(text, /<option\s+value="requests"\s+selected>/);
  assert.match(text, /name="limit" min="1" max="25" value="5"/);
  assert.match(text, /src="\/static\/chart.umd.min.js"/);
  // The hostile account name is escaped everywhere (table, legend, chart data, select).
  assert.ok(!text.includes(SCRIPT_NAME), "raw account name on the page");
  assert.ok(text.includes(ESCAPED_NAME));

  const detail = tableRows(text, "timeseries-detail");
  for (const r of perAccount) {
    const rows = detail.filter((d) => d.Series === r.name);
    assert.equal(rows.reduce((s, d) => s + Number(d.Requests.replaceAll(",", "")), 0), r.n);
    assert.equal(
      rows.reduce((s, d) => s + Number(d.Tokens.replaceAll(",", "")), 0),
      Number(r.tokens),
    );
  }
  const aggregate = tableRows(text, "timeseries-aggregate");
  assert.equal(aggregate.reduce((s, d) => s + Number(d.Requests), 0), 9);
  const api = await (await fetch(
    `${pool.origin}/api/timeseries/grouped?period=1h&group_by=account&bucket=hour&limit=5`,
    { headers: BEARER },
  )).json();
  assert.deepEqual(aggregate.map((a) => a.Bucket), api.buckets);

  // Top 1 by model: the rest folds into "Other", and the totals stay exact.
  const top1 = await get(pool, "/timeseries?period=1h&group_by=model&limit=1");
  const rows = tableRows(top1.text, "timeseries-detail");
  assert.deepEqual(
    [...new Set(rows.map((r) => r.Series))].sort(),
    ["Other", "mock-small"],
  );
  assert.equal(rows.reduce((s, d) => s + Number(d.Requests), 0), 9);

  // A model filter, and an account that does not exist.
  const large = await get(pool, "/timeseries?period=1h&model=mock-large");
  assert.equal(
    tableRows(large.text, "timeseries-aggregate").reduce((s, d) => s + Number(d.Requests), 0),
    3,
  );
  const unknown = await get(pool, `/timeseries?account=${encodeURIComponent(HOSTILE_MODEL)}`);
  assert.equal(unknown.res.status, 400);
  assert.match(unknown.text, /No account is named/);
  assert.ok(!unknown.text.includes(HOSTILE_MODEL));
});

Deno.test("the sign-in cookie opens the stats API the pages call; logout closes it", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  assert.equal(await chat(pool), 200);
  const paths = [
    "/api/timeseries/grouped?period=1h",
    "/api/stats/summary",
    "/api/stats/recent-requests",
    "/api/stats/runtime",
    "/api/sessions",
  ];
  for (const p of paths) assert.equal((await get(pool, p, {})).res.status, 401, p);

  const login = await fetch(`${pool.origin}/login`, {
    method: "POST",
    headers: { ...HTML, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key: LOCAL_KEY, next: "/timeseries" }),
    redirect: "manual",
  });
  await login.body?.cancel();
  assert.equal(login.status, 303);
  const cookie = login.headers.get("set-cookie")!.split(";")[0];
  const grouped = await get(pool, paths[0], { cookie });
  assert.equal(grouped.res.status, 200);
  assert.equal(JSON.parse(grouped.text).bucket_totals[0].request_count, 1);
  const recent = await get(pool, paths[2], { cookie });
  assert.equal(recent.res.status, 200);
  assert.equal(JSON.parse(recent.text).requests.length, 1);
  const runtime = await get(pool, paths[3], { cookie });
  assert.equal(runtime.res.status, 200);
  assert.equal(JSON.parse(runtime.text).pid, Deno.pid);
  assert.equal((await get(pool, "/runtime", { cookie })).res.status, 200);
  const sessions = await get(pool, paths[4], { cookie });
  assert.equal(sessions.res.status, 200);
  assert.ok(Array.isArray(JSON.parse(sessions.text).sessions));
  // A wrong cookie opens nothing.
  const forged = `${cookie.slice(0, -4)}AAAA`;
  assert.equal((await get(pool, paths[1], { cookie: forged })).res.status, 401);

  const out = await fetch(`${pool.origin}/logout`, { headers: { cookie }, redirect: "manual" });
  await out.body?.cancel();
  for (const p of paths) {
    const after = await get(pool, p, { cookie });
    assert.equal(after.res.status, 401, p);
    assert.equal(JSON.parse(after.text).error, "Invalid or missing API key");
  }
});

Deno.test("Events: the period's account events with a type filter, details redacted", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const empty = await get(pool, "/events?period=1h");
  assert.match(empty.text, /No account events in this period/);

  const now = Date.now();
  const db = new DatabaseSync(pool.dbPath);
  try {
    const id = (name: string) =>
      Number(db.prepare("SELECT id FROM accounts WHERE name = ?").get(name)!.id);
    const add = db.prepare(
      "INSERT INTO account_events (account_id, event_type, details_json, occurred_at) VALUES (?, ?, ?, ?)",
    );
    add.run(
      id(SCRIPT_NAME),
      "rate_limited",
      JSON.stringify({ status_code: 429, note: HOSTILE_MODEL, error_detail: "RAW-SECRET" }),
      now - 10 * 60_000,
    );
    add.run(id("acct-1"), "auth_failed", JSON.stringify({ status_code: 401 }), now - 20 * 60_000);
    add.run(id("acct-2"), "quota_exhausted", "{}", now - 40 * 86_400_000);
  } finally {
    db.close();
  }
  const { text } = await get(pool, "/events?period=24h");
  const rows = tableRows(text, "account-events");
  assert.deepEqual(rows.map((r) => [r.Account, r.Type]), [
    [SCRIPT_NAME, "rate_limited"],
    ["acct-1", "auth_failed"],
  ]);
  assert.equal(rows[0].Details, `status_code=429 · note=${HOSTILE_MODEL}`);
  assert.ok(!text.includes("RAW-SECRET"));
  assert.ok(!text.includes(HOSTILE_MODEL) && !text.includes(SCRIPT_NAME));
  assert.match(text, /data-tooltip="Upstream returned 429 recently"/);
  // The filter offers only types present in the period (not the 40-day-old quota event).
  assert.match(text, /type=auth_failed/);
  assert.ok(!text.includes("type=quota_exhausted"));
  const filtered = await get(pool, "/events?period=24h&type=auth_failed");
  assert.deepEqual(tableRows(filtered.text, "account-events").map((r) => r.Account), ["acct-1"]);
});

Deno.test("Traces: latest requests and one request's attempts, never bodies or IPs", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const empty = await get(pool, "/traces");
  assert.match(empty.text, /No requests recorded yet/);
  assert.equal(await chat(pool), 200);
  mock.script.set("*", { status: 500 });
  assert.notEqual(await chat(pool), 200);
  mock.script.clear();
  assert.equal(await chat(pool, HOSTILE_MODEL), 404);

  const { res, text } = await get(pool, "/traces");
  assert.equal(res.status, 200);
  const rows = tableRows(text, "traces");
  const db = pool.query(`SELECT id, proxy_request_id, status, attempt_count FROM requests
    ORDER BY started_at DESC, id DESC`);
  assert.deepEqual(rows.map((r) => r.ID), db.map((r) => r.proxy_request_id));
  assert.equal(rows[0].Model, HOSTILE_MODEL);
  assert.ok(!text.includes(HOSTILE_MODEL), "hostile model name escaped");
  assert.ok(!text.includes("127.0.0.1"), "no client IP");
  assert.ok(!text.includes("hello"), "no prompt");

  const failed = db.find((r) => r.status === "error")!;
  const detail = await get(pool, `/traces/${failed.id}`);
  assert.equal(detail.res.status, 200);
  const attempts = tableRows(detail.text, "trace-attempts");
  assert.equal(attempts.length, Number(failed.attempt_count));
  assert.ok(attempts.every((a) => a.Status === "500"));
  assert.ok(tableRows(detail.text, "trace-routing").length >= 1);
  assert.ok(!detail.text.includes("127.0.0.1"));
  const missing = await get(pool, "/traces/999999");
  assert.equal(missing.res.status, 404);
  assert.match(missing.text, /No request has this id/);
});

Deno.test("Traces and Runtime need the key even when the dashboard is public", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: poolToml(mock.url) + "[dashboard]\npublic = true\n",
  });
  for (const path of ["/traces", "/runtime"]) {
    const open = await get(pool, path, HTML);
    assert.equal(open.res.status, 401, path);
    assert.match(open.text, /This page needs the local API key/);
    assert.equal((await get(pool, path)).res.status, 200, path);
  }
  for (const path of ["/timeseries", "/events", "/bandwidth"]) {
    assert.equal((await get(pool, path, HTML)).res.status, 200, path);
  }
});

Deno.test("Runtime shows what /api/stats/runtime reports", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const { text } = await get(pool, "/runtime");
  const api = await (await fetch(`${pool.origin}/api/stats/runtime`, { headers: BEARER })).json();
  const c = cards(text);
  assert.equal(c.pid.value, String(api.pid));
  assert.equal(c.runtime.value, `Deno ${api.versions.deno}`);
  assert.match(text, /<body data-refresh-s="/);
  const tasks = tableRows(text, "runtime-tasks").map((t) => t.Task);
  assert.deepEqual(tasks, api.backgroundTasks.map((t: { name: string }) => t.name));
  assert.ok(text.includes(`>${pool.dbPath}<`));
  assert.match(text, /<dd data-fact="Journal mode">WAL<\/dd>/);
  assert.match(text, /<dd data-fact="Sync">NORMAL<\/dd>/);
  // Nothing routed yet, nothing pending, no backoff.
  assert.equal(c.dispatch.value, "—");
  assert.equal(c.pending.value, "0");
  assert.equal(c.backoffs.value, "0");

  // Reload diagnostics: the file on disk against the config the server started with.
  const configPath = `${tmp.path}/config.toml`;
  const original = await Deno.readTextFile(configPath);
  const startDigest = await sha256(original);
  let f = facts(text, "runtime-config");
  assert.equal(f["Config file"], configPath);
  assert.equal(f["Running digest"], `${startDigest.slice(0, 12)}…`);
  assert.equal(
    f.Loaded,
    `${new Date(Date.parse(api.startedAt)).toISOString().slice(0, 19).replace("T", " ")} UTC ` +
      "(at start; a rehash restarts the server)",
  );
  assert.equal(f["File on disk"], "same as the running config");
  assert.ok(!/id="runtime-config" class|class="card trace-facts warning"/.test(text));
  // An edit that would not load: the page says so and why, and the server runs on.
  await Deno.writeTextFile(configPath, original.replace('host = "127.0.0.1"', "port = 0"));
  f = facts((await get(pool, "/runtime")).text, "runtime-config");
  assert.equal(
    f["File on disk"],
    "changed since start and invalid: `eggpool rehash` would refuse it and the server keeps " +
      "its running config",
  );
  assert.match(f["Validation error"], /server\.port \(line \d+\): /);
  assert.ok(!f["Validation error"].includes(LOCAL_KEY));
  // A valid edit: a rehash would apply it.
  const edited = original + "\n# a comment\n";
  await Deno.writeTextFile(configPath, edited);
  const page = (await get(pool, "/runtime")).text;
  f = facts(page, "runtime-config");
  assert.equal(f["File on disk"], "changed since start and valid: `eggpool rehash` applies it");
  assert.equal(f["Disk digest"], `${(await sha256(edited)).slice(0, 12)}…`);
  assert.equal(f["Validation error"], undefined);
  await Deno.remove(configPath);
  f = facts((await get(pool, "/runtime")).text, "runtime-config");
  assert.match(f["File on disk"], /^unreadable: No such file or directory/);
});

Deno.test("Runtime: open FDs, threads and load average from /proc, backoffs, pending, dispatch", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  // acct-1 answers 429 for a minute: once a conversation reached it, it is in backoff and
  // another account served that request.
  mock.script.set("k-1", { status: 429, retryAfter: 60 });
  let sent = 0;
  const chatsOfK1 = () =>
    mock.requestsFor("k-1").filter((r) => r.route === "chat_completions").length;
  while (chatsOfK1() === 0 && sent < 12) {
    const res = await postChat(pool, {
      model: "mock-small",
      messages: [{ role: "user", content: `conversation ${sent++}` }],
    });
    assert.equal(res.status, 200);
    await res.text();
  }
  assert.equal(chatsOfK1(), 1);
  const db = new DatabaseSync(pool.dbPath);
  try {
    db.prepare(
      `INSERT INTO requests (proxy_request_id, requested_model, client_protocol, status, started_at)
       VALUES ('pending-rt', 'mock-small', 'openai', 'pending', ?)`,
    ).run(Date.now() - 1_000_000);
  } finally {
    db.close();
  }
  const { text } = await get(pool, "/runtime");
  const c = cards(text);
  const pid = Number(c.pid.value);
  // The server is a child process of this test: its /proc entries are readable here.
  const limit = /^Max open files\s+(\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/limits`));
  assert.ok(limit !== null);
  assert.match(c.open_fds.value, /^\d[\d,]*$/);
  const fds = Number(c.open_fds.value.replaceAll(",", ""));
  assert.ok(fds >= 3, c.open_fds.value);
  assert.equal(
    c.open_fds.detail,
    `of ${count(limit[1])} allowed (${(fds / Number(limit[1]) * 100).toFixed(1)}%)`,
  );
  assert.match(c.threads.value, /^\d+$/);
  assert.ok(Number(c.threads.value) >= 1);
  assert.equal(c.threads.detail, "in this process");
  assert.match(c.load.value, /^\d+\.\d\d$/);
  assert.match(
    c.load.detail,
    new RegExp(
      `^1 / 5 / 15 min: [\\d.]+ / [\\d.]+ / [\\d.]+ · ${navigator.hardwareConcurrency} CPUs$`,
    ),
  );
  // Outbound: every chat call took one of provider p's 32 slots and gave it back.
  const [outbound] = tableRows(text, "runtime-outbound");
  const calls = mock.requests.filter((r) => r.route === "chat_completions").length;
  assert.equal(calls, sent + 1, "the 429 on k-1 was one more upstream call");
  assert.deepEqual(outbound, {
    Provider: "p",
    "In flight": "0",
    "Open calls": "0 / 32",
    Waiting: "0",
    "Calls since start": String(calls),
    "Slot timeouts": "0",
    "HTTP clients": "1",
    "Via proxy": "0 of 3",
  });
  assert.equal(c.processes.value, "1");
  assert.equal(c.processes.detail, "serving this database · expected 1");
  assert.ok(!text.includes("runtime-process-warning"));
  assert.equal(c.pending.value, "1");
  assert.equal(c.pending.detail, "1 stale (over 15 min)");
  assert.equal(c.backoffs.value, "1");
  assert.equal(c.backoffs.detail, "on 1 account");
  // Dispatch overhead: the mean of start to first attempt over the routed requests.
  const rows = pool.query(
    `SELECT first_attempt_at - started_at AS ms FROM requests
     WHERE first_attempt_at IS NOT NULL ORDER BY ms`,
  ).map((r) => Number(r.ms));
  assert.equal(rows.length, sent);
  const avg = rows.reduce((a, b) => a + b, 0) / rows.length;
  assert.equal(
    c.dispatch.value,
    avg < 1000 ? `${Math.round(avg)} ms` : `${(avg / 1000).toFixed(2)} s`,
  );
  assert.equal(
    c.dispatch.detail,
    `p95 ${
      Math.round(rows[Math.ceil(0.95 * sent) - 1])
    } ms · start to first upstream attempt, last ${sent}`,
  );
});

Deno.test("Bandwidth: the period's bytes and the 180-day heatmap", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const empty = await get(pool, "/bandwidth?period=1h");
  assert.match(empty.text, /No requests in this period/);
  for (let i = 0; i < 3; i++) assert.equal(await chat(pool), 200);
  // An old request, written the way the recorder writes (row and day rollup): in the heatmap,
  // not in the 24 h cards.
  const old = Date.now() - 20 * 86_400_000;
  const db = openDatabase({ path: pool.dbPath });
  try {
    insertRequest(
      db,
      { accountId: () => null },
      {
        requestId: "old-1",
        startedAt: old,
        clientProtocol: "openai",
        requestedModel: "mock-small",
        streamed: false,
        bytesIn: 1000,
        clientIp: "10.9.9.9",
      },
      {
        status: "client_error",
        completedAt: old + 10,
        statusCode: 404,
        errorClass: "local_validation",
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        costMicros: 0,
        exactness: "unknown",
        bytesOut: 2000,
        attempts: [],
      },
    );
  } finally {
    db.close();
  }
  const [sum] = pool.query(`SELECT total(bytes_in) AS i, total(bytes_out) AS o FROM requests
    WHERE proxy_request_id <> 'old-1'`);
  assert.ok(Number(sum.o) > 0);
  const { text } = await get(pool, "/bandwidth?period=24h");
  const c = cards(text);
  assert.match(c.received.detail, new RegExp(`^${count(sum.i)} bytes from clients · 3 requests`));
  assert.equal(c.emitted.detail, `${count(sum.o)} bytes to clients`);
  const today = new Date().toISOString().slice(0, 10);
  const oldDay = new Date(old).toISOString().slice(0, 10);
  const cell = (day: string) =>
    Number(new RegExp(`data-date="${day}" data-value="(\\d+)"`).exec(text)?.[1]);
  assert.equal(cell(today), Number(sum.i) + Number(sum.o));
  assert.equal(cell(oldDay), 3000);
  assert.match(text, /Bandwidth activity \(last 180 days\)/);
});

Deno.test("empty Timeseries says how to get data", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const { res, text } = await get(pool, "/timeseries");
  assert.equal(res.status, 200);
  assert.match(text, /id="timeseries-empty"(?! hidden)/);
  assert.match(text, /No requests match these controls in this period/);
  assert.equal(tableRows(text, "timeseries-aggregate").length, 0);
});

Deno.test("Runtime warns while a second server process has the same database open", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  await using _servers = serverScope(tmp.path);
  // Another server with its own port and PID file (so no start lock stops it), same database.
  const second = `${tmp.path}/second`;
  await Deno.mkdir(second);
  const port = freePort();
  const config = `${second}/config.toml`;
  await Deno.writeTextFile(
    config,
    [...serverTomlLines(tmp.path, port), poolToml(mock.url)].join("\n") + "\n",
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--config=${DENO_JSON}`, MAIN, "--config", config, "serve"],
    env: {
      ...denoChildEnv(),
      ...opsEnv(second),
    },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    assert.ok(await waitFor(() => healthy(port), 60_000), "the second server came up");
    const { text } = await get(pool, "/runtime");
    const warning = /<section [^>]*id="runtime-process-warning"[^>]*>(.*?)<\/section>/s.exec(text);
    assert.ok(warning !== null, "the warning is on the page");
    assert.match(
      decode(warning[1]),
      new RegExp(
        `^Process count exceeds expected\\s*2 EggPool servers have this database open ` +
          `\\(expected 1\\): this one and PID ${child.pid}\\. `,
      ),
    );
    assert.deepEqual(cards(text).processes, {
      value: "2",
      detail: "serving this database · expected 1",
    });
    // /api/stats/runtime (what runtime-status prints) says the same.
    const api = await (await fetch(`${pool.origin}/api/stats/runtime`, { headers: BEARER })).json();
    assert.deepEqual(api.processes, { observed: 2, expected: 1, others: [child.pid] });
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // It ended on its own; the assertions above say why that is a failure.
    }
    await child.status;
  }
  const { text } = await get(pool, "/runtime");
  assert.ok(!text.includes("runtime-process-warning"), "gone with the second server");
  assert.equal(cards(text).processes.value, "1");
});

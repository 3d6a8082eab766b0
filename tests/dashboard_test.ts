/**
 * The dashboard over HTTP against a real EggPool and the real mock upstream:
 * sign-in, the Accounts page's numbers (issue #5: cached share of input and
 * conversation moves with their reasons), themes, static assets and escaping.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { formatCost, formatCount } from "../src/dashboard/views/_format.ts";
import { formatBytes } from "../src/dashboard/views/pages_b/runtime_page.tsx";
import { formatCompact } from "../src/dashboard/views/components/window_use.tsx";
import { estimateReservationTokens } from "../src/routing/scorer.ts";
import {
  accountCells,
  conversationTurn,
  modelCells,
  poolToml,
  SCRIPT_NAME,
  shareText,
} from "./dashboard_fixtures.ts";

/** Spec 06 §5's translation table, row by row. */
const SPEC_VARIABLES = [
  "--page-bg",
  "--page-text",
  ...["--page-border", "--topbar-border", "--card-border"],
  "--topbar-bg",
  ...["--topbar-text", "--nav-active-text", "--button-primary-text"],
  ...["--nav-text", "--table-header-text", "--text-secondary"],
  "--nav-hover-bg",
  ...["--nav-active-bg", "--button-primary-bg"],
  ...["--card-bg", "--button-bg"],
  "--table-header-bg",
  "--table-border",
  "--text-muted",
  ...["--color-success", "--color-error"],
  "--color-warning",
  ...["--color-info", "--link-color", "--accent-color"],
  "--link-color-hover",
  ...["--chip-bg", "--chip-border"],
  ...["--button-border", "--button-bg-hover", "--button-bg-active"],
  ...["default", "success", "warning", "error"].map((t) => `--tag-${t}-bg`),
  ...["default", "success", "warning", "error"].map((t) => `--tag-${t}-text`),
  ...[0, 1, 2, 3, 4].map((i) => `--heatmap-${i}`),
  "--heatmap-label-text",
];

const HTML = { accept: "text/html,application/xhtml+xml" };
const BEARER = { authorization: `Bearer ${LOCAL_KEY}` };

async function get(pool: TestEggPool, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${pool.origin}${path}`, { headers, redirect: "manual" });
  return { res, text: await res.text() };
}

async function login(pool: TestEggPool, key: string, next = "/accounts?period=1h") {
  const res = await fetch(`${pool.origin}/login`, {
    method: "POST",
    headers: { ...HTML, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key, next }),
    redirect: "manual",
  });
  return { res, text: await res.text() };
}

/** Six conversations over three accounts; acct-1 then answers 429 and its conversations move. */
async function driveTraffic(pool: TestEggPool, mock: MockUpstream): Promise<number> {
  const histories = Array.from({ length: 6 }, () => [] as { role: string; content: string }[]);
  for (let round = 0; round < 4; round++) {
    if (round === 2) mock.script.set("k-1", { status: 429, retryAfter: 60 });
    for (const [id, history] of histories.entries()) {
      assert.equal(await conversationTurn(pool, id, history, round), 200);
    }
  }
  // Conversations whose first turn reached k-1 moved exactly once, for rate_limited.
  const firstKeys = new Map<number, string>();
  for (const r of mock.requests) {
    if (r.route !== "chat_completions" || r.status !== 200) continue;
    const id = Number(/agent (\d+)/.exec(JSON.stringify(r.body))?.[1]);
    if (!firstKeys.has(id)) firstKeys.set(id, r.key ?? "");
  }
  return [...firstKeys.values()].filter((k) => k === "k-1").length;
}

/**
 * A window cell as the page should write it: the highest of requests, tokens and spend against
 * the defaults (5 h unless given: 2 500 requests, 500M tokens, [limits] $12), then used / limit.
 */
function windowText(
  row: Record<string, unknown> | undefined,
  requestCap = 2_500,
  tokenCap = 500e6,
  spendCap = 12e6,
): string {
  const n = Number(row?.n ?? 0);
  const tok = Number(row?.tok ?? 0);
  const cost = Number(row?.cost ?? 0);
  const dims: [number, string][] = [
    [n / requestCap, `${formatCompact(n)} / ${formatCompact(requestCap)} requests`],
    [tok / tokenCap, `${formatCompact(tok)} / ${formatCompact(tokenCap)} tokens`],
    [cost / spendCap, `${formatCost(cost)} / ${formatCost(spendCap)} spend`],
  ];
  const [ratio, text] = dims.reduce((a, b) => (b[0] > a[0] ? b : a));
  return `${(ratio * 100).toFixed(1)}% ${text}`;
}

Deno.test("the Accounts page shows each account's requests, cached share and moves", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], cache: "prefix" });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const victims = await driveTraffic(pool, mock);
  assert.ok(victims >= 1, "some conversation started on acct-1");

  // Not signed in: browsers go to the login page, API clients get a 401.
  const anon = await get(pool, "/accounts?period=1h", HTML);
  assert.equal(anon.res.status, 303);
  assert.equal(anon.res.headers.get("location"), "/login?next=%2Faccounts%3Fperiod%3D1h");
  assert.equal((await get(pool, "/accounts")).res.status, 401);
  const form = await get(pool, "/login?next=%2Faccounts", HTML);
  assert.equal(form.res.status, 200);
  assert.match(form.text, /<form method="post" action="\/login">/);

  const wrong = await login(pool, "ep_wrong_key_000000000");
  assert.equal(wrong.res.status, 401);
  assert.match(wrong.text, /That key is not the local API key/);
  assert.ok(!wrong.text.includes("ep_wrong_key_000000000"), "a tried key is never echoed");
  assert.equal(wrong.res.headers.get("set-cookie"), null);

  const ok = await login(pool, LOCAL_KEY);
  assert.equal(ok.res.status, 303);
  assert.equal(ok.res.headers.get("location"), "/accounts?period=1h");
  const setCookie = ok.res.headers.get("set-cookie") ?? "";
  assert.match(setCookie, /^eggpool_session=v2\.[A-Za-z0-9_-]{24}\.\d+\.[A-Za-z0-9_-]+; /);
  for (const attr of ["HttpOnly", "SameSite=Strict", "Path=/"]) {
    assert.ok(setCookie.includes(attr), `${attr} in ${setCookie}`);
  }
  assert.ok(!setCookie.includes(LOCAL_KEY));
  const cookie = { ...HTML, cookie: setCookie.split(";")[0] };

  const page = await get(pool, "/accounts?period=1h", cookie);
  assert.equal(page.res.status, 200);
  assert.equal(page.res.headers.get("cache-control"), "no-store");
  assert.ok(!page.text.includes(LOCAL_KEY));
  assert.ok(pool.logs.every((line) => !line.includes(LOCAL_KEY)));
  const rows = pool.query(
    `SELECT a.name AS name, count(*) AS n, sum(r.cache_read_tokens) AS cached,
       sum(r.input_tokens + r.cache_read_tokens + r.cache_write_tokens) AS input,
       sum(r.reasoning_tokens) AS reasoning,
       total(CASE WHEN r.cost_exactness = 'estimated' THEN r.cost_microdollars END) AS est,
       sum(r.bytes_in) AS bytes_in, sum(r.bytes_out) AS bytes_out,
       sum(r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens) AS tok,
       sum(r.cost_microdollars) AS cost
     FROM requests r JOIN accounts a ON a.id = r.account_id GROUP BY a.name`,
  );
  assert.equal(rows.reduce((sum, r) => sum + Number(r.n), 0), 24);
  assert.ok(rows.some((r) => Number(r.est) > 0), "some cost is priced by estimate");
  for (const name of ["acct-1", "acct-2", SCRIPT_NAME]) {
    const row = rows.find((r) => r.name === name);
    const cells = accountCells(page.text, name);
    assert.equal(cells.Requests, String(row?.n ?? 0), name);
    assert.equal(cells["Cached share"], row ? shareText(row.cached, row.input) : "—", name);
    assert.equal(cells.Reasoning, formatCount(Number(row?.reasoning ?? 0)), name);
    assert.equal(cells["Est. cost"], formatCost(Number(row?.est ?? 0)), name);
    assert.equal(cells["BW received"], formatBytes(Number(row?.bytes_in ?? 0)), name);
    assert.equal(cells["BW emitted"], formatBytes(Number(row?.bytes_out ?? 0)), name);
    assert.equal(cells["5h util."], windowText(row), name);
    assert.equal(cells["30d util."], windowText(row, 150_000, 30e9, 60e6), name);
    assert.equal(cells.Reserved, "0", name);
    assert.equal(cells.Reservations, "0", name);
    assert.equal(
      cells.Moves,
      name === "acct-1" ? `${victims} · rate_limited ${victims}` : "0",
      name,
    );
    if (name === "acct-1") assert.equal(cells["Live pins"], "0");
  }
  const pinned = ["acct-1", "acct-2", SCRIPT_NAME]
    .reduce((sum, name) => sum + Number(accountCells(page.text, name)["Live pins"]), 0);
  assert.equal(pinned, 6, "every conversation is pinned somewhere");
  assert.match(
    accountCells(page.text, "acct-1").Health,
    /^rate_limited until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
  );
  assert.equal(accountCells(page.text, "acct-1").Backoff, "rate_limited");
  const [all] = pool.query(
    `SELECT count(*) AS n, sum(cache_read_tokens) AS cached,
       sum(input_tokens + cache_read_tokens + cache_write_tokens) AS input FROM requests`,
  );
  assert.ok(Number(all.cached) > 0, "the mock's prompt cache served some input");
  const model = modelCells(page.text, "mock-small");
  assert.equal(model.Requests, "24");
  assert.equal(model["Cached share"], shareText(all.cached, all.input));
  assert.equal(model.Moves, `${victims} · rate_limited ${victims}`);

  // A request held upstream reserves its estimate on its account until it ends.
  mock.script.set("*", { delayMs: 2_000, times: 1 });
  const body = { model: "mock-small", messages: [{ role: "user", content: "hold ".repeat(900) }] };
  const held = postChat(pool, body);
  const reserved = async () => {
    const html = (await get(pool, "/accounts?period=1h", cookie)).text;
    return ["acct-1", "acct-2", SCRIPT_NAME].map((n) => accountCells(html, n))
      .filter((c) => c.Reservations !== "0");
  };
  let holding = await reserved();
  for (let i = 0; i < 200 && holding.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    holding = await reserved();
  }
  assert.equal(holding.length, 1, "one account holds the request");
  assert.equal(holding[0].Reservations, "1");
  const bytes = new TextEncoder().encode(JSON.stringify(body)).byteLength;
  assert.equal(holding[0].Reserved, formatCount(estimateReservationTokens(bytes)));
  const done = await held;
  assert.equal(done.status, 200);
  await done.body?.cancel();
  let after = await reserved();
  for (let i = 0; i < 200 && after.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    after = await reserved();
  }
  assert.equal(after.length, 0, "the reservation ends with the request");
  mock.script.clear();

  // The key header works for API clients; a tampered cookie does not; logout clears it.
  assert.equal((await get(pool, "/accounts", BEARER)).res.status, 200);
  const forged = { ...HTML, cookie: cookie.cookie.replace(/.$/, (c) => (c === "A" ? "B" : "A")) };
  assert.equal((await get(pool, "/accounts", forged)).res.status, 303);
  const out = await get(pool, "/logout", cookie);
  assert.equal(out.res.status, 303);
  assert.match(out.res.headers.get("set-cookie") ?? "", /^eggpool_session=; .*Max-Age=0/);
  const evil = await login(pool, LOCAL_KEY, "//evil.example/steal");
  assert.equal(evil.res.headers.get("location"), "/");
});

Deno.test("account and provider text is HTML-escaped", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const page = await get(pool, "/accounts?show_disabled=1", BEARER);
  assert.equal(page.res.status, 200);
  assert.ok(!page.text.includes("<script>alert"), "no raw script tag from config text");
  assert.ok(page.text.includes("&lt;script>alert(&quot;x&quot;)&lt;/script>"));
  assert.equal(accountCells(page.text, SCRIPT_NAME).Account, SCRIPT_NAME);
});

Deno.test("theme.css serves the 46 variables in spec order and ignores bad names", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const dracula = await get(pool, "/static/theme.css?theme=Dracula");
  assert.equal(dracula.res.status, 200);
  assert.equal(dracula.res.headers.get("content-type"), "text/css; charset=utf-8");
  assert.equal(dracula.res.headers.get("cache-control"), "public, max-age=300");
  const names = [...dracula.text.matchAll(/^\s+(--[a-z0-9-]+): #[0-9a-f]{6};$/gm)].map((m) => m[1]);
  assert.deepEqual(names, SPEC_VARIABLES);
  assert.match(dracula.text, /--page-bg: #1f222d;/);
  // Unknown or hostile names fall back to [dashboard].theme (default "Cyber Red").
  const cyber = await get(pool, "/static/theme.css?theme=Cyber%20Red");
  assert.match(cyber.text, /--page-bg: #090808;/);
  for (const bad of ["No%20Such%20Theme", "..%2F..%2Fetc%2Fpasswd", "../../etc/passwd"]) {
    const r = await get(pool, `/static/theme.css?theme=${bad}`);
    assert.equal(r.res.status, 200);
    assert.equal(r.text, cyber.text, bad);
  }
  const page = await get(pool, "/accounts?theme=../../etc/passwd", BEARER);
  assert.equal(page.res.status, 200);
  assert.ok(page.text.includes('href="/static/theme.css?theme=Cyber+Red"'));
  assert.ok(!page.text.includes("passwd"));
  const dflt = await get(pool, "/static/theme.css?theme=default");
  assert.match(dflt.text, /--page-bg: #f6f7f9;[\s\S]*--heatmap-4: #216e39;/);
});

Deno.test("static assets are public with their cache lifetimes; / is the Overview", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const expected: [string, string, number][] = [
    ["/static/dashboard.css", "text/css; charset=utf-8", 300],
    ["/static/dashboard.js", "text/javascript; charset=utf-8", 86_400],
    ["/static/favicon.svg", "image/svg+xml", 86_400],
  ];
  for (const [path, type, maxAge] of expected) {
    const { res, text } = await get(pool, path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("content-type"), type, path);
    assert.equal(res.headers.get("cache-control"), `public, max-age=${maxAge}`, path);
    assert.equal(text, await Deno.readTextFile(new URL(`..${path}`, import.meta.url)), path);
  }
  assert.equal((await get(pool, "/static/nope.css")).res.status, 404);
  const home = await get(pool, "/?period=7d&theme=Nord", BEARER);
  assert.equal(home.res.status, 200);
  assert.match(home.text, /<title>Overview · EggPool<\/title>/);
});

Deno.test("[dashboard] public = true opens the pages; enabled = false mounts nothing", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  {
    const toml = `${mockProvidersToml(mock.url)}[dashboard]\npublic = true\n`;
    await using pool = await startEggPool({ dir: tmp.path, toml });
    const page = await get(pool, "/accounts", HTML);
    assert.equal(page.res.status, 200);
    assert.equal(accountCells(page.text, "mockoai-1").Enabled, "yes");
    assert.ok(!page.text.includes("Log out"));
  }
  const toml = `${mockProvidersToml(mock.url)}[dashboard]\nenabled = false\n`;
  await using pool = await startEggPool({ dir: tmp.path, toml });
  for (
    const path of [
      "/accounts",
      "/login",
      "/static/dashboard.css",
      "/static/theme.css",
      "/",
      "/api/stats/cache",
    ]
  ) {
    assert.equal((await get(pool, path, { ...HTML, ...BEARER })).res.status, 404, path);
  }
  // What the CLI reads stays: `runtime-status` and `accounts status`.
  for (const path of ["/api/stats/runtime", "/api/accounts/status"]) {
    assert.equal((await get(pool, path, BEARER)).res.status, 200, path);
  }
});

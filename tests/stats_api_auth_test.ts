/**
 * Who may read the stats API (09-decisions): pending-health, recent-requests
 * and recent/{id} always need the key, the rest follow `[dashboard].public`,
 * and a server without a key is open. Then the API on a real EggPool: real
 * traffic, including a request for a model that does not exist, shows up in
 * the right figures, and the eligibility view reads the live pool.
 */
import assert from "node:assert/strict";
import { getJson, KEY, seedDatabase, statsApp } from "./stats_api_fixture.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, postChat, startEggPool } from "./_helpers/eggpool.ts";

const DASHBOARD_ROUTES = [
  "/api/stats/summary",
  "/api/stats/accounts",
  "/api/stats/routing-skew",
  "/api/stats/transcoding",
  "/api/events",
  "/api/timeseries/grouped",
];
const KEY_ROUTES = [
  "/api/stats/pending-health",
  "/api/stats/recent-requests",
  "/api/stats/recent/1",
];
const WITH_KEY = { authorization: `Bearer ${KEY}` };
const WRONG_KEY = { authorization: "Bearer ep_not_the_key_000000" };

Deno.test("auth matrix: public on and off, with, without and with a wrong key", async () => {
  await using dir = await withTmpDir();
  using db = seedDatabase(`${dir.path}/usage.sqlite3`);
  const cases: [boolean, string[], Record<string, string>, number][] = [
    [false, DASHBOARD_ROUTES, {}, 401],
    [false, DASHBOARD_ROUTES, WRONG_KEY, 401],
    [false, DASHBOARD_ROUTES, WITH_KEY, 200],
    [false, KEY_ROUTES, {}, 401],
    [false, KEY_ROUTES, WITH_KEY, 200],
    [true, DASHBOARD_ROUTES, {}, 200],
    [true, KEY_ROUTES, {}, 401],
    [true, KEY_ROUTES, WRONG_KEY, 401],
    [true, KEY_ROUTES, WITH_KEY, 200],
  ];
  for (const [isPublic, routes, headers, expected] of cases) {
    const api = statsApp(db, { isPublic, key: KEY });
    for (const path of routes) {
      const { status, body } = await getJson(api, path, headers);
      assert.equal(status, expected, `${path} public=${isPublic} ${JSON.stringify(headers)}`);
      if (expected === 401) assert.deepEqual(body, { error: "Invalid or missing API key" });
    }
  }
  // No local key configured: nothing to present, everything answers.
  const keyless = statsApp(db, { isPublic: false });
  for (const path of [...DASHBOARD_ROUTES, ...KEY_ROUTES]) {
    assert.equal((await getJson(keyless, path, {})).status, 200, path);
  }
});

function providerToml(mockUrl: string, dashboard: string): string {
  return [
    "[dashboard]",
    dashboard,
    "[providers.p]",
    'id = "p"',
    `base_url = "${mockUrl}"`,
    "[[providers.p.accounts]]",
    'name = "acct-1"',
    'api_key = "k-1"',
    "[[providers.p.accounts]]",
    'name = "acct-2"',
    'api_key = "k-2"',
  ].join("\n") + "\n";
}

Deno.test("a real server: traffic and a rejected request add up, eligibility reads the pool", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: providerToml(mock.url, "") });
  const messages = [{ role: "user", content: "hello" }];
  for (let i = 0; i < 3; i++) {
    const res = await postChat(pool, { model: "mock-small", messages, stream: i === 0 });
    await res.text();
    assert.equal(res.status, 200);
  }
  const missing = await postChat(pool, { model: "no-such-model", messages });
  await missing.text();
  assert.equal(missing.status, 404);

  const auth = { authorization: `Bearer ${LOCAL_KEY}` };
  const get = async (path: string, headers: Record<string, string> = auth) => {
    const res = await fetch(`${pool.origin}${path}`, { headers });
    return { status: res.status, body: await res.json() };
  };
  const summary = await get("/api/stats/summary?period=1h");
  assert.equal(summary.status, 200);
  assert.equal(summary.body.total_requests, 4);
  assert.equal(summary.body.successful_requests, 3);
  assert.equal(summary.body.rejected_requests, 1);
  assert.equal(summary.body.error_requests, 0);
  assert.equal(summary.body.streamed_requests, 1);
  assert.ok(summary.body.ttft_p50_ms >= 0);
  const models = await get("/api/stats/models?period=1h");
  assert.deepEqual(models.body.models.map((m: { model_id: string }) => m.model_id), ["mock-small"]);
  const accounts = await get("/api/stats/accounts?period=1h");
  const served = accounts.body.accounts.reduce(
    (s: number, a: { request_count: number }) => s + a.request_count,
    0,
  );
  assert.equal(served, 3);
  assert.equal(accounts.body.accounts[0].circuit, "closed");
  // Not public by default: no key, no stats.
  assert.equal((await get("/api/stats/summary", {})).status, 401);

  const elig = await get("/api/stats/routing/eligibility?model_id=mock-small&protocol=openai");
  assert.equal(elig.status, 200);
  assert.deepEqual(elig.body.serving_providers, ["p"]);
  assert.deepEqual(
    elig.body.rows.map((
      r: { account_name: string; eligible: boolean },
    ) => [r.account_name, r.eligible]),
    [["acct-1", true], ["acct-2", true]],
  );
  const none = await get("/api/stats/routing/eligibility?model_id=no-such-model");
  assert.deepEqual([none.body.eligible_count, none.body.rows], [0, []]);
  const bad = await get("/api/stats/routing/eligibility");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.param, "model_id");
});

Deno.test("a real server with the dashboard off has no stats routes", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: providerToml(mock.url, "enabled = false"),
  });
  const res = await fetch(`${pool.origin}/api/stats/summary`, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  });
  await res.body?.cancel();
  assert.equal(res.status, 404);
});

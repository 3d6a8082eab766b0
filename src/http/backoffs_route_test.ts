import assert from "node:assert/strict";
import { Hono } from "hono";
import { mountRoutingRoutes } from "./backoffs_route.ts";
import { createKeyChecker } from "./auth.ts";
import type { HttpEnv } from "./server.ts";
import { AccountPool } from "../accounts/pool.ts";
import { fakeAccount, fakeClock, fakeProvider } from "../accounts/_fixtures.ts";
import { classifyResponse } from "../routing/classify.ts";

const KEY = "ep_route_test_key_123";

function setup(isPublic: boolean) {
  const clock = fakeClock(Date.parse("2025-06-01T00:00:00Z"));
  const prov = fakeProvider("p");
  const pool = new AccountPool([fakeAccount("a", prov), fakeAccount("b", prov)], { clock });
  pool.recordFailure(
    "a",
    classifyResponse(429, new Headers({ "retry-after": "60" }), undefined, {
      now: clock.now,
      quotaCooldownMs: 1,
    }),
  );
  const app = new Hono<HttpEnv>();
  mountRoutingRoutes(app, { keys: createKeyChecker(KEY), isPublic, pool, clock });
  const get = (path: string, key?: string) =>
    app.request(path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { get, clock };
}

Deno.test("GET /api/backoffs lists active backoffs and follows dashboard.public", async () => {
  const gated = setup(false);
  assert.equal((await gated.get("/api/backoffs")).status, 401);
  const res = await gated.get("/api/backoffs", KEY);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    now: "2025-06-01T00:00:00.000Z",
    backoffs: [{
      account_name: "a",
      model_id: null,
      reason: "rate_limited",
      backoff_until: "2025-06-01T00:01:00.000Z",
      consecutive_failures: 1,
      status_code: 429,
      error_class: "upstream_rate_limited",
    }],
  });
  const open = setup(true);
  assert.equal((await open.get("/api/backoffs")).status, 200);
});

Deno.test("GET /api/backoffs?now= evaluates at that instant and rejects junk", async () => {
  const { get, clock } = setup(true);
  const later = (clock.now + 61_000) / 1000;
  const res = await get(`/api/backoffs?now=${later}`);
  assert.deepEqual((await res.json()).backoffs, []);
  const bad = await get("/api/backoffs?now=yesterday");
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
});

Deno.test("GET /api/accounts/status is always key-gated and reports each account", async () => {
  const { get } = setup(true);
  assert.equal((await get("/api/accounts/status")).status, 401);
  const body = await (await get("/api/accounts/status", KEY)).json();
  assert.deepEqual(body.accounts.map((a: { name: string }) => a.name), ["a", "b"]);
  const a = body.accounts[0];
  assert.equal(a.backoffs[0].reason, "rate_limited");
  assert.equal(a.last_error.status_code, 429);
  assert.equal(a.circuit.state, "closed");
  assert.equal(a.windows["5h"].limit_microdollars, 12_000_000);
});

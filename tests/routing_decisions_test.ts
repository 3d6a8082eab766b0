/**
 * Routing decisions recorded on their request row and read back:
 * candidates with score components, the selected account and exclusions.
 */
import assert from "node:assert/strict";
import { openTestDatabase } from "../src/storage/_testing.ts";
import { syncConfigRows } from "../src/storage/accounts_repo.ts";
import { insertRequest } from "../src/storage/requests_repo.ts";
import { encodeDecisions, listRoutingDecisions } from "../src/storage/routing_repo.ts";
import { AccountPool } from "../src/accounts/pool.ts";
import { fakeAccount, fakeClock, fakeProvider } from "../src/accounts/_fixtures.ts";

Deno.test("routing decisions round-trip through requests.routing_json", () => {
  using db = openTestDatabase();
  const clock = fakeClock();
  const ids = syncConfigRows(
    db,
    [{ id: "p", baseUrl: "https://p.example/v1", protocols: ["openai"] }],
    ["a", "b", "c"].map((name) => ({
      name,
      providerId: "p",
      apiKeyEnv: "",
      enabled: name !== "c",
      weight: 1,
    })),
    clock.now,
  );
  const lookup = {
    accountId: (n: string | undefined) => (n === undefined ? null : ids.get(n) ?? null),
  };

  const prov = fakeProvider("p");
  const pool = new AccountPool(
    [fakeAccount("a", prov), fakeAccount("b", prov), fakeAccount("c", prov, { enabled: false })],
    { clock },
  );
  const first = pool.decide({
    providerIds: new Set(["p"]),
    modelId: "m",
    clientProtocol: "openai",
    protocol: "openai",
  });
  const second = pool.decide({
    providerIds: new Set(["p"]),
    modelId: "m",
    clientProtocol: "openai",
    attempted: new Set([first.chosen!]),
  });
  const routing = encodeDecisions(lookup, [
    { attemptNumber: 1, decision: first, selected: first.chosen! },
    { attemptNumber: 2, decision: second, selected: second.chosen! },
  ]);
  const rowId = insertRequest(
    db,
    lookup,
    {
      requestId: "req-1",
      startedAt: clock.now,
      clientProtocol: "openai",
      requestedModel: "m",
      streamed: false,
      bytesIn: 10,
    },
    undefined,
    routing,
  )!;
  const rows = listRoutingDecisions(db, rowId);
  assert.equal(rows.length, 2);
  assert.equal(rows[0].selected_account, first.chosen);
  assert.equal(rows[0].eligible_count, 2);
  assert.equal(rows[0].strategy, "quota_fair");
  const candidates = rows[0].candidates as Array<Record<string, unknown>>;
  assert.deepEqual(Object.keys(candidates[0].components as object).sort(), [
    "health",
    "inflight",
    "mean",
    "p30d",
    "p5h",
    "p7d",
    "peak",
  ]);
  assert.equal(candidates[0].account_id, ids.get(String(candidates[0].account_name)));
  assert.equal(candidates[0].account_name, first.chosen);
  assert.equal(candidates[0].provider_id, "p");
  assert.equal(candidates[0].tier, first.candidates[0].priority);
  assert.equal(candidates[0].score, first.candidates[0].score);
  assert.equal(typeof candidates[0].in_band, "boolean");
  assert.equal(rows[0].selected_score, first.candidates[0].score);
  assert.deepEqual(rows[0].exclusions, [{
    account_id: ids.get("c"),
    account_name: "c",
    reason: "disabled",
  }]);
  const excluded = (rows[1].exclusions as Array<{ account_name: string; reason: string }>)
    .map((e) => [e.account_name, e.reason]);
  assert.deepEqual(excluded, [[first.chosen, "attempted"], ["c", "disabled"]]);
});

Deno.test("routing_json is exactly the documented arrays as JSON.stringify writes them", () => {
  using db = openTestDatabase();
  const clock = fakeClock();
  const ids = syncConfigRows(
    db,
    [{ id: "p", baseUrl: "https://p.example/v1", protocols: ["openai"] }],
    // Only "a" gets a row: "b"'s id is written as null.
    [{ name: "a", providerId: "p", apiKeyEnv: "", enabled: true, weight: 1 }],
    clock.now,
  );
  const lookup = {
    accountId: (n: string | undefined) => (n === undefined ? null : ids.get(n) ?? null),
  };
  const prov = fakeProvider("p");
  const pool = new AccountPool([fakeAccount("a", prov), fakeAccount("b", prov)], { clock });
  const d = pool.decide({ providerIds: new Set(["p"]), modelId: "m", clientProtocol: "openai" });
  // Values JSON cannot hold as numbers, and a provider id that needs escaping.
  d.candidates[0].score = Infinity;
  d.candidates[1].components.p5h = Number.NaN;
  d.candidates[1].components.mean = -0;
  d.requestedProviderId = 'p"\\';
  d.exclusions.push({ account: "a", reason: "rate_limited", untilMs: 1_700_000_000_123 });
  d.exclusions.push({ account: "b", reason: "disabled" });

  const finite = (n: number) => (Number.isFinite(n) ? n : Number.MAX_VALUE);
  const expected = JSON.stringify([[
    1,
    d.decidedAt,
    d.requestedProviderId,
    lookup.accountId(d.candidates[1].name),
    finite(d.candidates[1].score),
    2,
    d.candidates.map((c) => [
      lookup.accountId(c.name),
      c.priority,
      finite(c.score),
      c.inBand ? 1 : 0,
      finite(c.components.p5h),
      finite(c.components.p7d),
      finite(c.components.p30d),
      finite(c.components.peak),
      finite(c.components.mean),
      c.components.inflight,
      c.components.health,
    ]),
    d.exclusions.map((e) => [lookup.accountId(e.account), e.reason, e.untilMs ?? null]),
  ]]);
  const selected = d.candidates[1].name;
  assert.equal(encodeDecisions(lookup, [{ attemptNumber: 1, decision: d, selected }]), expected);
  assert.equal(encodeDecisions(lookup, []), "[]");
});

/**
 * Routing scenarios end to end: a real EggPool in front of mock providers on
 * loopback, with several accounts each. Where traffic went is read from the
 * mocks' own request logs, not from EggPool's stats.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

interface AccountSpec {
  name: string;
  key: string;
  weight?: number;
}

interface ProviderSpec {
  id: string;
  url: string;
  priority?: number;
  accounts: AccountSpec[];
}

/** Per-request routing is under test here; prompt-cache affinity has `affinity_test.ts`. */
const AFFINITY_OFF = 'affinity = "off"';

function providersToml(providers: ProviderSpec[], extra = ""): string {
  const lines = [
    extra.startsWith("[routing]")
      ? extra.replace("[routing]", `[routing]\n${AFFINITY_OFF}`)
      : `[routing]\n${AFFINITY_OFF}\n${extra}`,
  ];
  for (const p of providers) {
    lines.push(`[providers.${p.id}]`, `id = "${p.id}"`, `base_url = "${p.url}"`);
    lines.push(`routing_priority = ${p.priority ?? 0}`);
    for (const a of p.accounts) {
      lines.push(`[[providers.${p.id}.accounts]]`, `name = "${a.name}"`, `api_key = "${a.key}"`);
      if (a.weight !== undefined) lines.push(`weight = ${a.weight}`);
    }
  }
  return lines.join("\n") + "\n";
}

function chat(pool: TestEggPool, model = "mock-small", content = "hello"): Promise<Response> {
  return postChat(pool, { model, messages: [{ role: "user", content }] });
}

async function send(pool: TestEggPool, n: number, model?: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await chat(pool, model);
    await res.body?.cancel();
    statuses.push(res.status);
  }
  return statuses;
}

/** Completions each key received, from the mock's log. */
function served(mock: MockUpstream, ...keys: string[]): number[] {
  return keys.map((k) => mock.requestsFor(k).filter((r) => r.route === "chat_completions").length);
}

async function backoffs(pool: TestEggPool): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${pool.origin}/api/backoffs`, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  });
  return (await res.json()).backoffs;
}

Deno.test("load spreads across healthy accounts in proportion to their capacity", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: providersToml([{
      id: "p",
      url: mock.url,
      accounts: [
        { name: "big", key: "k-big", weight: 3 },
        { name: "small", key: "k-small", weight: 1 },
      ],
    }], `[routing]\nfairness_mode = "off"\nnear_tie_epsilon = 0`),
  });
  assert.deepEqual(new Set(await send(pool, 40)), new Set([200]));
  const [big, small] = served(mock, "k-big", "k-small");
  assert.ok(Math.abs(big - 30) <= 1 && big + small === 40, `big ${big}, small ${small}`);
});

Deno.test("equal accounts share the load evenly through the fairness rotor", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: providersToml([{
      id: "p",
      url: mock.url,
      accounts: ["a", "b", "c"].map((n) => ({ name: n, key: `k-${n}` })),
    }]),
  });
  await send(pool, 30);
  assert.deepEqual(served(mock, "k-a", "k-b", "k-c"), [10, 10, 10]);
});

Deno.test("a 429 account is skipped, its Retry-After respected, and the client gets 200", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: providersToml([{
      id: "p",
      url: mock.url,
      accounts: [{ name: "a", key: "k-a" }, { name: "b", key: "k-b" }],
    }]),
  });
  // The rotor starts with "a" (name order): it answers 429 once.
  mock.script.set("k-a", { status: 429, retryAfter: 2, times: 1 });
  const first = await chat(pool);
  await first.body?.cancel();
  assert.deepEqual(served(mock, "k-a", "k-b"), [1, 1]);
  assert.equal(first.status, 200);
  const [b0] = await backoffs(pool);
  assert.equal(b0.reason, "rate_limited");
  assert.equal(b0.status_code, 429);
  mock.script.clear();
  await send(pool, 4);
  assert.deepEqual(served(mock, "k-a", "k-b"), [1, 5], "no traffic to a while Retry-After runs");
  await new Promise((r) => setTimeout(r, 2_100));
  await send(pool, 4);
  assert.ok(served(mock, "k-a")[0] > 1, "traffic resumes after Retry-After");
});

Deno.test("a 401 account is parked and the backoff survives a restart", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], keys: ["k-good"] });
  const toml = providersToml([{
    id: "p",
    url: mock.url,
    accounts: [{ name: "bad", key: "k-bad" }, { name: "good", key: "k-good" }],
  }]);
  {
    await using pool = await startEggPool({ dir: tmp.path, toml });
    assert.deepEqual(new Set(await send(pool, 6)), new Set([200]));
    assert.equal(served(mock, "k-bad")[0], 1, "tried once, then parked");
    const [b] = await backoffs(pool);
    assert.equal(b.account_name, "bad");
    assert.equal(b.reason, "authentication_failed");
    assert.equal(b.backoff_until, null);
  }
  await using pool = await startEggPool({ dir: tmp.path, toml });
  await send(pool, 4);
  assert.equal(served(mock, "k-bad")[0], 1, "still parked after the restart");
  assert.equal((await backoffs(pool))[0].reason, "authentication_failed");
});

Deno.test("a changed key lifts the auth backoff at startup", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], keys: ["k-good", "k-new"] });
  const toml = (key: string) =>
    providersToml([{
      id: "p",
      url: mock.url,
      accounts: [{ name: "bad", key }, { name: "good", key: "k-good" }],
    }]);
  {
    await using pool = await startEggPool({ dir: tmp.path, toml: toml("k-old") });
    await send(pool, 3);
  }
  await using pool = await startEggPool({ dir: tmp.path, toml: toml("k-new") });
  assert.deepEqual(await backoffs(pool), []);
  await send(pool, 4);
  assert.ok(served(mock, "k-new")[0] > 0);
});

Deno.test("every account limited: a fast 429 with the soonest Retry-After", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: providersToml([{
      id: "p",
      url: mock.url,
      accounts: [{ name: "a", key: "k-a" }, { name: "b", key: "k-b" }],
    }]),
  });
  mock.script.set("*", { status: 429, retryAfter: 30 });
  const first = await chat(pool);
  await first.body?.cancel();
  assert.equal(first.status, 429, "the last upstream 429 passes through");
  const started = performance.now();
  const res = await chat(pool);
  const body = await res.json();
  assert.ok(performance.now() - started < 1_000);
  assert.equal(res.status, 429);
  assert.equal(body.error.type, "rate_limit_exceeded");
  const retryAfter = Number(res.headers.get("retry-after"));
  assert.ok(retryAfter > 25 && retryAfter <= 30, String(retryAfter));
});

Deno.test("priority tiers are honoured and fall through when the top tier is out", async () => {
  await using tmp = await withTmpDir();
  await using top = await startMockUpstream({ models: ["mock-small"] });
  await using low = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: providersToml([
      {
        id: "top",
        url: top.url,
        priority: 5,
        accounts: [{ name: "t1", key: "k-t1" }, { name: "t2", key: "k-t2" }],
      },
      { id: "low", url: low.url, priority: 0, accounts: [{ name: "l1", key: "k-l1" }] },
    ]),
  });
  await send(pool, 6);
  assert.deepEqual(served(top, "k-t1", "k-t2"), [3, 3]);
  assert.deepEqual(served(low, "k-l1"), [0]);
  top.script.set("*", { status: 503 });
  assert.deepEqual(new Set(await send(pool, 3)), new Set([200]));
  assert.equal(served(low, "k-l1")[0], 3);
});

Deno.test("hard_cap excludes an account over its [limits] budget; score_only does not", async () => {
  for (const mode of ["hard_cap", "score_only"]) {
    await using tmp = await withTmpDir();
    await using mock = await startMockUpstream({ models: ["mock-small"] });
    // One request costs far more than the 5 h budget of 10 µ$.
    const extra = [
      `[routing]\nlocal_quota_mode = "${mode}"\nfairness_mode = "off"\nnear_tie_epsilon = 0`,
      `[limits]\nfive_hour_microdollars = 10`,
      `[model_overrides.mock-small]\ninput_price_per_1k = 1\noutput_price_per_1k = 1`,
    ].join("\n");
    await using pool = await startEggPool({
      dir: tmp.path,
      toml: providersToml(
        [{ id: "p", url: mock.url, accounts: [{ name: "only", key: "k" }] }],
        extra,
      ),
    });
    const statuses = await send(pool, 2);
    assert.deepEqual(statuses, mode === "hard_cap" ? [200, 503] : [200, 200], mode);
  }
});

Deno.test("/v1/models lists suffixed or collapsed ids with limits", async () => {
  for (const collapse of [false, true]) {
    await using tmp = await withTmpDir();
    await using one = await startMockUpstream({ models: ["shared", "only-one"] });
    await using two = await startMockUpstream({ models: ["shared"] });
    const extra = [
      `[models]\ncollapse_models = ${collapse}`,
      `[model_overrides.shared]\nmax_context_tokens = 100000`,
    ].join("\n");
    await using pool = await startEggPool({
      dir: tmp.path,
      toml: providersToml([
        { id: "one", url: one.url, accounts: [{ name: "o1", key: "k1" }] },
        { id: "two", url: two.url, accounts: [{ name: "t1", key: "k2" }] },
      ], extra + `\n[providers.two.model_overrides.shared]\nmax_context_tokens = 50000`),
    });
    const res = await fetch(`${pool.origin}/v1/models`, {
      headers: { authorization: `Bearer ${LOCAL_KEY}` },
    });
    const { data } = await res.json();
    const ids = data.map((m: { id: string }) => m.id);
    if (collapse) {
      assert.deepEqual(ids, ["only-one", "shared"]);
      assert.deepEqual(data[1].eggpool.limits, { context: 50_000 });
    } else {
      assert.deepEqual(ids, ["only-one/one", "shared/one", "shared/two"]);
      assert.deepEqual(data[1].eggpool.limits, { context: 100_000 });
      assert.deepEqual(data[2].eggpool.limits, { context: 50_000 });
    }
  }
});

Deno.test("a prompt over the model's context limit is rejected before any upstream call", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: providersToml(
      [{ id: "p", url: mock.url, accounts: [{ name: "a", key: "k" }] }],
      `[model_overrides.mock-small]\nmax_input_tokens = 2000`,
    ),
  });
  const res = await chat(pool, "mock-small", "word ".repeat(5_000));
  const body = await res.json();
  assert.equal(res.status, 400);
  assert.match(body.error.message, /^Context limit exceeded: model 'mock-small', max input 2000/);
  assert.equal(served(mock, "k")[0], 0);
});

/**
 * Prompt-cache affinity end to end (issue #5): simulated agent sessions with
 * growing prompts through a real EggPool to a mock whose per-key prompt cache
 * only hits when the same account sees a repeated prefix. Where each turn
 * went is read from the mock's log; cached shares from EggPool's stats rows.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const KEYS = ["k-1", "k-2", "k-3", "k-4"];

function poolToml(mockUrl: string, routing = ""): string {
  const lines = ["[routing]", routing, "[providers.p]", 'id = "p"', `base_url = "${mockUrl}"`];
  for (const [i, key] of KEYS.entries()) {
    lines.push("[[providers.p.accounts]]", `name = "acct-${i + 1}"`, `api_key = "${key}"`);
  }
  return lines.join("\n") + "\n";
}

interface Message {
  role: string;
  content: string;
}

/** One simulated agent: a distinct, long system prompt and a growing history. */
class Session {
  readonly id: number;
  readonly messages: Message[];

  constructor(id: number) {
    this.id = id;
    const tools = `Tool ${id}: read files, edit files, run commands. `.repeat(52);
    this.messages = [{ role: "system", content: `You are agent ${id}. ${tools}` }];
  }

  async turn(pool: TestEggPool, n: number, headers: Record<string, string> = {}): Promise<number> {
    // Each turn carries a tool result, as agent turns do: the history grows by
    // about a sixth of the system prompt per turn.
    const output = `line ${n}: output of the last command in agent ${this.id}\n`.repeat(7);
    this.messages.push({ role: "user", content: `Step ${n}, tool result:\n${output}` });
    const res = await postChat(pool, { model: "mock-small", messages: this.messages }, headers);
    const body = await res.json();
    const reply = body?.choices?.[0]?.message?.content;
    this.messages.push({ role: "assistant", content: typeof reply === "string" ? reply : "ok" });
    return res.status;
  }
}

/** A small seeded PRNG (mulberry32), so the interleaving is irregular but repeatable. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs rounds `from` to `to - 1` over all sessions, each round concurrent and
 * in a shuffled order: agents do not take turns in a fixed cycle, and a fixed
 * cycle would let plain round-robin land every turn on the same account.
 */
async function runRounds(pool: TestEggPool, sessions: Session[], from: number, to: number) {
  const random = seeded(from * 7919 + sessions.length);
  for (let n = from; n < to; n++) {
    const order = sessions.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const statuses = await Promise.all(order.map((s) => s.turn(pool, n)));
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
  }
}

/** Agent id → the account keys its completions reached, in arrival order (from the mock's log). */
function keysBySession(mock: MockUpstream): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const r of mock.requests) {
    if (r.route !== "chat_completions" || r.status !== 200) continue;
    const first = (r.body as { messages: Message[] }).messages[0].content;
    const id = Number(/agent (\d+)/.exec(first)?.[1]);
    const list = out.get(id) ?? [];
    list.push(r.key ?? "");
    out.set(id, list);
  }
  return out;
}

interface Measured {
  stickiness: number;
  cacheShare: number;
  /** New conversations per account key. */
  placed: Map<string, number>;
}

function measure(pool: TestEggPool, mock: MockUpstream): Measured {
  let later = 0;
  let stayed = 0;
  const placed = new Map<string, number>();
  for (const keys of keysBySession(mock).values()) {
    placed.set(keys[0], (placed.get(keys[0]) ?? 0) + 1);
    for (const k of keys.slice(1)) {
      later++;
      if (k === keys[0]) stayed++;
    }
  }
  const [row] = pool.query(
    `SELECT sum(cache_read_tokens) AS r, sum(input_tokens) AS i, sum(cache_write_tokens) AS w
     FROM requests WHERE status = 'completed'`,
  );
  const r = Number(row.r);
  return {
    stickiness: stayed / later,
    cacheShare: r / (Number(row.i) + r + Number(row.w)),
    placed,
  };
}

async function simulate(routing: string): Promise<Measured> {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], cache: "prefix" });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url, routing) });
  const sessions = Array.from({ length: 20 }, (_, i) => new Session(i));
  await runRounds(pool, sessions, 0, 15);
  assert.equal(mock.requests.filter((r) => r.route === "chat_completions").length, 300);
  return measure(pool, mock);
}

async function getJson(pool: TestEggPool, path: string, auth = true) {
  const res = await fetch(`${pool.origin}${path}`, {
    headers: auth ? { authorization: `Bearer ${LOCAL_KEY}` } : {},
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("affinity keeps agent sessions on their account and their prompt cache warm", async () => {
  const on = await simulate("");
  const off = await simulate('affinity = "off"');
  console.log(
    `affinity on: stickiness ${(on.stickiness * 100).toFixed(1)}%, cache share ${
      (on.cacheShare * 100).toFixed(1)
    }%; off: stickiness ${(off.stickiness * 100).toFixed(1)}%, cache share ${
      (off.cacheShare * 100).toFixed(1)
    }%`,
  );
  assert.ok(on.stickiness >= 0.95, `stickiness on ${on.stickiness}`);
  assert.ok(on.cacheShare >= 0.8, `cache share on ${on.cacheShare}`);
  assert.ok(off.stickiness < 0.6, `stickiness off ${off.stickiness}`);
  // The mock's cache never expires, so a rotating conversation still finds its
  // system prompt on every account it visited before; what it loses is the
  // history since its last visit there. Uncached input at least doubles.
  assert.ok(off.cacheShare < on.cacheShare - 0.15, `cache share off ${off.cacheShare}`);
  assert.ok(1 - off.cacheShare >= 2 * (1 - on.cacheShare), `cache share off ${off.cacheShare}`);
  // New conversations stay within 25% of an even share (5 each → 4 to 6).
  assert.equal(on.placed.size, 4);
  for (const [key, n] of on.placed) assert.ok(n >= 4 && n <= 6, `${key} got ${n} conversations`);
});

Deno.test("a rate-limited account moves only its own conversations, each exactly once", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], cache: "prefix" });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const sessions = Array.from({ length: 8 }, (_, i) => new Session(i));
  await runRounds(pool, sessions, 0, 3);
  const before = keysBySession(mock);
  const home = new Map([...before].map(([id, keys]) => [id, keys[0]]));
  for (const keys of before.values()) assert.equal(new Set(keys).size, 1);
  mock.script.set("k-1", { status: 429, retryAfter: 60 });
  await runRounds(pool, sessions, 3, 6);
  let victims = 0;
  for (const [id, keys] of keysBySession(mock)) {
    const after = keys.slice(3);
    if (home.get(id) === "k-1") {
      victims++;
      // One new home, never k-1 again: exactly one move.
      assert.equal(new Set(after).size, 1, `agent ${id}: ${after}`);
      assert.notEqual(after[0], "k-1");
    } else {
      assert.deepEqual(new Set(after), new Set([home.get(id)]), `agent ${id} moved`);
    }
  }
  assert.ok(victims >= 1);
  const status = await getJson(pool, "/api/accounts/status");
  const a1 = status.body.accounts.find((a: { name: string }) => a.name === "acct-1");
  assert.deepEqual(a1.affinity.moves, { rate_limited: victims });
  assert.equal(a1.affinity.live_pins, 0);
  const others = status.body.accounts.filter((a: { name: string }) => a.name !== "acct-1");
  for (const a of others) {
    assert.deepEqual(a.affinity.moves, {});
    assert.ok(a.affinity.cache_share > 0.5, `${a.name} cache share ${a.affinity.cache_share}`);
  }
  const cache = await getJson(pool, "/api/stats/cache?hours=1");
  assert.deepEqual(cache.body.accounts["acct-1"].moves, { rate_limited: victims });
  const model = cache.body.models["mock-small"];
  assert.deepEqual(model.moves, { rate_limited: victims });
  assert.equal(model.requests, sessions.length * 6);
  const inputs = pool.query(
    "SELECT sum(input_tokens + cache_read_tokens + cache_write_tokens) AS input, " +
      "sum(cache_read_tokens) AS cached FROM requests",
  )[0];
  assert.equal(model.input_tokens, inputs.input);
  assert.equal(
    model.cache_share,
    Math.round(Number(inputs.cached) / Number(inputs.input) * 1e4) / 1e4,
  );
  const bad = await getJson(pool, "/api/stats/cache?hours=-1");
  assert.equal(bad.status, 400);
});

Deno.test("pins survive a restart and continue their turn count", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], cache: "prefix" });
  const sessions = Array.from({ length: 6 }, (_, i) => new Session(i));
  {
    await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
    await runRounds(pool, sessions, 0, 2);
  }
  const before = keysBySession(mock);
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const listed = await getJson(pool, "/api/sessions");
  assert.equal(listed.status, 200);
  assert.equal(listed.body.sessions.length, 6);
  for (const s of listed.body.sessions) assert.equal(s.turns, 2);
  // Reverse order, so fresh placement would not reproduce the same spread by luck.
  await runRounds(pool, sessions.toReversed(), 2, 3);
  for (const [id, keys] of keysBySession(mock)) {
    assert.deepEqual(keys, [...before.get(id)!, before.get(id)![0]], `agent ${id}`);
  }
  const after = await getJson(pool, "/api/sessions");
  for (const s of after.body.sessions) assert.equal(s.turns, 3);
});

Deno.test("expired pins are forgotten and /api/sessions is key-gated", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], cache: "prefix" });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: poolToml(mock.url, "affinity_idle_s = 0.3"),
  });
  const session = new Session(1);
  await session.turn(pool, 0);
  assert.equal((await getJson(pool, "/api/sessions", false)).status, 401);
  assert.equal((await getJson(pool, "/api/sessions")).body.sessions.length, 1);
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual((await getJson(pool, "/api/sessions")).body.sessions, []);
  await session.turn(pool, 1);
  const listed = (await getJson(pool, "/api/sessions")).body.sessions;
  assert.equal(listed.length, 1);
  assert.equal(listed[0].turns, 1);
});

Deno.test("x-eggpool-session keys the conversation and never reaches the upstream", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], cache: "prefix" });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  // Different agents' content under one explicit key: one conversation, one account.
  for (let i = 0; i < 6; i++) {
    assert.equal(await new Session(i).turn(pool, 0, { "x-eggpool-session": "conv-42" }), 200);
  }
  const completions = mock.requests.filter((r) => r.route === "chat_completions");
  assert.equal(completions.length, 6);
  assert.equal(new Set(completions.map((r) => r.key)).size, 1);
  for (const r of completions) {
    assert.deepEqual(Object.keys(r.headers).filter((h) => h.startsWith("x-eggpool")), []);
  }
  const sessions = (await getJson(pool, "/api/sessions")).body.sessions;
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].turns, 6);
  assert.doesNotMatch(JSON.stringify(sessions), /conv-42/);
  const rows = pool.query("SELECT DISTINCT session_key_hash AS h FROM requests");
  assert.deepEqual(rows.map((r) => r.h), [sessions[0].session_key_hash]);
});

Deno.test("an overloaded pinned account gets one more try before the conversation moves", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], cache: "prefix" });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const session = new Session(1);
  assert.equal(await session.turn(pool, 0), 200);
  const home = mock.requests[mock.requests.length - 1].key!;
  // One overload: the retry on the same account succeeds, the pin stays.
  mock.script.set(home, { status: 529, times: 1 });
  assert.equal(await session.turn(pool, 1), 200);
  assert.deepEqual(keysBySession(mock).get(1), [home, home]);
  // Overloaded twice in a row: the conversation moves, once, with that reason.
  mock.script.set(home, { status: 529, times: 2 });
  assert.equal(await session.turn(pool, 2), 200);
  const keys = keysBySession(mock).get(1)!;
  assert.notEqual(keys[2], home);
  const sessions = (await getJson(pool, "/api/sessions")).body;
  assert.deepEqual(sessions.moves, { overloaded: 1 });
  assert.equal(sessions.sessions[0].turns, 3);
});

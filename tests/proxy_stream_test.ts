/** Streams that are cut, stall, open with an error, or lose their client. */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

function streamRequest(pool: TestEggPool, protocol: "openai" | "anthropic", signal?: AbortSignal) {
  const openai = protocol === "openai";
  return fetch(pool.origin + (openai ? "/v1/chat/completions" : "/v1/messages"), {
    method: "POST",
    signal,
    headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: openai ? "mock-small/mockoai" : "mock-small/mockant",
      max_tokens: 200,
      stream: true,
      messages: [{ role: "user", content: "tell me a reasonably long story about pools" }],
    }),
  });
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function calls<T extends { route: string }>(mock: { requests: T[] }): T[] {
  return mock.requests.filter((r) => r.route !== "models");
}

for (const protocol of ["openai", "anthropic"] as const) {
  Deno.test(`${protocol}: an upstream that drops mid-stream ends the client stream with an error event`, async () => {
    await using tmp = await withTmpDir();
    await using mock = await startMockUpstream({ models: ["mock-small"], streamPieceChars: 3 });
    await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
    mock.script.set("*", { dropAfterFrames: 8 });
    const res = await streamRequest(pool, protocol);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.doesNotMatch(text, /\[DONE\]|message_stop/, "no clean end the upstream did not send");
    if (protocol === "anthropic") assert.match(text, /event: error\ndata: \{"type":"error"/);
    else assert.match(text, /data: \{"error":\{/);
    const [row] = pool.query("SELECT status, error_class FROM requests");
    assert.equal(row.status, "error");
    assert.equal(row.error_class, "stream_truncated");
  });

  Deno.test(`${protocol}: a stream that stalls past the idle timeout is cut with an error event`, async () => {
    await using tmp = await withTmpDir();
    await using mock = await startMockUpstream({ models: ["mock-small"], streamPieceChars: 3 });
    await using pool = await startEggPool({
      dir: tmp.path,
      upstream: "stream_idle_timeout_s = 0.3",
      toml: mockProvidersToml(mock.url),
    });
    mock.script.set("*", { stallAfterFrames: 4 });
    const res = await streamRequest(pool, protocol);
    const text = await res.text();
    assert.match(text, /sent nothing for/);
    assert.doesNotMatch(text, /\[DONE\]|message_stop/);
    const [row] = pool.query("SELECT status, error_class FROM requests");
    assert.equal(row.status, "error");
    assert.equal(row.error_class, "stream_idle_timeout");
    await waitFor(() => calls(mock)[0].aborted, "the upstream to see the abort");
  });

  Deno.test(`${protocol}: a client that disconnects mid-stream aborts the upstream and still gets a row`, async () => {
    await using tmp = await withTmpDir();
    await using mock = await startMockUpstream({ models: ["mock-small"], streamPieceChars: 3 });
    await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
    mock.script.set("*", { stallAfterFrames: 5 });
    const client = new AbortController();
    const res = await streamRequest(pool, protocol, client.signal);
    const reader = res.body!.getReader();
    await reader.read();
    client.abort();
    await reader.cancel().catch(() => {});
    await waitFor(() => calls(mock)[0]?.aborted === true, "the upstream fetch to be aborted");
    await waitFor(
      () => pool.query("SELECT 1 FROM requests WHERE status != 'pending'").length === 1,
      "the row",
    );
    const [row] = pool.query("SELECT status, status_code, error_class FROM requests");
    assert.deepEqual({ ...row }, {
      status: "cancelled",
      status_code: 499,
      error_class: "client_disconnected",
    });
  });

  Deno.test(`${protocol}: an error event before any content fails over to the next account`, async () => {
    await using tmp = await withTmpDir();
    await using mock = await startMockUpstream({ models: ["mock-small"] });
    // Plain failover: with affinity on, a pinned account would get one more try first.
    await using pool = await startEggPool({
      dir: tmp.path,
      toml: '[routing]\naffinity = "off"\n' + mockProvidersToml(mock.url, 2),
    });
    const id = protocol === "openai" ? "mockoai" : "mockant";
    // Account 1 always opens its stream with an error; account 2 is healthy.
    mock.script.set(`sk-${id}-key-1`, { errorEventFirst: "overloaded_error" });
    for (let i = 0; i < 2; i++) {
      const res = await streamRequest(pool, protocol);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, protocol === "openai" ? /\[DONE\]/ : /message_stop/);
      assert.doesNotMatch(text, /overloaded_error/, "the failed attempt never reached the client");
    }
    const rows = pool.query("SELECT status, attempt_count FROM requests");
    assert.deepEqual(rows.map((r) => r.status), ["completed", "completed"]);
    assert.ok(rows.some((r) => r.attempt_count === 2), "one request failed over");
    const failed = pool.query(
      "SELECT error_class FROM request_attempts WHERE error_class IS NOT NULL",
    );
    assert.deepEqual(failed.map((r) => r.error_class), ["stream_overloaded"]);
  });
}

Deno.test("a stream cut after its first content byte is never retried on another account", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], streamPieceChars: 3 });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 3) });
  mock.script.set("*", { dropAfterFrames: 8 });
  const res = await streamRequest(pool, "openai");
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /"content":/, "content reached the client before the cut");
  assert.match(text, /data: \{"error":\{/);
  assert.equal(calls(mock).length, 1, "exactly one upstream attempt");
  const [row] = pool.query("SELECT status, attempt_count FROM requests");
  assert.deepEqual({ ...row }, { status: "error", attempt_count: 1 });
});

Deno.test("a 429 on one account is retried on another and the client gets 200", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 2) });
  mock.script.set("sk-mockoai-key-1", { status: 429, retryAfter: 30 });
  mock.script.set("sk-mockoai-key-2", { status: 429, retryAfter: 30, times: 0 });
  for (let i = 0; i < 4; i++) {
    const res = await postChat(pool, {
      model: "mock-small/mockoai",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(res.status, 200, `request ${i}`);
    await res.body?.cancel();
  }
  const hits = calls(mock).map((r) => r.key);
  assert.equal(hits.filter((k) => k === "sk-mockoai-key-1").length, 1, "the limited account rests");
  assert.equal(hits.filter((k) => k === "sk-mockoai-key-2").length, 4);
  // One decision per attempt, each [attempt, decided_at, provider, selected, score,
  // eligible, candidates, exclusions]; exclusions are [account_id, reason, until].
  const decisions = pool.query(
    "SELECT attempt_count, routing_json FROM requests ORDER BY started_at, id",
  )
    .flatMap((r) => {
      const attempts = JSON.parse(String(r.routing_json)) as unknown[][];
      assert.equal(attempts.length, r.attempt_count, "one routing decision per attempt");
      return attempts;
    });
  assert.equal(decisions.length, 5);
  const limitedId = pool.query("SELECT id FROM accounts WHERE name = 'mockoai-1'")[0].id;
  const later = decisions.slice(2).map((d) => d[7] as unknown[][]);
  for (const exclusions of later) {
    assert.ok(
      exclusions.some((e: unknown[]) => e[0] === limitedId && e[1] === "rate_limited"),
      "the rate-limited account is recorded as excluded",
    );
  }
});

Deno.test("200 concurrent streams all complete and are all recorded", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], record: false });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 3) });
  const results = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const res = await streamRequest(pool, i % 2 === 0 ? "openai" : "anthropic");
      const text = await res.text();
      return res.status === 200 && /\[DONE\]|message_stop/.test(text);
    }),
  );
  assert.equal(results.filter(Boolean).length, 200);
  const rows = pool.query("SELECT status, count(*) AS n FROM requests GROUP BY status");
  assert.deepEqual(rows.map((r) => ({ ...r })), [{ status: "completed", n: 200 }]);
});

/**
 * A provider's connection settings on the data plane (issue #12): at most
 * `max_connections` upstream calls open at once, later ones waiting up to
 * `pool_timeout_s` and then failing with a clear 503; the timeouts Deno's
 * fetch cannot honour are refused by check-config instead of ignored.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { postChat, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { isolatedEnv, runEggpool } from "./_helpers/cli.ts";

function providerToml(url: string, extra: string, accounts = 2): string {
  const lines = [
    "[providers.slow]",
    'id = "slow"',
    `base_url = "${url}"`,
    'protocols = ["openai"]',
    extra,
  ];
  for (let i = 1; i <= accounts; i++) {
    lines.push("[[providers.slow.accounts]]", `name = "slow-${i}"`, `api_key = "sk-slow-${i}"`);
  }
  return lines.join("\n") + "\n";
}

Deno.test("max_connections = 2: six concurrent slow requests never open more than two upstream calls", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: providerToml(mock.url, "max_connections = 2\nmax_keepalive = 1\npool_timeout_s = 60"),
  });
  mock.reset();
  mock.script.set("*", { delayMs: 300 });
  const replies = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      postChat(pool, {
        model: "mock-small",
        messages: [{ role: "user", content: `request ${i}` }],
        stream: i % 2 === 0,
      })),
  );
  for (const res of replies) {
    assert.equal(res.status, 200);
    await res.text();
  }
  assert.equal(mock.requests.filter((r) => r.route === "chat_completions").length, 6);
  assert.equal(mock.peakActive, 2, "two calls at once, never more");
  const rows = pool.query(`SELECT status FROM requests`);
  assert.equal(rows.length, 6);
  for (const row of rows) assert.equal(row.status, "completed");
});

Deno.test("a request that waits longer than pool_timeout_s for a connection gets a 503 naming the setting", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: providerToml(mock.url, "max_connections = 1\nmax_keepalive = 1\npool_timeout_s = 0.2"),
  });
  mock.reset();
  mock.script.set("*", { delayMs: 4_000, times: 1 });
  const slow = postChat(pool, { model: "mock-small", messages: [{ role: "user", content: "a" }] });
  // Wait until the slow call holds the only connection.
  while (mock.active === 0) await new Promise((r) => setTimeout(r, 10));
  const res = await postChat(pool, {
    model: "mock-small",
    messages: [{ role: "user", content: "b" }],
  });
  assert.equal(res.status, 503);
  const body = await res.json();
  assert.match(body.error.message, /connections to provider 'slow' stayed busy/);
  assert.match(body.error.message, /max_connections or pool_timeout_s/);
  assert.equal((await slow).status, 200);
  assert.equal(mock.peakActive, 1);
  const rows = pool.query(
    `SELECT status, status_code, error_class FROM requests WHERE status != 'completed'`,
  );
  assert.deepEqual({ ...rows[0] }, {
    status: "error",
    status_code: 503,
    error_class: "upstream_pool_timeout",
  });
  // Waiting for a connection is nobody's fault: no account rests.
  assert.equal(pool.query(`SELECT * FROM account_backoffs`).length, 0);
});

Deno.test("check-config rejects connect_timeout_s and write_timeout_s and accepts the pool keys", async () => {
  await using tmp = await withTmpDir();
  const env = isolatedEnv(tmp.path);
  const check = async (toml: string) => {
    const path = `${tmp.path}/config.toml`;
    await Deno.writeTextFile(path, toml);
    return await runEggpool(["--config", path, "check-config"], { cwd: tmp.path, env });
  };
  const provider = (extra: string) =>
    [
      "[providers.p]",
      'id = "p"',
      'base_url = "https://llm.example.com/v1"',
      extra,
      "[[providers.p.accounts]]",
      'name = "a"',
      'api_key = "sk-real-looking-key-123"',
    ].join("\n") + "\n";
  for (
    const [toml, path] of [
      [provider("connect_timeout_s = 5"), "providers.p.connect_timeout_s"],
      [provider("write_timeout_s = 30"), "providers.p.write_timeout_s"],
      ["[upstream]\nconnect_timeout_s = 5\n" + provider(""), "upstream.connect_timeout_s"],
    ]
  ) {
    const out = await check(toml);
    assert.notEqual(out.code, 0, out.stdout);
    const text = out.stdout + out.stderr;
    assert.ok(text.includes(path), text);
    assert.match(text, /not supported: Deno's fetch has no separate (connect|write) deadline/);
    assert.match(text, /remove this key/);
  }
  const ok = await check(
    provider(
      "max_connections = 4\nmax_keepalive = 2\npool_timeout_s = 5\nkeepalive_timeout_s = 10",
    ),
  );
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
});

Deno.test("keepalive_timeout_s = 0 opens a new connection per call; the default reuses one", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  const toml = providerToml(mock.url, "keepalive_timeout_s = 0", 1) +
    providerToml(mock.url, "", 1).replaceAll("slow", "warm");
  await using pool = await startEggPool({ dir: tmp.path, toml });
  const portsOf = async (model: string) => {
    mock.reset();
    for (let i = 0; i < 3; i++) {
      const res = await postChat(pool, { model, messages: [{ role: "user", content: `${i}` }] });
      assert.equal(res.status, 200);
      await res.text();
    }
    return new Set(mock.requests.map((r) => r.remotePort));
  };
  assert.equal((await portsOf("mock-small/slow")).size, 3, "no idle connection kept");
  assert.equal((await portsOf("mock-small/warm")).size, 1, "one connection reused");
});

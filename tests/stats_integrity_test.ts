/**
 * The stats store's integrity under hostile or broken conditions (issue #12
 * items 1, 3, 6, 11, 17): implausible upstream usage, another process locking
 * the database, the database file deleted under a running server, and 5 MB
 * client strings. Each runs a real EggPool on a real SQLite file.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { LOCAL_KEY, postChat, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

/** A one-model OpenAI-compatible upstream whose answers carry `usage` as given. */
function startUsageUpstream(usage: () => unknown) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path.endsWith("/models")) {
      return Response.json({ object: "list", data: [{ id: "m1", object: "model" }] });
    }
    await req.body?.cancel();
    return Response.json({
      id: "chatcmpl-1",
      object: "chat.completion",
      model: "m1",
      choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
      usage: usage(),
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function providerToml(url: string): string {
  return [
    "[providers.up]",
    'id = "up"',
    `base_url = "${url}"`,
    'protocols = ["openai"]',
    "[[providers.up.accounts]]",
    'name = "up-1"',
    'api_key = "sk-up-key-1"',
  ].join("\n") + "\n";
}

const HUGE = 2 ** 53 - 1;

Deno.test("implausible upstream usage stays out of the sums, the server restarts and the dashboard answers", async () => {
  await using tmp = await withTmpDir();
  await using upstream = startUsageUpstream(() => ({
    prompt_tokens: HUGE,
    completion_tokens: -3,
    prompt_tokens_details: { cached_tokens: HUGE },
    completion_tokens_details: { reasoning_tokens: "lots" },
  }));
  const toml = providerToml(upstream.url);
  {
    await using pool = await startEggPool({ dir: tmp.path, toml });
    for (let i = 0; i < 3; i++) {
      const res = await postChat(pool, { model: "m1", messages: [{ role: "user", content: "x" }] });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    const rows = pool.query(
      `SELECT input_tokens, output_tokens, cache_read_tokens, reasoning_tokens FROM requests`,
    );
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.deepEqual(Object.values(r).map(Number), [0, 0, 0, 0]);
    }
    const events = pool.query(
      "SELECT details_json FROM operational_events WHERE event_type = 'implausible_usage'",
    );
    assert.equal(events.length, 3);
    const detail = String(JSON.parse(String(events[0].details_json)).detail);
    assert.match(detail, /implausible value/);
    assert.match(detail, /cached_tokens=9007199254740991/, "the raw value is kept as text");
    assert.match(detail, /completion_tokens=-3/);
  }
  // Before the fix, two such responses made the next start fail with a RangeError.
  await using again = await startEggPool({ dir: tmp.path, toml });
  for (const path of ["/", "/accounts"]) {
    const page = await fetch(`${again.origin}${path}`, {
      headers: { authorization: `Bearer ${LOCAL_KEY}` },
    });
    assert.equal(page.status, 200, `dashboard ${path}`);
    await page.body?.cancel();
  }
});

Deno.test("a 5 MB model id is stored and answered cut to a bound", async () => {
  await using tmp = await withTmpDir();
  await using upstream = startUsageUpstream(() => ({ prompt_tokens: 1, completion_tokens: 1 }));
  await using pool = await startEggPool({ dir: tmp.path, toml: providerToml(upstream.url) });
  const model = "x".repeat(5 * 1024 * 1024);
  const res = await postChat(pool, { model, messages: [{ role: "user", content: "x" }] });
  const body = await res.text();
  assert.equal(res.status, 404);
  assert.ok(body.length < 4_096, `the 404 does not echo the model id (${body.length} bytes)`);
  const [row] = pool.query("SELECT requested_model, length(requested_model) AS n FROM requests");
  assert.ok(Number(row.n) < 1_000, `stored model id is bounded (${row.n} chars)`);
  assert.match(String(row.requested_model), /…\[cut \d+ chars\]$/);
  const size = (await Deno.stat(pool.dbPath)).size +
    ((await Deno.stat(`${pool.dbPath}-wal`).catch(() => undefined))?.size ?? 0);
  assert.ok(size < 5 * 1024 * 1024, `database and WAL stay small (${size} bytes)`);
});

Deno.test("requests flow while another process holds the database lock; rows land after release", async () => {
  await using tmp = await withTmpDir();
  await using upstream = startUsageUpstream(() => ({ prompt_tokens: 5, completion_tokens: 2 }));
  await using pool = await startEggPool({ dir: tmp.path, toml: providerToml(upstream.url) });
  const locker = new DatabaseSync(pool.dbPath);
  locker.exec("PRAGMA busy_timeout = 10000");
  locker.exec("BEGIN EXCLUSIVE");
  // With the old 5 s busy wait on the event loop each request took seconds;
  // six of them outlast this bound, which the fixed server meets with room.
  const LOCK_HELD_MAX_MS = 20_000;
  const lockedAt = performance.now();
  let ready: Record<string, unknown> | undefined;
  try {
    for (let i = 0; i < 6; i++) {
      const res = await postChat(pool, { model: "m1", messages: [{ role: "user", content: "x" }] });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    const readyz = await fetch(`${pool.origin}/v1/readyz`);
    ready = await readyz.json();
    assert.ok(
      performance.now() - lockedAt < LOCK_HELD_MAX_MS,
      "every request completed while the lock was still held",
    );
  } finally {
    locker.exec("ROLLBACK");
    locker.close();
  }
  assert.match(JSON.stringify(ready), /stats writes failing/, "readyz reports the failing writes");
  // The retry timer lands the buffered rows without any new traffic.
  const deadline = Date.now() + 30_000;
  let n = 0;
  while (Date.now() < deadline) {
    const ro = new DatabaseSync(pool.dbPath, { readOnly: true });
    n = Number(
      ro.prepare("SELECT count(*) AS n FROM requests WHERE status = 'completed'").get()!.n,
    );
    ro.close();
    if (n === 6) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(n, 6, "all rows landed after the lock was released");
  const after = await (await fetch(`${pool.origin}/v1/readyz`)).json();
  assert.doesNotMatch(JSON.stringify(after), /stats writes failing/);
  const recovered = pool.query(
    "SELECT count(*) AS n FROM operational_events WHERE event_type = 'stats_write_recovered'",
  );
  assert.equal(Number(recovered[0].n), 1);
});

Deno.test("a database file deleted under a running server is noticed, reported and replaced", async () => {
  await using tmp = await withTmpDir();
  await using upstream = startUsageUpstream(() => ({ prompt_tokens: 5, completion_tokens: 2 }));
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: "[maintenance]\ndb_file_check_interval_s = 0.2\n" + providerToml(upstream.url),
  });
  const send = async () => {
    const res = await postChat(pool, { model: "m1", messages: [{ role: "user", content: "x" }] });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  };
  await send();
  pool.app.recorder.flush();
  for (const suffix of ["", "-wal", "-shm"]) {
    await Deno.remove(`${pool.dbPath}${suffix}`).catch(() => {});
  }
  const deadline = Date.now() + 30_000;
  let ready: { status?: string; reason?: string } = {};
  while (Date.now() < deadline) {
    ready = await (await fetch(`${pool.origin}/v1/readyz`)).json();
    if (JSON.stringify(ready).includes("deleted or replaced")) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(JSON.stringify(ready), /deleted or replaced/, "readyz reports it");
  const runtime = await (await fetch(`${pool.origin}/api/stats/runtime`, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  })).json();
  assert.equal(runtime.status, "degraded");
  assert.ok(runtime.problems.some((p: string) => p.includes("deleted or replaced")));
  await send();
  const events = pool.query(
    "SELECT count(*) AS n FROM operational_events WHERE event_type = 'database_file_replaced'",
  );
  assert.equal(Number(events[0].n), 1, "the fresh file records what happened");
  const rows = pool.query("SELECT count(*) AS n FROM requests WHERE status = 'completed'");
  assert.equal(Number(rows[0].n), 1, "requests after the deletion land in the fresh file");
});

Deno.test("a server started while another process holds the database lock waits for it instead of failing", async () => {
  await using tmp = await withTmpDir();
  await using upstream = startUsageUpstream(() => ({ prompt_tokens: 5, completion_tokens: 2 }));
  const toml = providerToml(upstream.url);
  // A first run creates and migrates the file.
  await (await startEggPool({ dir: tmp.path, toml })).stop();
  const locker = new DatabaseSync(`${tmp.path}/usage.sqlite3`);
  locker.exec("BEGIN EXCLUSIVE");
  // Released by a timer, so the server's start meets the lock and then sees it go.
  const release = setTimeout(() => {
    locker.exec("ROLLBACK");
    locker.close();
  }, 1_500);
  try {
    // busy_timeout_ms far below the lock's life: the old start failed with "database is locked".
    await using pool = await startEggPool({
      dir: tmp.path,
      toml,
      database: "busy_timeout_ms = 100",
    });
    assert.ok(
      pool.logs.some((l) => /is locked by another process; waiting/.test(l)),
      pool.logs.join("\n"),
    );
    const res = await postChat(pool, { model: "m1", messages: [{ role: "user", content: "x" }] });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.equal(pool.query("SELECT count(*) AS n FROM requests")[0].n, 1);
  } finally {
    clearTimeout(release);
    try {
      locker.close();
    } catch { /* released already */ }
  }
});

Deno.test("pins and backoffs changed while another process holds the lock are written once it is released", async () => {
  await using tmp = await withTmpDir();
  // up-1's key is rate-limited for ten minutes; up-2 answers.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (new URL(req.url).pathname.endsWith("/models")) {
      return Response.json({ object: "list", data: [{ id: "m1", object: "model" }] });
    }
    await req.body?.cancel();
    if (req.headers.get("authorization") === "Bearer sk-up-key-1") {
      return Response.json({ error: { message: "slow down" } }, {
        status: 429,
        headers: { "retry-after": "600" },
      });
    }
    return Response.json({
      id: "chatcmpl-1",
      object: "chat.completion",
      model: "m1",
      choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 1 },
    });
  });
  await using _upstream = { [Symbol.asyncDispose]: () => server.shutdown() };
  const toml = providerToml(`http://127.0.0.1:${server.addr.port}/v1`) +
    '[[providers.up.accounts]]\nname = "up-2"\napi_key = "sk-up-key-2"\n';
  await using pool = await startEggPool({ dir: tmp.path, toml });
  const count = (sql: string) => {
    const ro = new DatabaseSync(pool.dbPath, { readOnly: true });
    try {
      return Number(ro.prepare(sql).get()!.n);
    } finally {
      ro.close();
    }
  };
  const locker = new DatabaseSync(pool.dbPath);
  locker.exec("PRAGMA busy_timeout = 10000");
  locker.exec("BEGIN EXCLUSIVE");
  try {
    for (let i = 0; i < 4; i++) {
      const res = await postChat(
        pool,
        { model: "m1", messages: [{ role: "user", content: `conversation ${i}` }] },
        { "x-session-id": `conversation-${i}` },
      );
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    // Two flush periods pass with the lock held: the writes fail and are kept.
    await new Promise((r) => setTimeout(r, 4_500));
  } finally {
    locker.exec("ROLLBACK");
    locker.close();
  }
  const deadline = Date.now() + 20_000;
  let pins = 0;
  let backoffs = 0;
  while (Date.now() < deadline) {
    pins = count("SELECT count(*) AS n FROM session_pins");
    backoffs = count(
      "SELECT count(*) AS n FROM account_backoffs b JOIN accounts a ON a.id = b.account_id " +
        "WHERE a.name = 'up-1' AND b.reason = 'rate_limited'",
    );
    if (pins === 4 && backoffs === 1) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(pins, 4, "every conversation's pin reached session_pins after the lock");
  assert.equal(backoffs, 1, "up-1's rate limit reached account_backoffs after the lock");
});

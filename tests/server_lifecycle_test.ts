/** The real `eggpool serve` process: crash recovery after kill -9, and a graceful SIGTERM drain. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml } from "./_helpers/eggpool.ts";
import { denoChildEnv, isolatedEnv } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort } from "./_helpers/ops.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../deno.json", import.meta.url).pathname;

async function writeConfig(
  dir: string,
  port: number,
  mockUrl: string,
  extra = "",
): Promise<string> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(
    path,
    [
      "[server]",
      'host = "127.0.0.1"',
      `port = ${port}`,
      `api_key = "${LOCAL_KEY}"`,
      "[database]",
      `path = "${dir}/usage.sqlite3"`,
      "[metrics]",
      'write_mode = "immediate"',
      extra,
      mockProvidersToml(mockUrl, 2),
    ].join("\n"),
  );
  return path;
}

interface Served {
  child: Deno.ChildProcess;
  origin: string;
  output: Promise<string>;
}

async function serve(dir: string, config: string, port: number): Promise<Served> {
  const child = new Deno.Command(Deno.execPath(), {
    // --as-root: CI runs as root, and serve refuses root without it (spec 07 §2).
    args: [
      "run",
      "--allow-all",
      `--config=${DENO_JSON}`,
      MAIN,
      "--config",
      config,
      "serve",
      "--as-root",
    ],
    cwd: dir,
    env: {
      ...isolatedEnv(dir),
      EGGPOOL_PID_FILE: `${dir}/eggpool.pid`,
      ...denoChildEnv(),
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const dec = new TextDecoder();
  const output = Promise.all([
    new Response(child.stdout).arrayBuffer(),
    new Response(child.stderr).arrayBuffer(),
  ]).then(([o, e]) => dec.decode(o) + dec.decode(e));
  const origin = `http://127.0.0.1:${port}`;
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${origin}/v1/healthz`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > until) {
      child.kill("SIGKILL");
      throw new Error(`eggpool serve did not come up:\n${await output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, origin, output };
}

function startStream(origin: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${origin}/v1/chat/completions`, {
    method: "POST",
    signal,
    headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "mock-small/mockoai",
      stream: true,
      messages: [{ role: "user", content: "a long answer please, with many words in it" }],
    }),
  });
}

function readDb(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("kill -9 during streams, then restart: no pending rows left and the database is intact", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], streamPieceChars: 2 });
  mock.script.set("*", { stallAfterFrames: 3 });
  const port = freePort();
  const config = await writeConfig(tmp.path, port, mock.url);
  const dbPath = `${tmp.path}/usage.sqlite3`;
  const first = await serve(tmp.path, config, port);
  const client = new AbortController();
  // A stream whose head has not arrived when the server dies rejects at the kill;
  // handle that now, not only after the kill, or it surfaces as an uncaught rejection.
  const streams = Array.from(
    { length: 5 },
    () => startStream(first.origin, client.signal).catch(() => undefined),
  );
  await waitFor(
    () => mock.requests.filter((r) => r.route === "chat_completions").length === 5,
    "5 streams upstream",
  );
  await waitFor(
    () => readDb(dbPath, "SELECT 1 FROM requests WHERE status = 'pending'").length === 5,
    "5 pending rows on disk",
  );
  first.child.kill("SIGKILL");
  assert.equal((await first.child.status).signal, "SIGKILL");
  client.abort();
  await Promise.allSettled(streams.map((s) => s.then((r) => r?.body?.cancel())));
  await first.output;

  mock.script.clear();
  const second = await serve(tmp.path, config, port);
  try {
    const rows = readDb(dbPath, "SELECT status, error_class FROM requests");
    assert.equal(rows.length, 5);
    assert.ok(
      rows.every((r) => r.status === "interrupted" && r.error_class === "process_interrupted"),
    );
    assert.equal(readDb(dbPath, "PRAGMA integrity_check")[0].integrity_check, "ok");
    const events = readDb(
      dbPath,
      "SELECT details_json FROM operational_events WHERE event_type = 'crash_recovery'",
    );
    assert.deepEqual(JSON.parse(String(events[0].details_json)), { interrupted: 5 });
    const res = await startStream(second.origin);
    assert.match(await res.text(), /\[DONE\]/, "the restarted server proxies again");
  } finally {
    second.child.kill("SIGTERM");
    await second.child.status;
    await second.output;
  }
});

Deno.test("SIGTERM lets an in-flight stream finish, records it and exits 0", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({
    models: ["mock-small"],
    streamPieceChars: 2,
    latency: { perFrameMs: 40 },
  });
  const port = freePort();
  const config = await writeConfig(
    tmp.path,
    port,
    mock.url,
    '[routing]\nlocal_quota_mode = "hard_cap"',
  );
  const served = await serve(tmp.path, config, port);
  const res = await startStream(served.origin);
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.equal(first.done, false);
  served.child.kill("SIGTERM");
  let text = new TextDecoder().decode(first.value);
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    text += new TextDecoder().decode(r.value);
  }
  assert.match(text, /\[DONE\]/, "the stream ran to its end after SIGTERM");
  const status = await served.child.status;
  const log = await served.output;
  assert.equal(status.code, 0, log);
  assert.match(log, /warning: routing\.local_quota_mode \(line \d+\): hard_cap is on/);
  const rows = readDb(`${tmp.path}/usage.sqlite3`, "SELECT status FROM requests");
  assert.deepEqual(rows.map((r) => r.status), ["completed"]);
});

/**
 * Shutdown without loss (issue #12 item 4), through a real `eggpool serve`
 * subprocess, a mock upstream that streams slowly for far longer than any
 * test, and real signals: at the end of the grace every open stream ends with
 * its protocol's error event, a second SIGTERM cuts the grace short, and in
 * both cases every request is in the database, finalized once. `eggpool stop`
 * against a server that outlives its timeout exits non-zero.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml } from "./_helpers/eggpool.ts";
import { denoChildEnv, isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, serverTomlLines } from "./_helpers/ops.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../deno.json", import.meta.url).pathname;

/** Bound for anything the server does after a signal; generous for a busy 2-core host. */
const MARGIN_MS = 30_000;

interface Served {
  child: Deno.ChildProcess;
  origin: string;
  env: Record<string, string>;
  /** Everything the server printed so far (stdout and stderr). */
  log(): string;
  /** Resolves when the server's output matches `pattern`. */
  waitLog(pattern: RegExp): Promise<void>;
  /** Resolves with the output once both pipes close. */
  output: Promise<string>;
}

function serverEnv(dir: string): Record<string, string> {
  return {
    ...isolatedEnv(dir),
    EGGPOOL_PID_FILE: `${dir}/eggpool.pid`,
    ...denoChildEnv(),
  };
}

async function writeConfig(dir: string, port: number, mockUrl: string, graceS: number) {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(
    path,
    [
      ...serverTomlLines(dir, port, [`shutdown_grace_s = ${graceS}`]),
      "[metrics]",
      'write_mode = "immediate"',
      mockProvidersToml(mockUrl, 1),
    ].join("\n"),
  );
  return path;
}

async function serve(dir: string, config: string, port: number): Promise<Served> {
  const env = serverEnv(dir);
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
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const waiters: { pattern: RegExp; resolve(): void }[] = [];
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      text += dec.decode(chunk, { stream: true });
      for (const w of waiters.filter((w) => w.pattern.test(text))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const output = Promise.all([drain(child.stdout), drain(child.stderr)]).then(() => text);
  const waitLog = (pattern: RegExp) =>
    pattern.test(text) ? Promise.resolve() : new Promise<void>((resolve) => {
      waiters.push({ pattern, resolve });
    });
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
  return { child, origin, env, log: () => text, waitLog, output };
}

/** A mock whose streams would run for over an hour: a long answer, 2 characters a frame, 100 ms apart. */
function endlessMock(): Promise<MockUpstream> {
  return startMockUpstream({
    models: ["mock-small"],
    reply: "endless ".repeat(20_000),
    streamPieceChars: 2,
    latency: { perFrameMs: 100 },
  });
}

function openStream(origin: string, protocol: "openai" | "anthropic"): Promise<Response> {
  const openai = protocol === "openai";
  return fetch(`${origin}${openai ? "/v1/chat/completions" : "/v1/messages"}`, {
    method: "POST",
    headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: openai ? "mock-small/mockoai" : "mock-small/mockant",
      stream: true,
      max_tokens: 100,
      messages: [{ role: "user", content: "tell me everything" }],
    }),
  });
}

/** An open stream whose first bytes arrived; `rest` reads it to its end. */
async function started(res: Response) {
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  const first = await reader.read();
  assert.equal(first.done, false);
  let text = dec.decode(first.value, { stream: true });
  const rest = (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return text;
      text += dec.decode(r.value, { stream: true });
    }
  })();
  // A failed assertion kills the server before `rest` is awaited: no unhandled rejection then.
  rest.catch(() => {});
  return { rest };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function readDb(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

async function waitForRows(path: string, sql: string, n: number): Promise<void> {
  const until = Date.now() + MARGIN_MS;
  while (readDb(path, sql).length < n) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${n} rows of ${sql}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function assertOpenAiShutdownEnd(text: string): void {
  assert.match(text, /data: \{"error":\{"message":"EggPool is shutting down"/);
  assert.doesNotMatch(text, /\[DONE\]/);
}

function assertAnthropicShutdownEnd(text: string): void {
  assert.match(
    text,
    /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"EggPool is shutting down"/,
  );
  assert.doesNotMatch(text, /message_stop/);
}

/** Every request has one row, finalized as cut by the shutdown; none is left pending. */
function assertFinalizedByShutdown(dbPath: string, n: number): void {
  const rows = readDb(dbPath, "SELECT proxy_request_id, status, error_class FROM requests");
  assert.equal(rows.length, n);
  assert.equal(new Set(rows.map((r) => r.proxy_request_id)).size, n);
  for (const r of rows) {
    assert.equal(r.status, "error");
    assert.equal(r.error_class, "stream_shutdown");
  }
}

Deno.test("at the end of the grace, open streams end with their protocol's error event and are recorded", async () => {
  await using tmp = await withTmpDir();
  await using mock = await endlessMock();
  const port = freePort();
  const config = await writeConfig(tmp.path, port, mock.url, 1);
  const dbPath = `${tmp.path}/usage.sqlite3`;
  const served = await serve(tmp.path, config, port);
  try {
    const openai = await started(await openStream(served.origin, "openai"));
    const anthropic = await started(await openStream(served.origin, "anthropic"));
    await waitForRows(dbPath, "SELECT 1 FROM requests WHERE status = 'pending'", 2);
    served.child.kill("SIGTERM");
    const [oText, aText] = await within(
      Promise.all([openai.rest, anthropic.rest]),
      1_000 + MARGIN_MS,
      "ending the streams",
    );
    assertOpenAiShutdownEnd(oText);
    assertAnthropicShutdownEnd(aText);
    const status = await within(served.child.status, MARGIN_MS, "the exit");
    const log = await served.output;
    assert.equal(status.code, 0, log);
    assert.match(log, /still open after 1000 ms: ending them/);
    assertFinalizedByShutdown(dbPath, 2);
  } finally {
    try {
      served.child.kill("SIGKILL");
    } catch { /* exited */ }
    await served.output;
  }
});

Deno.test("stop on a server that cannot stop in time fails; a second SIGTERM during the grace ends the streams now and still flushes", async () => {
  await using tmp = await withTmpDir();
  await using mock = await endlessMock();
  const port = freePort();
  // A grace far longer than the test may take: only the second signal can end it.
  const config = await writeConfig(tmp.path, port, mock.url, 600);
  const dbPath = `${tmp.path}/usage.sqlite3`;
  const served = await serve(tmp.path, config, port);
  try {
    const stream = await started(await openStream(served.origin, "openai"));
    await waitForRows(dbPath, "SELECT 1 FROM requests WHERE status = 'pending'", 1);
    // Frozen, the server cannot act on `stop`'s SIGTERM: stop gives up after
    // 1 s and must say so with a non-zero exit, not claim success.
    served.child.kill("SIGSTOP");
    const stop = await runEggpool(["--config", config, "stop", "--timeout", "1"], {
      cwd: tmp.path,
      env: served.env,
    });
    served.child.kill("SIGCONT");
    assert.equal(stop.code, 1, stop.stdout + stop.stderr);
    assert.match(stop.stderr, /Server did not stop within 1s/);
    // Thawed, it takes that SIGTERM as the first and begins its (long) grace.
    await within(served.waitLog(/Shutting down \(SIGTERM\)/), MARGIN_MS, "the first SIGTERM");
    served.child.kill("SIGTERM");
    const text = await within(stream.rest, MARGIN_MS, "ending the stream");
    assertOpenAiShutdownEnd(text);
    const status = await within(served.child.status, MARGIN_MS, "the exit");
    const log = await served.output;
    assert.equal(status.code, 0, log);
    assert.match(log, /SIGTERM again: ending in-flight requests now/);
    assertFinalizedByShutdown(dbPath, 1);
  } finally {
    try {
      served.child.kill("SIGKILL");
    } catch { /* exited */ }
    await served.output;
  }
});

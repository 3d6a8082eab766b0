/**
 * Issue #12 item 5: under the default `write_mode = "low_wear"`, a kill -9
 * loses at most about a second of finished requests, and a request in flight
 * for more than that already has its pending row. Runs the real CLI's
 * `serve` as a subprocess and kills it with SIGKILL.
 */
import { denoChildEnv } from "./_helpers/cli.ts";
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { freePort, OPS_KEY, opsEnv, serverTomlLines, waitFor } from "./_helpers/ops.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../deno.json", import.meta.url).pathname;

/** Answers at once, except a streamed request, which sends one chunk and then hangs. */
function startUpstream() {
  const hanging = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (req.method === "GET") {
      return Response.json({ object: "list", data: [{ id: "m1", object: "model" }] });
    }
    const body = await req.json();
    if (body.stream) {
      const chunk = {
        id: "c1",
        object: "chat.completion.chunk",
        model: "m1",
        choices: [{ index: 0, delta: { role: "assistant", content: "hel" } }],
      };
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          hanging.add(controller);
          controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(chunk)}\n\n`));
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    return Response.json({
      id: "c2",
      object: "chat.completion",
      model: "m1",
      choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 1 },
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    async [Symbol.asyncDispose]() {
      for (const c of hanging) {
        try {
          c.close();
        } catch { /* already cancelled */ }
      }
      await server.shutdown();
    },
  };
}

function counts(dbPath: string): Record<string, number> {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const out: Record<string, number> = {};
    for (
      const r of db.prepare("SELECT status, count(*) AS n FROM requests GROUP BY status").all()
    ) {
      out[String(r.status)] = Number(r.n);
    }
    return out;
  } finally {
    db.close();
  }
}

Deno.test("kill -9 under the default write mode keeps finished requests and rows for those in flight", async () => {
  await using tmp = await withTmpDir();
  await using upstream = startUpstream();
  const port = freePort();
  const dbPath = `${tmp.path}/usage.sqlite3`;
  const configPath = `${tmp.path}/config.toml`;
  await Deno.writeTextFile(
    configPath,
    [
      ...serverTomlLines(tmp.path, port),
      "[providers.up]",
      'id = "up"',
      `base_url = "${upstream.url}"`,
      'protocols = ["openai"]',
      "[[providers.up.accounts]]",
      'name = "up-1"',
      'api_key = "sk-up-key-1"',
    ].join("\n") + "\n",
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `--config=${DENO_JSON}`,
      MAIN,
      "serve",
      "--as-root",
      "--config",
      configPath,
    ],
    env: {
      ...opsEnv(tmp.path),
      ...denoChildEnv(),
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const origin = `http://127.0.0.1:${port}`;
  const streams: AbortController[] = [];
  try {
    assert.ok(
      await waitFor(async () => {
        try {
          const res = await fetch(`${origin}/v1/readyz`);
          await res.body?.cancel();
          return res.ok;
        } catch {
          return false;
        }
      }, 60_000),
      "the server came up",
    );
    const post = (stream: boolean, signal?: AbortSignal) =>
      fetch(`${origin}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${OPS_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "m1", stream, messages: [{ role: "user", content: "x" }] }),
        signal,
      });
    const FINISHED = 20;
    const IN_FLIGHT = 5;
    for (let i = 0; i < FINISHED; i++) {
      const res = await post(false);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    for (let i = 0; i < IN_FLIGHT; i++) {
      const abort = new AbortController();
      streams.push(abort);
      const res = await post(true, abort.signal);
      assert.equal(res.status, 200);
      // The first content chunk arrived: the request is in flight upstream.
      await res.body!.getReader().read();
    }
    // Before the fix the default mode wrote every 120 s: nothing was on disk
    // within this (generous) bound, and a crash lost it all.
    const landed = await waitFor(() => {
      const c = counts(dbPath);
      return c.completed === FINISHED && c.pending === IN_FLIGHT;
    }, 20_000);
    assert.ok(landed, `rows reached the database: ${JSON.stringify(counts(dbPath))}`);
    child.kill("SIGKILL");
    assert.equal((await child.status).signal, "SIGKILL");
    assert.deepEqual(counts(dbPath), { completed: FINISHED, pending: IN_FLIGHT });
  } finally {
    for (const a of streams) a.abort();
    try {
      child.kill("SIGKILL");
    } catch { /* already dead */ }
    await child.status;
  }
});

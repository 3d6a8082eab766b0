/**
 * The relay's own shutdown listener (issue #12 item 4): once the body is
 * handed over, the end of the shutdown grace must still end the stream with
 * the protocol's error event and finalize it once, whether the client has a
 * read pending or has stopped reading.
 */
import assert from "node:assert/strict";
import { openRelay } from "./relay.ts";
import type { RelayEnd } from "./relay.ts";
import { Deadlines } from "./deadlines.ts";

const enc = new TextEncoder();

/** An upstream that sends one token frame every 20 ms and never ends. */
function endlessUpstream(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 20));
        c.enqueue(enc.encode(`data: {"choices":[{"index":0,"delta":{"content":"t${i++}"}}]}\n\n`));
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
}

async function openEndless(port: number, shutdown: AbortSignal, deadlines: Deadlines) {
  const upstreamAbort = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: upstreamAbort.signal });
  const ends: RelayEnd[] = [];
  const opened = await openRelay({
    protocol: "openai",
    upstream: res,
    abortUpstream: (reason) => upstreamAbort.abort(reason),
    isShuttingDown: () => shutdown.aborted,
    shutdown,
    idleTimeoutMs: 30_000,
    deadlines,
    holdTimeoutMs: 30_000,
    stripUsageChunk: false,
    clock: Date.now,
    onEnd: (e) => ends.push(e),
  });
  assert.ok(opened.ok);
  return { body: opened.body, ends, upstreamAbort };
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const dec = new TextDecoder();
  let text = "";
  for (;;) {
    const r = await reader.read();
    if (r.done) return text;
    text += dec.decode(r.value, { stream: true });
  }
}

Deno.test("shutdown ends a stream whose client is not reading: error event queued, finalized once", async () => {
  await using upstream = endlessUpstream();
  const deadlines = new Deadlines();
  const shutdown = new AbortController();
  const relay = await openEndless(upstream.addr.port, shutdown.signal, deadlines);
  const reader = relay.body.getReader();
  assert.equal((await reader.read()).done, false);
  // No read pending now: only the relay's own listener can end the stream.
  shutdown.abort();
  assert.equal(relay.ends.length, 1);
  assert.equal(relay.ends[0].kind, "shutdown");
  assert.ok(relay.upstreamAbort.signal.aborted, "the upstream call is aborted");
  const rest = await readAll(reader);
  assert.match(rest, /data: \{"error":\{"message":"EggPool is shutting down"/);
  assert.doesNotMatch(rest, /\[DONE\]/);
  assert.equal(relay.ends[0].bytesOut > 0, true);
  assert.equal(relay.ends.length, 1);
  deadlines.close();
});

Deno.test("shutdown ends a stream with a read pending, without a second end or a write after close", async () => {
  await using upstream = endlessUpstream();
  const deadlines = new Deadlines();
  const shutdown = new AbortController();
  const relay = await openEndless(upstream.addr.port, shutdown.signal, deadlines);
  const reader = relay.body.getReader();
  assert.equal((await reader.read()).done, false);
  const rest = readAll(reader);
  // Let the pending pull reach its upstream read, then end the grace.
  await new Promise((r) => setTimeout(r, 5));
  shutdown.abort();
  const text = await rest;
  assert.match(text, /"EggPool is shutting down"/);
  assert.equal(text.match(/EggPool is shutting down/g)?.length, 1, "one error event");
  assert.deepEqual(relay.ends.map((e) => e.kind), ["shutdown"]);
  deadlines.close();
});

Deno.test("a stream that ended before the shutdown drops its listener and is not ended again", async () => {
  await using upstream = endlessUpstream();
  const deadlines = new Deadlines();
  const shutdown = new AbortController();
  const relay = await openEndless(upstream.addr.port, shutdown.signal, deadlines);
  await relay.body.cancel();
  assert.deepEqual(relay.ends.map((e) => e.kind), ["client_gone"]);
  shutdown.abort();
  assert.deepEqual(relay.ends.map((e) => e.kind), ["client_gone"]);
  deadlines.close();
});

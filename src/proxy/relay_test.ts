import assert from "node:assert/strict";
import { openRelay } from "./relay.ts";
import type { RelayEnd } from "./relay.ts";
import { Deadlines } from "./deadlines.ts";
import { concatBytes } from "../core/bytes.ts";

const enc = new TextEncoder();

/** An OpenAI stream of `n` one-token frames, each sent as its own chunk with a pause between. */
function tokenStream(n: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(c) {
      await new Promise((r) => setTimeout(r, 1));
      if (i < n) {
        c.enqueue(enc.encode(`data: {"choices":[{"index":0,"delta":{"content":"t${i}"}}]}\n\n`));
      } else {
        c.enqueue(enc.encode("data: [DONE]\n\n"));
        c.close();
      }
      i++;
    },
  });
}

Deno.test("openRelay hands on each upstream chunk as an exact-size copy, bytes unchanged", async () => {
  await using upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(tokenStream(40), { headers: { "content-type": "text/event-stream" } }),
  );
  const direct = await (await fetch(`http://127.0.0.1:${upstream.addr.port}/`)).text();
  const res = await fetch(`http://127.0.0.1:${upstream.addr.port}/`);
  const deadlines = new Deadlines();
  let end: RelayEnd | undefined;
  const opened = await openRelay({
    protocol: "openai",
    upstream: res,
    abortUpstream: () => {},
    isShuttingDown: () => false,
    idleTimeoutMs: 5_000,
    deadlines,
    holdTimeoutMs: 5_000,
    stripUsageChunk: false,
    clock: Date.now,
    onEnd: (e) => end = e,
  });
  assert.ok(opened.ok);
  const chunks: Uint8Array[] = [];
  for await (const chunk of opened.body) chunks.push(chunk);
  // A fetch body's default reader hands out each chunk on a fresh 64 KiB
  // buffer; the relay must not keep those alive for a few hundred bytes.
  for (const c of chunks) assert.equal(c.buffer.byteLength, c.byteLength);
  const relayed = new TextDecoder().decode(concatBytes(chunks));
  assert.equal(relayed, direct);
  assert.equal(end?.kind, "complete");
  assert.equal(end?.bytesOut, enc.encode(direct).byteLength);
  deadlines.close();
});

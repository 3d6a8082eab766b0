import assert from "node:assert/strict";
import { openRelay } from "./relay.ts";
import type { RelayEnd, RelayOptions } from "./relay.ts";
import { Deadlines } from "./deadlines.ts";
import { concatBytes } from "../core/bytes.ts";

const enc = new TextEncoder();

/** Relay options for an OpenAI stream that is never stripped, with generous timeouts. */
function relayOptions(
  upstream: Response,
  deadlines: Deadlines,
  onEnd: (end: RelayEnd) => void = () => {},
): RelayOptions {
  return {
    protocol: "openai",
    upstream,
    abortUpstream: () => {},
    isShuttingDown: () => false,
    idleTimeoutMs: 5_000,
    deadlines,
    holdTimeoutMs: 5_000,
    stripUsageChunk: false,
    clock: Date.now,
    onEnd,
  };
}

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
  const opened = await openRelay(relayOptions(res, deadlines, (e) => end = e));
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

/** An OpenAI stream whose every token names `tag`, so streams sharing a buffer would show it. */
function taggedStream(tag: string, n: number, pauseMs = 1): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(c) {
      await new Promise((r) => setTimeout(r, pauseMs));
      if (i < n) {
        c.enqueue(
          enc.encode(`data: {"choices":[{"index":0,"delta":{"content":"${tag}${i}"}}]}\n\n`),
        );
      } else {
        c.enqueue(enc.encode("data: [DONE]\n\n"));
        c.close();
      }
      i++;
    },
  });
}

async function openTagged(port: number, tag: string, deadlines: Deadlines) {
  const res = await fetch(`http://127.0.0.1:${port}/${tag}`);
  const opened = await openRelay(relayOptions(res, deadlines));
  assert.ok(opened.ok);
  return opened.body;
}

async function relayedText(port: number, tag: string, deadlines: Deadlines): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await openTagged(port, tag, deadlines)) chunks.push(chunk);
  return new TextDecoder().decode(concatBytes(chunks));
}

Deno.test("read buffers passed from finished streams to new ones never mix their bytes", async () => {
  await using upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      const tag = new URL(req.url).pathname.slice(1);
      return new Response(taggedStream(tag, 30, tag === "slow" ? 20 : 1), {
        headers: { "content-type": "text/event-stream" },
      });
    },
  );
  const port = upstream.addr.port;
  const expected = async (tag: string) =>
    await (await fetch(`http://127.0.0.1:${port}/${tag}`)).text();
  const deadlines = new Deadlines();

  // Finished streams give their buffers back; the next ones, side by side, take them.
  for (const tag of ["a", "b", "c"]) {
    assert.equal(await relayedText(port, tag, deadlines), await expected(tag));
  }
  const together = ["d", "e", "f", "g"];
  const texts = await Promise.all(together.map((t) => relayedText(port, t, deadlines)));
  for (const [i, t] of together.entries()) assert.equal(texts[i], await expected(t));

  // A client that leaves mid-stream cancels the relay while a read is pending;
  // the streams after it still get exactly their own bytes.
  const slow = (await openTagged(port, "slow", deadlines)).getReader();
  assert.equal((await slow.read()).done, false);
  await slow.cancel();
  const after = await Promise.all(["h", "i"].map((t) => relayedText(port, t, deadlines)));
  assert.equal(after[0], await expected("h"));
  assert.equal(after[1], await expected("i"));
  deadlines.close();
});

import assert from "node:assert/strict";
import { createUsageChunkFilter, isUsageOnlyChunk, withIncludeUsage } from "./include_usage.ts";
import { createStreamObserver } from "./usage.ts";
import {
  byteByByte,
  everySplit,
  randomSplits,
  readFixture,
  SSE_FIXTURES,
  utf8,
  withLineEnding,
} from "./_fixtures.ts";
import { concatBytes } from "../core/bytes.ts";

const USAGE_CHUNK =
  '{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}';

function runFilter(chunks: Uint8Array[]) {
  const observer = createStreamObserver("openai");
  const filter = createUsageChunkFilter(observer);
  const out = chunks.map((chunk) => filter.push(chunk));
  out.push(filter.end());
  return { bytes: concatBytes(out), observer, removed: filter.removedFrames, filter };
}

/** The fixture text with the usage-only frame (and its blank line) cut out by hand. */
function withoutUsageFrame(text: string): string {
  const at = text.indexOf('"choices":[],"usage":{');
  assert.ok(at > 0);
  const start = text.lastIndexOf("data: ", at);
  const end = text.indexOf("\n\n", at) + 2;
  return text.slice(0, start) + text.slice(end);
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

Deno.test("withIncludeUsage() adds include_usage when the client did not ask", () => {
  const body = { model: "gpt-4.1", stream: true, messages: [] };
  const result = withIncludeUsage(body);
  assert.deepEqual(result, {
    body: { model: "gpt-4.1", stream: true, messages: [], stream_options: { include_usage: true } },
    clientAskedForUsage: false,
    injected: true,
  });
  assert.equal("stream_options" in body, false);
});

Deno.test("withIncludeUsage() overrides include_usage false and keeps other options", () => {
  const body = {
    stream: true,
    stream_options: { include_usage: false, include_obfuscation: false },
  };
  const result = withIncludeUsage(body);
  assert.deepEqual(result.body.stream_options, {
    include_usage: true,
    include_obfuscation: false,
  });
  assert.equal(result.clientAskedForUsage, false);
  assert.equal(result.injected, true);
  assert.deepEqual(body.stream_options, { include_usage: false, include_obfuscation: false });
});

Deno.test("withIncludeUsage() leaves a body that already asks for usage untouched", () => {
  const body = { stream: true, stream_options: { include_usage: true } };
  const result = withIncludeUsage(body);
  assert.equal(result.body, body);
  assert.equal(result.clientAskedForUsage, true);
  assert.equal(result.injected, false);
});

Deno.test("withIncludeUsage() does not touch non-streaming or malformed requests", () => {
  for (
    const body of [{ stream: false }, {}, { stream: "true" }, { stream: true, stream_options: "x" }]
  ) {
    const result = withIncludeUsage(body);
    assert.equal(result.body, body);
    assert.equal(result.injected, false);
  }
  const nulled = withIncludeUsage({ stream: true, stream_options: null });
  assert.deepEqual(nulled.body.stream_options, { include_usage: true });
});

Deno.test("isUsageOnlyChunk() recognizes only the usage-only chunk", () => {
  assert.equal(isUsageOnlyChunk(USAGE_CHUNK), true);
  assert.equal(isUsageOnlyChunk('{"choices":[],"usage":null}'), false);
  assert.equal(
    isUsageOnlyChunk('{"choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":1}}'),
    false,
  );
  assert.equal(isUsageOnlyChunk('{"choices":[],"usage":{"prompt_tokens":1}'), false);
  assert.equal(isUsageOnlyChunk('{"usage":{"prompt_tokens":1}}'), false);
  assert.equal(isUsageOnlyChunk("[DONE]"), false);
});

Deno.test("createUsageChunkFilter() removes exactly the usage frame for every split", async () => {
  for (const name of ["openai_usage_cached_reasoning.sse", "openai_tool_calls.sse"]) {
    const bytes = await readFixture(name);
    const expectedLf = utf8(withoutUsageFrame(decode(bytes)));
    const variants = [
      [bytes, expectedLf],
      [withLineEnding(bytes, "\r\n"), withLineEnding(expectedLf, "\r\n")],
      [withLineEnding(bytes, "\r"), withLineEnding(expectedLf, "\r")],
    ];
    for (const [input, expected] of variants) {
      const runs = [
        [input],
        ...everySplit(input),
        ...randomSplits(input, 1234, 60),
        byteByByte(input),
      ];
      for (const chunks of runs) {
        const { bytes: out, removed, observer } = runFilter(chunks);
        assert.deepEqual(out, expected, name);
        assert.equal(removed, 1, name);
        assert.equal(observer.terminal, "done");
        assert.equal(observer.usage.reported, true, "the observer still sees the usage");
      }
    }
  }
});

Deno.test("createUsageChunkFilter() passes streams without a usage chunk through", async () => {
  for (const name of SSE_FIXTURES) {
    const bytes = await readFixture(name);
    if (name.startsWith("openai") && !name.includes("truncated")) continue;
    for (const chunks of [[bytes], ...everySplit(bytes), ...randomSplits(bytes, 99, 20)]) {
      const { bytes: out, removed } = runFilter(chunks);
      assert.deepEqual(out, bytes, name);
      assert.equal(removed, 0);
    }
  }
});

Deno.test("createUsageChunkFilter() forwards whole-frame chunks without copying", () => {
  const filter = createUsageChunkFilter(createStreamObserver("openai"));
  const chunk = utf8('data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n');
  assert.equal(filter.push(chunk), chunk);
  // An unfinished frame that already shows a choice is forwarded at once.
  const started = utf8('data: {"id":"c","choices": [ {"index":0,');
  assert.equal(filter.push(started), started);
  const ended = utf8('"delta":{}}]}\n\n');
  assert.equal(filter.push(ended), ended);
  // One that could still be the usage chunk is held until it ends.
  const finish = utf8('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n');
  assert.equal(filter.push(finish), finish);
  const partial = utf8('data: {"id":"c","choices":');
  assert.equal(filter.push(partial).length, 0);
  const rest = utf8('[],"usage":null}\n\n');
  assert.equal(decode(filter.push(rest)), decode(partial) + decode(rest));
  assert.equal(filter.end().length, 0);
});

Deno.test("createUsageChunkFilter() keeps a comment block right before the usage frame", () => {
  const finish = 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n';
  const input = `${finish}: ping\n\ndata: ${USAGE_CHUNK}\n\ndata: [DONE]\n\n`;
  const expected = `${finish}: ping\n\ndata: [DONE]\n\n`;
  for (const chunks of [...everySplit(utf8(input)), byteByByte(utf8(input))]) {
    assert.equal(decode(runFilter(chunks).bytes), expected);
  }
});

Deno.test("createUsageChunkFilter() forwards unfinished frames before the finish chunk", () => {
  const filter = createUsageChunkFilter(createStreamObserver("openai"));
  const head = utf8('data: {"id":"c","choices":[');
  assert.equal(filter.push(head), head);
  const rest = utf8('{"index":0,"delta":{}}]}\n\n');
  assert.equal(filter.push(rest), rest);
  // An early usage chunk that arrives whole is still removed ...
  assert.equal(filter.push(utf8(`data: ${USAGE_CHUNK}\n\n`)).length, 0);
  assert.equal(filter.removedFrames, 1);
  // ... but one split across reads is forwarded whole.
  const first = utf8(`data: ${USAGE_CHUNK.slice(0, 20)}`);
  const second = utf8(`${USAGE_CHUNK.slice(20)}\n\n`);
  assert.equal(filter.push(first), first);
  assert.equal(filter.push(second), second);
  assert.equal(filter.removedFrames, 1);
});

Deno.test("createUsageChunkFilter() removes every usage-only frame of a chatty provider", () => {
  const input = `data: ${USAGE_CHUNK}\n\ndata: {"choices":[{"index":0,"delta":{}}]}\n\n` +
    `data: ${USAGE_CHUNK}\r\n\r\ndata: [DONE]\n\n`;
  const result = runFilter([utf8(input)]);
  assert.equal(
    decode(result.bytes),
    `data: {"choices":[{"index":0,"delta":{}}]}\n\ndata: [DONE]\n\n`,
  );
  assert.equal(result.removed, 2);
});

Deno.test("createUsageChunkFilter() streams an oversized frame instead of holding it", () => {
  const big = `data: {"choices":[{"index":0,"delta":{"content":"${"w".repeat(100_000)}"}}]}\n\n` +
    'data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}\n\n';
  const input = utf8(`${big}data: ${USAGE_CHUNK}\n\ndata: [DONE]\n\n`);
  const expected = utf8(`${big}data: [DONE]\n\n`);
  for (const chunks of randomSplits(input, 5, 20, 16_384)) {
    const observer = createStreamObserver("openai");
    const filter = createUsageChunkFilter(observer);
    const out: Uint8Array[] = [];
    let maxHeld = 0;
    let fed = 0;
    for (const chunk of chunks) {
      out.push(filter.push(chunk));
      fed += chunk.length;
      maxHeld = Math.max(maxHeld, fed - concatBytes(out).length);
    }
    out.push(filter.end());
    assert.deepEqual(concatBytes(out), expected);
    assert.ok(maxHeld <= 64 * 1024 + 16_384, `held ${maxHeld} bytes`);
    assert.equal(filter.scanner.oversizeFrames, 1);
    assert.equal(observer.usage.inputTokens, 9);
    assert.equal(observer.terminal, "done");
  }
});

Deno.test("createUsageChunkFilter() returns a cut final frame at end()", () => {
  const input = utf8(`data: {"choices":[{"index":0,"delta":{}}]}\n\ndata: ${USAGE_CHUNK}`);
  const filter = createUsageChunkFilter(createStreamObserver("openai"));
  const first = filter.push(input);
  const last = filter.end();
  assert.deepEqual(concatBytes([first, last]), input);
  assert.equal(filter.scanner.endedMidFrame, true);
  assert.equal(filter.removedFrames, 0);
});

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random OpenAI-like stream as frame strings, with the index of its usage-only frame. */
function randomOpenAiFrames(random: () => number): { frames: string[]; usageAt: number } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const words = ["hi", " café", " 🥚", " 日本", ' say \\"usage\\"', " [ok]", ' "choices":[]'];
  const eols = ["\n", "\r\n", "\r"] as const;
  const frame = (lines: string[]) => {
    const eol = pick(eols);
    return lines.join(eol) + eol + eol;
  };
  const frames: string[] = [];
  const count = 1 + Math.floor(random() * 12);
  for (let i = 0; i < count; i++) {
    const content = JSON.stringify(pick(words).replaceAll('\\"', '"'));
    const space = random() < 0.3 ? " " : "";
    frames.push(frame([
      `data: {"id":"c",${space}"choices":${space}[{"index":0,"delta":{"content":${content}}}]}`,
    ]));
    if (random() < 0.2) frames.push(frame([": keep-alive"]));
  }
  frames.push(
    frame(['data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}']),
  );
  if (random() < 0.3) frames.push(frame([": keep-alive"]));
  const usage = '{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}';
  const usageAt = frames.length;
  frames.push(
    random() < 0.3
      ? frame(['data: {"id":"c","choices":[],', `data: "usage":${usage}}`])
      : frame([`data: {"id":"c","choices":[],"usage":${usage}}`]),
  );
  frames.push(frame(["data: [DONE]"]));
  return { frames, usageAt };
}

Deno.test("createUsageChunkFilter() removes only the usage frame from random streams", () => {
  const random = seeded(77);
  for (let run = 0; run < 200; run++) {
    const { frames, usageAt } = randomOpenAiFrames(random);
    const input = utf8(frames.join(""));
    const expected = utf8(frames.filter((_, i) => i !== usageAt).join(""));
    for (const chunks of [[input], byteByByte(input), ...randomSplits(input, run, 5, 40)]) {
      const { bytes, removed, observer } = runFilter(chunks);
      assert.deepEqual(decode(bytes), decode(expected), `run ${run}`);
      assert.equal(removed, 1);
      assert.equal(observer.usage.inputTokens, 12);
    }
  }
});

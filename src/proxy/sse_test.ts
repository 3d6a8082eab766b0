import assert from "node:assert/strict";
import { type SseFrame, SseScanner } from "./sse.ts";
import {
  byteByByte,
  everySplit,
  randomSplits,
  readFixture,
  splitAt,
  SSE_FIXTURES,
  utf8,
  withLineEnding,
} from "./_fixtures.ts";

interface ScanResult {
  frames: SseFrame[];
  oversizeFrames: number;
  endedMidFrame: boolean;
}

function scan(chunks: Uint8Array[], maxFrameBytes?: number): ScanResult {
  const frames: SseFrame[] = [];
  const scanner = new SseScanner((frame) => frames.push(frame), { maxFrameBytes });
  for (const chunk of chunks) scanner.push(chunk);
  scanner.end();
  return {
    frames,
    oversizeFrames: scanner.oversizeFrames,
    endedMidFrame: scanner.endedMidFrame,
  };
}

function scanText(text: string, maxFrameBytes?: number): ScanResult {
  return scan([utf8(text)], maxFrameBytes);
}

Deno.test("SseScanner parses data frames with event names", () => {
  const { frames, endedMidFrame } = scanText(
    'event: message_start\ndata: {"a":1}\n\ndata: plain\n\n',
  );
  assert.deepEqual(frames, [
    { event: "message_start", data: '{"a":1}' },
    { event: undefined, data: "plain" },
  ]);
  assert.equal(endedMidFrame, false);
});

Deno.test("SseScanner treats LF, CRLF and CR line endings alike", () => {
  const lf = utf8("event: a\ndata: one\n\n: note\ndata: two\ndata: three\n\n");
  const expected = scan([lf]).frames;
  assert.equal(expected.length, 2);
  for (const eol of ["\r\n", "\r"] as const) {
    assert.deepEqual(scan([withLineEnding(lf, eol)]).frames, expected);
  }
});

Deno.test("SseScanner handles CRLF split between CR and LF", () => {
  const bytes = utf8("data: one\r\n\r\ndata: two\r\n\r\n");
  for (const chunks of everySplit(bytes)) {
    assert.deepEqual(scan(chunks).frames, [
      { event: undefined, data: "one" },
      { event: undefined, data: "two" },
    ]);
  }
});

Deno.test("SseScanner parses a frame split inside a UTF-8 character", () => {
  const text = "data: héllo 🥚 日本\n\n";
  const bytes = utf8(text);
  const egg = bytes.indexOf(0xf0);
  for (const at of [egg + 1, egg + 2, egg + 3]) {
    assert.deepEqual(scan(splitAt(bytes, [at])).frames, [{
      event: undefined,
      data: "héllo 🥚 日本",
    }]);
  }
  assert.deepEqual(scan(byteByByte(bytes)).frames, [{ event: undefined, data: "héllo 🥚 日本" }]);
});

Deno.test("SseScanner joins several data lines with a newline", () => {
  const { frames } = scanText("data: first\ndata:second\ndata\ndata:  spaced\n\n");
  assert.deepEqual(frames, [{ event: undefined, data: "first\nsecond\n\n spaced" }]);
});

Deno.test("SseScanner ignores comments, ids, retries and unknown fields", () => {
  const { frames } = scanText(
    ": keep-alive\n\n:\n\nid: 7\nretry: 1000\nfoo: bar\ndata: x\n\nid: 8\n\n",
  );
  assert.deepEqual(frames, [{ event: undefined, data: "x" }]);
});

Deno.test("SseScanner does not dispatch an event name without data", () => {
  const { frames } = scanText("event: ping\n\ndata: after\n\n");
  assert.deepEqual(frames, [{ event: undefined, data: "after" }]);
});

Deno.test("SseScanner dispatches an empty data line as an empty string", () => {
  assert.deepEqual(scanText("data:\n\n").frames, [{ event: undefined, data: "" }]);
});

Deno.test("SseScanner matches field names exactly", () => {
  const { frames } = scanText("datum: no\nevents: no\ndata: yes\n\n");
  assert.deepEqual(frames, [{ event: undefined, data: "yes" }]);
});

Deno.test("SseScanner skips a leading byte order mark", () => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8("data: x\n\n")]);
  for (const chunks of everySplit(bytes)) {
    assert.deepEqual(scan(chunks).frames, [{ event: undefined, data: "x" }]);
  }
});

Deno.test("SseScanner skips an oversized frame and keeps parsing after it", () => {
  const big = "x".repeat(300);
  const text = `data: small\n\ndata: ${big}\ndata: more\n\ndata: after\n\n`;
  for (const chunks of [[utf8(text)], ...randomSplits(utf8(text), 11, 20, 40)]) {
    const result = scan(chunks, 256);
    assert.deepEqual(result.frames.map((f) => f.data), ["small", "after"]);
    assert.equal(result.oversizeFrames, 1);
  }
});

Deno.test("SseScanner bounds one huge line spread over many chunks", () => {
  const chunks = [utf8("data: ")];
  for (let i = 0; i < 100; i++) chunks.push(utf8("y".repeat(1000)));
  chunks.push(utf8("\n\ndata: next\n\n"));
  const result = scan(chunks, 4096);
  assert.deepEqual(result.frames.map((f) => f.data), ["next"]);
  assert.equal(result.oversizeFrames, 1);
});

Deno.test("SseScanner default cap is 64 KiB", () => {
  const fits = "z".repeat(64 * 1024 - 16);
  const tooBig = "z".repeat(64 * 1024 + 1);
  const result = scanText(`data: ${fits}\n\ndata: ${tooBig}\n\n`);
  assert.equal(result.frames.length, 1);
  assert.equal(result.frames[0].data.length, fits.length);
  assert.equal(result.oversizeFrames, 1);
});

Deno.test("SseScanner end() flushes a frame missing its blank line", () => {
  const withNewline = scanText("data: a\n\ndata: [DONE]\n");
  assert.deepEqual(withNewline.frames.map((f) => f.data), ["a", "[DONE]"]);
  assert.equal(withNewline.endedMidFrame, true);
  const noNewline = scanText("data: a\n\ndata: [DONE]");
  assert.deepEqual(noNewline.frames.map((f) => f.data), ["a", "[DONE]"]);
  assert.equal(noNewline.endedMidFrame, true);
});

Deno.test("SseScanner end() after a complete frame is clean", () => {
  assert.equal(scanText("data: a\n\n").endedMidFrame, false);
  assert.equal(scanText("data: a\n\n: trailing comment\n").endedMidFrame, false);
  assert.equal(scanText("").endedMidFrame, false);
  assert.equal(scanText("data: a\r").endedMidFrame, true);
  assert.equal(scanText("data: a\r\r").endedMidFrame, false);
});

Deno.test("SseScanner rejects push() after end()", () => {
  const scanner = new SseScanner(() => {});
  scanner.end();
  assert.throws(() => scanner.push(utf8("data: x\n\n")), /has ended/);
});

Deno.test("SseScanner reports each blank line's end offset", () => {
  const offsets: number[] = [];
  const scanner = new SseScanner(() => {}, { onBoundary: (at) => offsets.push(at) });
  scanner.push(utf8("data: a\r\n\r\n: c\n\ndata: b\r"));
  scanner.push(utf8("\r"));
  scanner.end();
  assert.deepEqual(offsets, [11, 16, 1]);
});

Deno.test("SseScanner gives identical frames for every split of every fixture", async () => {
  for (const name of SSE_FIXTURES) {
    const bytes = await readFixture(name);
    for (const variant of [bytes, withLineEnding(bytes, "\r\n"), withLineEnding(bytes, "\r")]) {
      const expected = scan([variant]);
      assert.ok(expected.frames.length > 0, name);
      for (const chunks of everySplit(variant)) assert.deepEqual(scan(chunks), expected, name);
      for (const chunks of randomSplits(variant, 42, 50)) {
        assert.deepEqual(scan(chunks), expected, name);
      }
      assert.deepEqual(scan(byteByByte(variant)), expected, name);
    }
  }
});

Deno.test("SseScanner decodes the OpenAI fixture's frames", async () => {
  const { frames, endedMidFrame } = scan([await readFixture("openai_usage_cached_reasoning.sse")]);
  assert.equal(endedMidFrame, false);
  assert.equal(frames.length, 12);
  assert.equal(frames.at(-1)?.data, "[DONE]");
  const text = frames.slice(1, 9).map((f) => JSON.parse(f.data).choices[0].delta.content).join("");
  assert.equal(text, "Bonjour! Voilà la réponse — en bref: 🥚 日本語もOK.");
});

Deno.test("SseScanner marks a stream cut inside a frame", async () => {
  const { frames, endedMidFrame } = scan([await readFixture("openai_truncated.sse")]);
  assert.equal(endedMidFrame, true);
  assert.throws(() => JSON.parse(frames.at(-1)!.data));
});

/** Straightforward WHATWG reading of a whole stream, to check the scanner against. */
function referenceScan(bytes: Uint8Array): { frames: SseFrame[]; endedMidFrame: boolean } {
  const lines = new TextDecoder().decode(bytes).split(/\r\n|\r|\n/);
  const frames: SseFrame[] = [];
  let data: string | undefined;
  let event: string | undefined;
  let pending = false;
  const dispatch = () => {
    if (data !== undefined) frames.push({ event, data });
    data = undefined;
    event = undefined;
    pending = false;
  };
  const partial = lines.pop() as string; // text after the final terminator
  if (partial !== "") lines.push(partial); // end() reads it as a last line
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") {
      dispatch();
      continue;
    }
    if (line.startsWith(":")) continue;
    pending = true;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data = data === undefined ? value : `${data}\n${value}`;
    else if (field === "event") event = value;
  }
  const endedMidFrame = pending || data !== undefined;
  if (endedMidFrame) dispatch();
  return { frames, endedMidFrame };
}

function randomStream(random: () => number): Uint8Array {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const payloads = ['{"a":1}', "plain", "é", "🥚 egg", "日本語", "x\u00a0y", "", " lead", "a:b"];
  const kinds = ["data: ", "data:", "data", "event: ", ": ", "id: ", "retry: ", "", "", "foo: "];
  const endings = ["\n", "\r\n", "\r"] as const;
  let text = random() < 0.1 ? "\ufeff" : "";
  const count = 1 + Math.floor(random() * 30);
  for (let i = 0; i < count; i++) {
    const kind = pick(kinds);
    text += kind === "data" || kind === "" ? kind : kind + pick(payloads);
    if (i < count - 1 || random() < 0.7) text += pick(endings);
  }
  return utf8(text);
}

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("SseScanner agrees with a reference parser on random mixed-ending streams", () => {
  const random = mulberry(20240601);
  for (let run = 0; run < 300; run++) {
    const bytes = randomStream(random);
    const expected = referenceScan(bytes);
    const splits = [[bytes], byteByByte(bytes), ...randomSplits(bytes, run, 4, 9)];
    for (const chunks of splits) {
      const got = scan(chunks);
      assert.deepEqual(
        { frames: got.frames, endedMidFrame: got.endedMidFrame },
        expected,
        JSON.stringify(new TextDecoder().decode(bytes)),
      );
    }
  }
});

/**
 * Test-only helpers for the streaming tests in this folder: fixture loading
 * and the chunkings we feed them with.
 *
 * @module
 */

const FIXTURES = new URL("../../tests/fixtures/", import.meta.url);

/** Names of the `.sse` fixtures in `tests/fixtures/`. */
export const SSE_FIXTURES = [
  "openai_usage_cached_reasoning.sse",
  "openai_tool_calls.sse",
  "openai_truncated.sse",
  "anthropic_cache_tool_use.sse",
  "anthropic_overloaded.sse",
  "anthropic_truncated.sse",
] as const;

/** Reads a fixture's raw bytes. */
export function readFixture(name: string): Promise<Uint8Array> {
  return Deno.readFile(new URL(name, FIXTURES));
}

/** Encodes text as UTF-8. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Rewrites every `\n` of an LF stream as `eol`. */
export function withLineEnding(bytes: Uint8Array, eol: "\r\n" | "\r"): Uint8Array {
  const out: number[] = [];
  for (const b of bytes) {
    if (b === 0x0a) {
      if (eol === "\r\n") out.push(0x0d, 0x0a);
      else out.push(0x0d);
    } else {
      out.push(b);
    }
  }
  return new Uint8Array(out);
}

/** Cuts `bytes` at the given ascending offsets. */
export function splitAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const at of offsets) {
    parts.push(bytes.slice(from, at));
    from = at;
  }
  parts.push(bytes.slice(from));
  return parts;
}

/** Every two-chunk split, from `[empty, all]` to `[all, empty]`. */
export function* everySplit(bytes: Uint8Array): Generator<Uint8Array[]> {
  for (let at = 0; at <= bytes.length; at++) yield splitAt(bytes, [at]);
}

/** One byte per chunk. */
export function byteByByte(bytes: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) parts.push(bytes.slice(i, i + 1));
  return parts;
}

/** `count` seeded random chunkings with chunk sizes from 1 to `maxChunk` bytes. */
export function randomSplits(
  bytes: Uint8Array,
  seed: number,
  count: number,
  maxChunk = 97,
): Uint8Array[][] {
  const random = mulberry32(seed);
  const runs: Uint8Array[][] = [];
  for (let run = 0; run < count; run++) {
    const offsets: number[] = [];
    let at = 0;
    for (;;) {
      at += 1 + Math.floor(random() * maxChunk);
      if (at >= bytes.length) break;
      offsets.push(at);
    }
    runs.push(splitAt(bytes, offsets));
  }
  return runs;
}

/** Small deterministic PRNG so failures reproduce. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * OpenAI `stream_options.include_usage` handling (04 §3, 09-decisions): we ask
 * the upstream for usage on every streamed Chat Completions request, and when
 * the client did not ask for it we remove that extra usage-only chunk from the
 * bytes we forward, so the client gets exactly the stream it asked for.
 *
 * @module
 */

import { MAX_SSE_FRAME_BYTES, type SseFrame, SseScanner } from "./sse.ts";
import { concatBytes } from "../core/bytes.ts";
import { hasValue, parseObject, type StreamObserver } from "./usage.ts";

/** Result of {@linkcode withIncludeUsage}. */
export interface IncludeUsageResult {
  /** The body to send upstream (the input object itself when nothing changed). */
  body: Record<string, unknown>;
  /** The client set `stream_options.include_usage: true` itself. */
  clientAskedForUsage: boolean;
  /** We added the flag, so the usage-only chunk must be stripped for the client. */
  injected: boolean;
}

/**
 * Returns the request body with `stream_options.include_usage = true` (other
 * `stream_options` keys kept; the input is not mutated). Only streaming requests
 * are touched: OpenAI rejects `stream_options` without `stream: true`.
 */
export function withIncludeUsage(body: Record<string, unknown>): IncludeUsageResult {
  const options = body.stream_options;
  const isObject = typeof options === "object" && options !== null && !Array.isArray(options);
  const asked = isObject && (options as Record<string, unknown>).include_usage === true;
  if (body.stream !== true || asked || (!isObject && options !== undefined && options !== null)) {
    // Not streaming, already asked, or a malformed value the upstream should reject as is.
    return { body, clientAskedForUsage: asked, injected: false };
  }
  const merged = isObject ? { ...(options as Record<string, unknown>) } : {};
  merged.include_usage = true;
  return { body: { ...body, stream_options: merged }, clientAskedForUsage: false, injected: true };
}

/**
 * True for the usage-only chunk OpenAI sends before `[DONE]` when usage is
 * requested: an object with an empty `choices` array and a `usage` object.
 * Cheap for ordinary chunks (no JSON parse unless `usage` is non-null).
 */
export function isUsageOnlyChunk(frameData: string): boolean {
  if (!hasValue(frameData, 'usage"')) return false;
  const chunk = parseObject(frameData);
  if (chunk === undefined) return false;
  const usage = chunk.usage;
  return Array.isArray(chunk.choices) && chunk.choices.length === 0 &&
    typeof usage === "object" && usage !== null && !Array.isArray(usage);
}

/** Byte filter returned by {@linkcode createUsageChunkFilter}. */
export interface UsageChunkFilter {
  /**
   * Takes one upstream chunk and returns the bytes to forward now (may be
   * empty, may be `chunk` itself). Bytes of an unfinished frame that could
   * still be the usage chunk are held until the frame ends. The filter keeps
   * views of the chunks it is given, so their bytes must not change later.
   */
  push(chunk: Uint8Array): Uint8Array;
  /** Ends the stream and returns any held bytes, unchanged. */
  end(): Uint8Array;
  /** The scanner feeding the observer; read `endedMidFrame`/`oversizeFrames` from it. */
  readonly scanner: SseScanner;
  /** Usage-only frames removed so far. */
  readonly removedFrames: number;
}

/** Options for {@linkcode createUsageChunkFilter}. */
export interface UsageChunkFilterOptions {
  /** Frame size cap; defaults to {@linkcode MAX_SSE_FRAME_BYTES}. */
  maxFrameBytes?: number;
}

/**
 * Creates a filter that forwards every byte except those of usage-only chunk
 * frames (including their closing blank line). It scans the stream once and
 * feeds every frame, removed ones included, to `observer` (an OpenAI stream
 * observer), whose verdict decides what is removed; the proxy needs no second
 * {@linkcode SseScanner}.
 *
 * Best effort by design, never at the cost of the bytes: a frame is removed
 * whole or forwarded whole. Until a `finish_reason` has been seen, unfinished
 * frames are forwarded as they arrive (the usage chunk follows the finish
 * chunk), so an early usage-only chunk that is split across reads passes
 * through; so does a usage object inside a content chunk, which some
 * compatible providers send.
 */
export function createUsageChunkFilter(
  observer: StreamObserver,
  options: UsageChunkFilterOptions = {},
): UsageChunkFilter {
  return new Filter(observer, options.maxFrameBytes ?? MAX_SSE_FRAME_BYTES);
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

class Filter implements UsageChunkFilter {
  removedFrames = 0;
  readonly scanner: SseScanner;
  readonly #observer: StreamObserver;
  readonly #maxHeld: number;
  // Views of the unfinished frame from earlier chunks, not yet forwarded.
  #held: Uint8Array[] = [];
  #heldLen = 0;
  // The unfinished frame is known not to be a usage chunk and is forwarded as it comes.
  #committed = false;
  #usageOnly = false;
  // A frame ended on a chunk-final `\r`; a leading `\n` next belongs to it.
  #lfAfterCR: "keep" | "drop" | undefined = undefined;
  // Per push: the chunk, start of the current frame, start of the pending kept run.
  #chunk: Uint8Array = EMPTY;
  #segStart = 0;
  #runStart = 0;
  #out: Uint8Array[] = [];

  constructor(observer: StreamObserver, maxFrameBytes: number) {
    this.#observer = observer;
    this.#maxHeld = maxFrameBytes;
    this.scanner = new SseScanner((frame) => this.#frame(frame), {
      maxFrameBytes,
      onBoundary: (endOffset) => this.#boundary(endOffset),
    });
  }

  push(chunk: Uint8Array): Uint8Array {
    const n = chunk.length;
    this.#chunk = chunk;
    this.#segStart = 0;
    this.#runStart = 0;
    const lf = this.#lfAfterCR;
    this.#lfAfterCR = undefined;
    if (lf !== undefined && n > 0 && chunk[0] === LF) {
      this.#segStart = 1;
      if (lf === "drop") this.#runStart = 1;
    }
    this.scanner.push(chunk);
    const tail = this.#segStart;
    if (tail < n && !this.#committed) {
      // Frame edges rarely match chunk edges. The usage chunk comes after the
      // chunk with the finish_reason, so until then, or once the unfinished
      // frame visibly carries choices, forward it at once; otherwise hold it.
      if (
        this.#observer.finishReason === undefined || isContentChunkStart(chunk, tail) ||
        this.#heldLen + (n - tail) > this.#maxHeld
      ) {
        this.#commit();
      } else {
        this.#emit(this.#runStart, tail);
        this.#held.push(chunk.subarray(tail));
        this.#heldLen += n - tail;
        return this.#flush();
      }
    }
    this.#emit(this.#runStart, n);
    return this.#flush();
  }

  end(): Uint8Array {
    this.scanner.end();
    const held = this.#held;
    this.#held = [];
    this.#heldLen = 0;
    return concatBytes(held);
  }

  #frame(frame: SseFrame): void {
    this.#observer.onFrame(frame);
    if (this.#observer.lastFrameUsageOnly) this.#usageOnly = true;
  }

  /** The unfinished frame cannot be dropped any more: forward what is held of it. */
  #commit(): void {
    this.#committed = true;
    if (this.#heldLen > 0) {
      // Held bytes start the first frame of this chunk: nothing of the chunk is out yet.
      for (const part of this.#held) this.#out.push(part);
      this.#held = [];
      this.#heldLen = 0;
    }
  }

  /** A blank line ended the frame `[segStart, endOffset)` (plus any held bytes). */
  #boundary(endOffset: number): void {
    if (endOffset < 0) return; // flushed by end(): held bytes are forwarded as they are
    const drop = this.#usageOnly && !this.#committed;
    this.#usageOnly = false;
    if (drop) {
      this.removedFrames++;
      this.#emit(this.#runStart, this.#segStart);
      this.#runStart = endOffset;
      this.#held = [];
      this.#heldLen = 0;
    } else if (!this.#committed) {
      this.#commit();
    }
    this.#committed = false;
    this.#segStart = endOffset;
    const chunk = this.#chunk;
    if (endOffset === chunk.length && chunk[endOffset - 1] === CR) {
      this.#lfAfterCR = drop ? "drop" : "keep";
    }
  }

  #emit(from: number, to: number): void {
    if (to <= from) return;
    const chunk = this.#chunk;
    this.#out.push(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
  }

  #flush(): Uint8Array {
    const out = this.#out;
    const result = concatBytes(out);
    if (out.length > 0) this.#out = [];
    this.#chunk = EMPTY;
    return result;
  }
}

const CHOICES = [0x63, 0x68, 0x6f, 0x69, 0x63, 0x65, 0x73]; // `choices`

/**
 * True when `bytes[from..]` shows a `"choices":[{` key, so the frame being
 * read has at least one choice and is not a usage-only chunk. Inside JSON
 * strings quotes are escaped, so this pattern only matches a real key.
 */
function isContentChunkStart(bytes: Uint8Array, from: number): boolean {
  const n = bytes.length;
  for (let at = bytes.indexOf(0x5b, from); at !== -1; at = bytes.indexOf(0x5b, at + 1)) {
    let i = at - 1;
    while (i >= from && isSpace(bytes[i])) i--;
    if (i < from || bytes[i] !== 0x3a) continue;
    i--;
    while (i >= from && isSpace(bytes[i])) i--;
    if (i - 8 < from || bytes[i] !== 0x22 || bytes[i - 8] !== 0x22) continue;
    let matches = true;
    for (let k = 0; k < 7; k++) {
      if (bytes[i - 7 + k] !== CHOICES[k]) {
        matches = false;
        break;
      }
    }
    if (!matches) continue;
    let j = at + 1;
    while (j < n && isSpace(bytes[j])) j++;
    return j < n && bytes[j] === 0x7b;
  }
  return false;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

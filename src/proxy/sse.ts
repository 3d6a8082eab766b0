/**
 * Incremental server-sent-events scanner for the proxy's usage tap.
 *
 * The proxy forwards upstream bytes unchanged; this module only observes them.
 * Line and field rules follow the WHATWG HTML "event stream interpretation"
 * section: `\n`, `\r\n` and `\r` end a line, a blank line dispatches, lines
 * starting with `:` are comments, one space after the colon is dropped, and
 * several `data:` lines are joined with `\n`.
 *
 * How it stays cheap (see `sse_bench.ts`): each chunk is decoded with one
 * `TextDecoder` call and lines are found with `String#indexOf`, several times
 * faster than `Uint8Array#indexOf` plus one decode call per line. Byte offsets
 * (for the frame cap and for {@linkcode SseScannerOptions.onBoundary}) stay
 * exact: in a pure-ASCII chunk a character index is a byte index; otherwise a
 * byte search for the same terminator starts where it can first be, a few
 * bytes before it, because decoding never merges or drops CR and LF bytes. A
 * line cut by a chunk edge is carried as text, or as bytes when the edge cuts
 * a multi-byte character, and completed when its end arrives.
 *
 * @module
 */

/** One dispatched event: the joined `data:` lines and the last `event:` name. */
export interface SseFrame {
  event?: string;
  data: string;
}

/**
 * Largest frame we parse (04 §4.2). Bigger frames are still forwarded by the
 * proxy but skipped here and counted in {@linkcode SseScanner.oversizeFrames},
 * so a hostile or broken upstream cannot make the tap buffer without bound.
 */
export const MAX_SSE_FRAME_BYTES = 64 * 1024;

/** Options for {@linkcode SseScanner}. */
export interface SseScannerOptions {
  /** Frame size cap in bytes; defaults to {@linkcode MAX_SSE_FRAME_BYTES}. */
  maxFrameBytes?: number;
  /**
   * Called at every blank line, after `onFrame` when the block had data.
   * `endOffset` is the index in the chunk being pushed just past the blank
   * line's terminator, or -1 when the block is flushed by `end()`.
   */
  onBoundary?: (endOffset: number) => void;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = 0xfeff;
const EMPTY = new Uint8Array(0);
const ENCODER = new TextEncoder();

/** Scans SSE bytes chunk by chunk and calls `onFrame` for each complete event. */
export class SseScanner {
  /** Frames dropped because they exceeded the size cap. */
  oversizeFrames = 0;
  /** True after `end()` when the stream stopped inside a frame (no closing blank line). */
  endedMidFrame = false;

  readonly #onFrame: (frame: SseFrame) => void;
  readonly #onBoundary: ((endOffset: number) => void) | undefined;
  readonly #maxFrameBytes: number;
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  // A line that continues in the next chunk, as text while no chunk edge has
  // cut a character (the usual case), else as bytes; never holds a terminator.
  #carryText: string | undefined = undefined;
  #carryTextBytes = 0;
  #carry: Uint8Array = EMPTY;
  #carryLen = 0;
  #skippingLine = false;
  #afterCR = false;
  #atStreamStart = true;
  #frameBytes = 0;
  #oversize = false;
  #inFrame = false;
  #data: string | undefined = undefined;
  #event: string | undefined = undefined;
  #ended = false;

  constructor(onFrame: (frame: SseFrame) => void, options: SseScannerOptions = {}) {
    this.#onFrame = onFrame;
    this.#onBoundary = options.onBoundary;
    this.#maxFrameBytes = options.maxFrameBytes ?? MAX_SSE_FRAME_BYTES;
  }

  /** Feeds the next chunk exactly as it is forwarded; callbacks run synchronously. */
  push(chunk: Uint8Array): void {
    if (this.#ended) throw new Error("Cannot push to an SseScanner: it has ended");
    const n = chunk.length;
    let b = 0; // byte offset in chunk
    if (this.#afterCR && n > 0) {
      this.#afterCR = false;
      if (chunk[0] === LF) b = 1; // second half of a `\r\n` split across chunks
    }
    if (b === n) return;
    const text = this.#decoder.decode(chunk);
    const ascii = text.length === n; // every byte became one UTF-16 unit
    let p = b; // char offset in text; equals b while ascii
    let nextLF = text.indexOf("\n", p);
    let nextCR = text.indexOf("\r", p);
    while (nextLF !== -1 || nextCR !== -1) {
      const isCR = nextLF === -1 || (nextCR !== -1 && nextCR < nextLF);
      const t = isCR ? nextCR : nextLF;
      const carried = this.#carryText !== undefined || this.#carryLen > 0 ||
        this.#skippingLine;
      // A UTF-16 unit never comes from fewer than one byte, so the terminator's
      // byte offset is at least b + (t - p): search from there, a few bytes at most.
      const tb = ascii ? t : chunk.indexOf(isCR ? CR : LF, b + t - p);
      let len = 1;
      if (isCR) {
        if (t + 1 === text.length) this.#afterCR = true; // an LF may start the next chunk
        else if (text.charCodeAt(t + 1) === LF) len = 2;
      }
      if (carried) this.#lineWithCarry(chunk, b, tb, text.slice(p, t), tb + len);
      else this.#textLine(text, p, t, tb - b, tb + len);
      p = t + len;
      b = tb + len;
      if (nextLF !== -1 && nextLF < p) nextLF = text.indexOf("\n", p);
      if (nextCR !== -1 && nextCR < p) nextCR = text.indexOf("\r", p);
    }
    if (b < n) this.#keepTail(chunk, b, text, p);
  }

  /**
   * Marks the end of the stream. A frame still open at EOF is flushed (so a
   * provider that omits the final blank line after `[DONE]` is not misread) and
   * reported through {@linkcode SseScanner.endedMidFrame}.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#skippingLine) {
      this.#skippingLine = false;
      this.#inFrame = true;
    } else if (this.#carryText !== undefined) {
      const line = this.#carryText;
      this.#carryText = undefined;
      this.#carriedLine(line, this.#carryTextBytes, -1);
    } else if (this.#carryLen > 0) {
      const len = this.#carryLen;
      this.#carryLen = 0;
      this.#byteLine(this.#carry, len, -1);
    }
    if (this.#inFrame || this.#oversize || this.#data !== undefined) {
      this.endedMidFrame = true;
      this.#dispatch(-1);
    }
    this.#carry = EMPTY;
  }

  /** Completes the carried line with `chunk[from, to)` (decoded: `head`) and interprets it. */
  #lineWithCarry(chunk: Uint8Array, from: number, to: number, head: string, next: number): void {
    if (this.#skippingLine) {
      this.#skippingLine = false; // tail of an oversized line: not a blank line
      return;
    }
    if (this.#carryText !== undefined) {
      const line = this.#carryText + head;
      const bytes = this.#carryTextBytes + to - from;
      this.#carryText = undefined;
      this.#carryTextBytes = 0;
      this.#carriedLine(line, bytes, next);
      return;
    }
    if (!this.#fits(to - from)) return;
    this.#appendBytes(chunk, from, to);
    const len = this.#carryLen;
    this.#carryLen = 0;
    this.#byteLine(this.#carry, len, next);
  }

  /** Keeps `chunk[from..]`, the start of a line that ends in a later chunk. */
  #keepTail(chunk: Uint8Array, from: number, text: string, p: number): void {
    if (this.#skippingLine || !this.#fits(chunk.length - from)) return;
    if (this.#carryLen === 0 && chunk[chunk.length - 1] < 0x80) {
      // The chunk ends on a whole character, so its decoded tail is exact.
      this.#carryText = this.#carryText === undefined
        ? text.slice(p)
        : this.#carryText + text.slice(p);
      this.#carryTextBytes += chunk.length - from;
      return;
    }
    if (this.#carryText !== undefined) {
      const carried = ENCODER.encode(this.#carryText);
      this.#carryText = undefined;
      this.#carryTextBytes = 0;
      this.#appendBytes(carried, 0, carried.length);
    }
    this.#appendBytes(chunk, from, chunk.length);
  }

  /** False (and the rest of the line skipped) when `more` carried bytes would pass the cap. */
  #fits(more: number): boolean {
    if (this.#frameBytes + this.#carryTextBytes + this.#carryLen + more <= this.#maxFrameBytes) {
      return true;
    }
    this.#carryText = undefined;
    this.#carryTextBytes = 0;
    this.#carryLen = 0;
    this.#skippingLine = true;
    this.#markOversize();
    return false;
  }

  #appendBytes(src: Uint8Array, from: number, to: number): void {
    const at = this.#carryLen;
    const need = at + (to - from);
    if (need > this.#carry.length) {
      const grown = new Uint8Array(Math.max(need, this.#carry.length * 2, 1024));
      grown.set(this.#carry.subarray(0, at));
      this.#carry = grown;
    }
    const carry = this.#carry;
    for (let i = from, j = at; i < to; i++, j++) carry[j] = src[i];
    this.#carryLen = need;
  }

  /** Interprets the line `text[start, end)` of `bytes` bytes; `next` is the offset after it. */
  #textLine(text: string, start: number, end: number, bytes: number, next: number): void {
    if (this.#atStreamStart) {
      this.#atStreamStart = false;
      if (start < end && text.charCodeAt(start) === BOM) {
        start++; // WHATWG: one leading byte order mark is skipped
        bytes -= 3;
      }
    }
    if (start === end) {
      this.#dispatch(next);
      return;
    }
    if (!this.#count(bytes)) return;
    const first = text.charCodeAt(start);
    if (first === 0x64 && isTextField(text, start, end, "data")) {
      this.#addData(textValue(text, start + 4, end));
    } else if (first === 0x65 && isTextField(text, start, end, "event")) {
      this.#inFrame = true;
      this.#event = textValue(text, start + 5, end);
    } else if (first !== COLON) {
      this.#inFrame = true; // `id`, `retry` and unknown fields carry nothing we observe
    }
  }

  /**
   * Like `#textLine` for a line joined from two chunks. Kept apart on purpose:
   * joined strings have other internal shapes than decoded chunks, and mixing
   * them makes V8's property caches in the per-line hot path megamorphic.
   */
  #carriedLine(line: string, bytes: number, next: number): void {
    if (this.#atStreamStart) {
      this.#atStreamStart = false;
      if (line.charCodeAt(0) === BOM) {
        line = line.slice(1);
        bytes -= 3;
      }
    }
    if (line.length === 0) {
      this.#dispatch(next);
      return;
    }
    if (!this.#count(bytes)) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === SPACE) value = value.slice(1);
    if (field === "data") {
      this.#addData(value);
    } else if (field === "event") {
      this.#inFrame = true;
      this.#event = value;
    } else if (colon !== 0) {
      this.#inFrame = true;
    }
  }

  /** Like `#textLine` for a line assembled from carried bytes `buf[0, end)`. */
  #byteLine(buf: Uint8Array, end: number, next: number): void {
    let start = 0;
    if (this.#atStreamStart) {
      this.#atStreamStart = false;
      if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
    }
    if (start === end) {
      this.#dispatch(next);
      return;
    }
    if (!this.#count(end - start)) return;
    const first = buf[start];
    if (first === 0x64 && isByteField(buf, start, end, DATA_NAME)) {
      this.#addData(this.#byteValue(buf, start + 4, end));
    } else if (first === 0x65 && isByteField(buf, start, end, EVENT_NAME)) {
      this.#inFrame = true;
      this.#event = this.#byteValue(buf, start + 5, end);
    } else if (first !== COLON) {
      this.#inFrame = true;
    }
  }

  /** Adds a line to the frame size; false when the frame is (now) over the cap. */
  #count(lineBytes: number): boolean {
    if (this.#oversize) return false;
    this.#frameBytes += lineBytes + 1;
    if (this.#frameBytes <= this.#maxFrameBytes) return true;
    this.#markOversize();
    return false;
  }

  #addData(value: string): void {
    this.#inFrame = true;
    this.#data = this.#data === undefined ? value : this.#data + "\n" + value;
  }

  #markOversize(): void {
    this.#oversize = true;
    this.#inFrame = true;
    this.#data = undefined;
    this.#event = undefined;
  }

  /** Decodes the value after a field name ending at `nameEnd`. */
  #byteValue(buf: Uint8Array, nameEnd: number, end: number): string {
    let from = nameEnd + 1; // skip the colon
    if (from < end && buf[from] === SPACE) from++;
    if (from >= end) return "";
    return this.#decoder.decode(buf.subarray(from, end));
  }

  #dispatch(endOffset: number): void {
    const data = this.#data;
    const event = this.#event;
    const oversize = this.#oversize;
    this.#data = undefined;
    this.#event = undefined;
    this.#oversize = false;
    this.#inFrame = false;
    this.#frameBytes = 0;
    if (oversize) this.oversizeFrames++;
    else if (data !== undefined) this.#onFrame({ event, data });
    this.#onBoundary?.(endOffset);
  }
}

/** True when the line is exactly `name` or starts with `name:`. */
function isTextField(text: string, start: number, end: number, name: string): boolean {
  const len = name.length;
  if (end - start < len || !text.startsWith(name, start)) return false;
  return end - start === len || text.charCodeAt(start + len) === COLON;
}

function textValue(text: string, nameEnd: number, end: number): string {
  let from = nameEnd + 1;
  if (from < end && text.charCodeAt(from) === SPACE) from++;
  return from >= end ? "" : text.slice(from, end);
}

const DATA_NAME = [0x64, 0x61, 0x74, 0x61];
const EVENT_NAME = [0x65, 0x76, 0x65, 0x6e, 0x74];

function isByteField(buf: Uint8Array, start: number, end: number, name: number[]): boolean {
  const len = name.length;
  if (end - start < len) return false;
  for (let i = 1; i < len; i++) if (buf[start + i] !== name[i]) return false;
  return end - start === len || buf[start + len] === COLON;
}

/**
 * Streaming relay: upstream SSE bytes go to the client as they arrive,
 * unchanged, while a side scanner extracts usage and completion. The head is
 * held until the first content frame (or a short bound), so an error event
 * that opens a 200 stream can still fail over to another account
 * (09-decisions). A stream that is cut or goes silent never ends cleanly: the
 * client gets the protocol's error event, then the connection closes.
 */
import { SseScanner } from "./sse.ts";
import { classifyStreamEnd, createStreamObserver, errorEvent } from "./usage.ts";
import type { StreamCompletionPolicy, StreamObserver, Wire } from "./usage.ts";
import { createUsageChunkFilter } from "./include_usage.ts";
import type { Deadline, Deadlines } from "./deadlines.ts";
import type { StreamTranslator } from "./translate/stream.ts";

/** How a relayed stream ended. */
export type RelayEndKind =
  | "complete"
  | "upstream_error_event"
  | "truncated"
  | "idle_timeout"
  | "client_gone"
  | "shutdown";

/** Passed to `onEnd` exactly once. */
export interface RelayEnd {
  kind: RelayEndKind;
  observer: StreamObserver;
  /** Bytes written to the client, our own error event included. */
  bytesOut: number;
  firstByteAt?: number;
}

/** Options for {@linkcode openRelay}. */
export interface RelayOptions {
  /** The upstream's protocol: what the usage tap reads. */
  protocol: Wire;
  /** The client's protocol, when it differs (the error events we write are in it). */
  clientProtocol?: Wire;
  /** Rewrites the upstream's frames into the client's protocol, frame by frame. */
  translator?: StreamTranslator;
  upstream: Response;
  /** Aborts the upstream fetch (client gone, idle timeout, shutdown). */
  abortUpstream(reason: unknown): void;
  /** True once a server shutdown has asked streams to end. */
  isShuttingDown(): boolean;
  /**
   * Aborted when the server stops waiting for streams (the end of the
   * shutdown grace). The caller's own abort listeners are gone once the body
   * is handed over, so the relay listens itself: an open stream then ends
   * with the protocol's error event and is finalized, even while its client
   * is not reading.
   */
  shutdown?: AbortSignal;
  idleTimeoutMs: number;
  /** The shared timer the idle deadline is kept on (re-armed per chunk, not re-created). */
  deadlines: Deadlines;
  /** Longest wait for the first content frame before handing the stream over anyway. */
  holdTimeoutMs: number;
  /** Most bytes held before the first content frame; past it the relay gives up (`too_large`). */
  maxHoldBytes?: number;
  /** Remove the usage-only chunk we asked for on the client's behalf. */
  stripUsageChunk: boolean;
  completionPolicy?: StreamCompletionPolicy;
  clock: () => number;
  onEnd(end: RelayEnd): void;
}

/** The result of opening a relay: a body to send, or an error that came before any content. */
export type RelayOpen =
  | { ok: true; body: ReadableStream<Uint8Array> }
  | {
    ok: false;
    reason: "error_before_content" | "ended_before_content" | "transport" | "too_large";
    observer: StreamObserver;
  };

class IdleTimeout extends Error {
  constructor() {
    super("Upstream stream went silent");
    this.name = "IdleTimeout";
  }
}

/**
 * Size of each stream's read buffer. A default reader on a fetch body
 * allocates a fresh 64 KiB buffer for every read, however few bytes arrive,
 * and the chunk it returns keeps all of it alive until a garbage collection;
 * an SSE token is a few hundred bytes, so a long answer made hundreds of
 * megabytes of short-lived native memory. Reading into one buffer per stream
 * and copying out exactly what arrived costs a small copy instead.
 */
const READ_BUFFER_BYTES = 16_384;

/**
 * Read buffers of streams that reached their end, handed to the next streams.
 * A buffer lives as long as its stream, so under load many of them outlive a
 * young-generation collection, get promoted, and their native memory stays
 * allocated until the next full collection. At 64 concurrent streams native
 * array-buffer memory (`Deno.memoryUsage().external`) peaked at 4.2 MB with a
 * new buffer per stream and 3.2 MB with reuse. Reused, the buffers are as many
 * as the streams at the busiest moment, up to this cap.
 */
const spareBuffers: Uint8Array<ArrayBuffer>[] = [];
const MAX_SPARE_BUFFERS = 256;

/** Reads upstream chunks with an idle deadline; `next()` returns undefined at EOF. */
class UpstreamReader {
  idleFired = false;
  readonly #o: RelayOptions;
  /** A BYOB reader and the buffer it fills, when the body is a byte stream (fetch bodies are). */
  readonly #byob?: ReadableStreamBYOBReader;
  #buffer?: Uint8Array<ArrayBuffer>;
  #cancelled = false;
  readonly #reader?: ReadableStreamDefaultReader<Uint8Array>;

  constructor(o: RelayOptions) {
    this.#o = o;
    const body = o.upstream.body!;
    try {
      this.#byob = body.getReader({ mode: "byob" });
      this.#buffer = spareBuffers.pop() ?? new Uint8Array(READ_BUFFER_BYTES);
    } catch {
      this.#reader = body.getReader();
    }
  }

  async #read(): Promise<Uint8Array | undefined> {
    if (this.#byob === undefined) {
      const r = await this.#reader!.read();
      return r.done ? undefined : r.value;
    }
    const r = await this.#byob.read(this.#buffer!);
    if (r.value !== undefined) this.#buffer = new Uint8Array(r.value.buffer);
    if (r.done) {
      if (!this.#cancelled) this.#spareBuffer();
      return undefined;
    }
    return r.value.slice();
  }

  /**
   * At the end of the body the buffer is ours again (a read gives it back
   * whole, even an empty final one): keep it for the next stream. Not after
   * a cancel: a read the runtime had already started could still write into
   * the buffer after the stream handed it back, into another stream's bytes.
   */
  #spareBuffer(): void {
    const buffer = this.#buffer;
    this.#buffer = undefined;
    if (
      buffer !== undefined && buffer.byteLength === READ_BUFFER_BYTES &&
      spareBuffers.length < MAX_SPARE_BUFFERS
    ) {
      spareBuffers.push(buffer);
    }
  }

  #idle?: Deadline;

  async next(timeoutMs: number): Promise<Uint8Array | undefined> {
    const { deadlines } = this.#o;
    if (this.#idle === undefined) {
      this.#idle = deadlines.add(timeoutMs, () => {
        this.idleFired = true;
        this.#o.abortUpstream(new IdleTimeout());
      });
    } else deadlines.arm(this.#idle, timeoutMs);
    let chunk: Uint8Array | undefined;
    try {
      // An empty read (a zero-length chunk) is not the end; keep waiting.
      do chunk = await this.#read(); while (chunk !== undefined && chunk.byteLength === 0);
    } catch (error) {
      this.#release();
      throw error;
    }
    if (chunk === undefined) {
      this.#release();
      return undefined;
    }
    this.#idle.at = Infinity;
    return chunk;
  }

  #release(): void {
    if (this.#idle !== undefined) this.#o.deadlines.clear(this.#idle);
  }

  cancel(): void {
    this.#cancelled = true;
    this.#release();
    (this.#byob ?? this.#reader)!.cancel().catch(() => {});
  }
}

/**
 * Starts relaying `upstream`. Before any content it may return `ok: false`
 * (the caller can then try another account; `onEnd` is not called). Once it
 * returns a body, `onEnd` is called exactly once when the stream ends.
 */
export async function openRelay(o: RelayOptions): Promise<RelayOpen> {
  const observer = createStreamObserver(o.protocol, { clock: o.clock });
  const filter = o.stripUsageChunk ? createUsageChunkFilter(observer) : undefined;
  const t = o.translator;
  const scanner = filter?.scanner ?? new SseScanner(
    t === undefined ? (f) => observer.onFrame(f) : (f) => {
      observer.onFrame(f);
      t.onFrame(f);
    },
  );
  const feed = filter ? (c: Uint8Array) => filter.push(c) : t !== undefined
    ? (c: Uint8Array) => {
      scanner.push(c);
      return t.take();
    }
    : (c: Uint8Array) => {
      scanner.push(c);
      return c;
    };
  const upstream = new UpstreamReader(o);

  // Hold phase: buffer until the first content frame, an error, EOF or the bound.
  const held: Uint8Array[] = [];
  const holdUntil = o.clock() + o.holdTimeoutMs;
  const maxHold = o.maxHoldBytes ?? Infinity;
  let heldBytes = 0;
  let eof = false;
  try {
    while (!observer.sawContent && observer.terminal === "open") {
      const left = holdUntil - o.clock();
      if (left <= 0) break;
      const chunk = await upstream.next(Math.min(left, o.idleTimeoutMs));
      if (chunk === undefined) {
        eof = true;
        break;
      }
      const out = feed(chunk);
      if (out.length > 0) held.push(out);
      heldBytes += chunk.byteLength;
      if (heldBytes > maxHold) {
        // Frames without content piling up in memory: refuse rather than buffer on.
        upstream.cancel();
        return { ok: false, reason: "too_large", observer };
      }
    }
  } catch {
    // Cut or silent before any content: nothing reached the client, so another account may serve it.
    const reason = observer.sawPayload ? "ended_before_content" : "transport";
    return { ok: false, reason, observer };
  }
  if (!observer.sawContent && observer.terminal === "error") {
    upstream.cancel();
    return { ok: false, reason: "error_before_content", observer };
  }
  if (eof && !observer.sawContent && observer.terminal !== "done") {
    return { ok: false, reason: "ended_before_content", observer };
  }

  let bytesOut = 0;
  let firstByteAt: number | undefined;
  let ended = false;
  let onShutdown: (() => void) | undefined;
  const finish = (kind: RelayEndKind) => {
    if (ended) return;
    ended = true;
    if (onShutdown !== undefined) o.shutdown!.removeEventListener("abort", onShutdown);
    o.onEnd({ kind, observer, bytesOut, firstByteAt });
  };
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    firstByteAt ??= o.clock();
    bytesOut += bytes.length;
    controller.enqueue(bytes);
  };
  let tailFlushed = false;
  const flushTail = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (tailFlushed) return;
    tailFlushed = true;
    if (filter) send(controller, filter.end());
    else scanner.end();
    if (t !== undefined) send(controller, t.take());
  };
  const endWith = (
    controller: ReadableStreamDefaultController<Uint8Array>,
    kind: RelayEndKind,
  ) => {
    flushTail(controller);
    // A clean end the translator has not closed yet gets the client protocol's closing frames.
    if (kind === "complete" && t !== undefined) send(controller, t.finish());
    if (kind !== "complete" && kind !== "upstream_error_event") {
      const message = kind === "idle_timeout"
        ? `The upstream stream sent nothing for ${Math.round(o.idleTimeoutMs / 1000)} s`
        : kind === "shutdown"
        ? "EggPool is shutting down"
        : "The upstream closed the stream before it was complete";
      send(
        controller,
        errorEvent(o.clientProtocol ?? o.protocol, {
          type: "api_error",
          message,
          responseId: observer.responseId,
          model: observer.model,
          sequenceNumber: observer.payloadFrames,
        }),
      );
    }
    controller.close();
    finish(kind);
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of held) send(controller, chunk);
      if (eof) return endWith(controller, observer.terminal === "done" ? "complete" : "truncated");
      const shutdown = o.shutdown;
      if (shutdown === undefined) return;
      onShutdown = () => {
        if (ended) return;
        o.abortUpstream(new DOMException("EggPool is shutting down", "AbortError"));
        upstream.cancel();
        endWith(controller, "shutdown");
      };
      if (shutdown.aborted) onShutdown();
      else shutdown.addEventListener("abort", onShutdown);
    },
    async pull(controller) {
      // Loop until something is enqueued: a chunk the filter swallows whole must not stall the reader.
      while (!ended) {
        let chunk: Uint8Array | undefined;
        try {
          chunk = await upstream.next(o.idleTimeoutMs);
        } catch {
          if (ended) return;
          const kind = upstream.idleFired
            ? "idle_timeout"
            : o.isShuttingDown()
            ? "shutdown"
            : "truncated";
          return endWith(controller, kind);
        }
        // Shutdown may have ended the stream while this read was pending.
        if (ended) return;
        if (chunk === undefined) {
          flushTail(controller);
          const end = classifyStreamEnd(observer, scanner, o.completionPolicy ?? "strict");
          const kind: RelayEndKind = end === "complete" || end === "compatibility_eof"
            ? "complete"
            : end === "terminal_error"
            ? "upstream_error_event"
            : "truncated";
          return endWith(controller, kind);
        }
        const out = feed(chunk);
        if (out.length > 0) return send(controller, out);
      }
    },
    cancel() {
      o.abortUpstream(new DOMException("Client disconnected", "AbortError"));
      upstream.cancel();
      finish("client_gone");
    },
  }, { highWaterMark: 0 });
  return { ok: true, body };
}

/**
 * Paced response bodies for the mock upstream: delays, awkward byte splits,
 * cuts and stalls. Every timer is tied to an abort signal so an aborted client
 * or a closed mock never leaves one running.
 */
import type { MockOutcome } from "./_mock_types.ts";

/** Thrown into a body stream to cut the connection on purpose; the server swallows it. */
export class MockDropError extends Error {
  constructor(message = "Mock upstream cut the connection") {
    super(message);
    this.name = "MockDropError";
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts (the timer is cleared). */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

/** How to deliver a list of frames. Frame indexes count from 0. */
export interface PacedBodyOptions {
  frames: readonly string[];
  firstByteDelayMs: number;
  frameDelayMs: number;
  dropAfterFrames?: number;
  stallAfterFrames?: number;
  /** Sent in place of frame `afterFrames`; the body then ends cleanly. */
  errorFrame?: { afterFrames: number; frame: string };
  chunkSplit?: "bytes" | number;
  crlf: boolean;
  /** Aborts when the mock closes. */
  shutdown: AbortSignal;
  onFrameWritten(index: number): void;
  settle(outcome: MockOutcome): void;
}

const ENCODER = new TextEncoder();

/**
 * Cut points chosen to hurt parsers: after the first byte, before the first
 * newline, mid-frame, inside the first multi-byte UTF-8 sequence, and between
 * the two bytes that end the frame.
 */
function awkwardCuts(bytes: Uint8Array): number[] {
  const cuts = [1, bytes.indexOf(0x0a), bytes.length >> 1, bytes.length - 1];
  const lead = bytes.findIndex((byte) => byte >= 0xc0);
  if (lead >= 0) cuts.push(lead + 1);
  return [...new Set(cuts)].filter((cut) => cut > 0 && cut < bytes.length).sort((a, b) => a - b);
}

function pieces(bytes: Uint8Array, split: "bytes" | number): Uint8Array[] {
  const cuts = split === "bytes" ? awkwardCuts(bytes) : [];
  if (typeof split === "number") {
    for (let at = Math.max(1, split); at < bytes.length; at += Math.max(1, split)) cuts.push(at);
  }
  const out: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(bytes.subarray(from, cut));
    from = cut;
  }
  return out;
}

/** A body that plays `options.frames` with the scripted timing and faults. */
export function pacedBody(options: PacedBodyOptions): ReadableStream<Uint8Array> {
  const local = new AbortController();
  const onShutdown = () => local.abort("shutdown");
  options.shutdown.addEventListener("abort", onShutdown, { once: true });
  let settled = false;
  const settle = (outcome: MockOutcome) => {
    if (settled) return;
    settled = true;
    options.shutdown.removeEventListener("abort", onShutdown);
    options.settle(outcome);
  };

  async function write(controller: ReadableStreamDefaultController<Uint8Array>, frame: string) {
    const bytes = ENCODER.encode(options.crlf ? frame.replaceAll("\n", "\r\n") : frame);
    if (options.chunkSplit === undefined) {
      controller.enqueue(bytes);
      return true;
    }
    const parts = pieces(bytes, options.chunkSplit);
    for (let i = 0; i < parts.length; i++) {
      // A macrotask between pieces, or the transport coalesces them into one write.
      if (i > 0 && !(await sleep(0, local.signal))) return false;
      controller.enqueue(parts[i]);
    }
    return true;
  }

  function end(controller: ReadableStreamDefaultController<Uint8Array>) {
    if (local.signal.reason === "shutdown") {
      try {
        controller.error(new MockDropError("Mock upstream closed"));
      } catch {
        // Already cancelled by the client.
      }
      settle("shutdown");
    } else {
      settle("aborted");
    }
  }

  async function pump(controller: ReadableStreamDefaultController<Uint8Array>) {
    const { frames, errorFrame } = options;
    const signal = local.signal;
    if (options.firstByteDelayMs > 0 && !(await sleep(options.firstByteDelayMs, signal))) {
      return end(controller);
    }
    for (let i = 0; i <= frames.length; i++) {
      if (i === errorFrame?.afterFrames) {
        if (!(await write(controller, errorFrame.frame))) return end(controller);
        controller.close();
        return settle("error");
      }
      if (i === options.dropAfterFrames) {
        controller.error(new MockDropError());
        return settle("dropped");
      }
      if (i === options.stallAfterFrames) {
        await waitForAbort(signal);
        return end(controller);
      }
      if (i === frames.length) break;
      if (i > 0 && options.frameDelayMs > 0 && !(await sleep(options.frameDelayMs, signal))) {
        return end(controller);
      }
      if (signal.aborted || !(await write(controller, frames[i]))) return end(controller);
      options.onFrameWritten(i);
    }
    controller.close();
    settle("completed");
  }

  return new ReadableStream<Uint8Array>({
    start(controller) {
      pump(controller).catch(() => end(controller));
    },
    cancel() {
      local.abort("client");
    },
  });
}

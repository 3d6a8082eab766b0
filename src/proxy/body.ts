import { ProxyError } from "../core/errors.ts";
import { concatBytes } from "../core/bytes.ts";
import type { HeaderReader } from "../core/headers.ts";
import type { Deadline, Deadlines } from "./deadlines.ts";

/** The 413 raised when a request body passes the configured cap. */
export function bodyTooLarge(maxBytes: number): ProxyError {
  return new ProxyError(
    "payload_too_large",
    `Request body too large: the limit is ${maxBytes} bytes ([server].max_request_body_bytes)`,
    { status: 413 },
  );
}

/**
 * The 408 for a body that did not arrive in time. The client may still be
 * sending: the server answers and closes the connection rather than wait for
 * the rest, which is what a slow-body (slowloris) client counts on.
 */
export function bodyTimedOut(timeoutMs: number): ProxyError {
  return new ProxyError(
    "invalid_request",
    `Request body not received within ${timeoutMs / 1000} s ([server].body_timeout_s): ` +
      "send the whole body, matching its content-length",
    { status: 408, code: "request_timeout" },
  );
}

/**
 * Status recorded for a client that went away while its body was read: the
 * client's doing, so the run is finalized as cancelled, not as a 500 of ours.
 */
export const CLIENT_CLOSED_STATUS = 499;

function clientClosed(cause: unknown): ProxyError {
  return new ProxyError(
    "invalid_request",
    "The client closed the connection before sending the whole request body",
    { status: CLIENT_CLOSED_STATUS, code: "client_disconnected", cause },
  );
}

/**
 * Reads a request body up to `maxBytes`, within `timeoutMs` when given. A
 * declared `content-length` over the cap is refused before reading; a body
 * that grows past it is cancelled at the first chunk that crosses the cap, so
 * the excess is never buffered. A body cut off by the client rejects with a
 * {@linkcode CLIENT_CLOSED_STATUS} error, a late one with a 408.
 */
export async function readBoundedBody(
  req: Request,
  maxBytes: number,
  headers: HeaderReader = req.headers,
  deadlines?: Deadlines,
  timeoutMs = 0,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw bodyTooLarge(maxBytes);
  if (req.body === null) return new Uint8Array(0);
  // A declared length within the cap: the server's framing stops the body at
  // that length, so one read of the whole body is safe (and cheaper than a
  // chunk loop).
  const reading = Number.isFinite(declared)
    ? req.bytes()
    : readChunks(req.body.getReader(), maxBytes);
  try {
    return deadlines && timeoutMs > 0
      ? await withDeadline(reading, deadlines, timeoutMs)
      : await reading;
  } catch (error) {
    throw error instanceof ProxyError ? error : clientClosed(error);
  }
}

async function withDeadline<T>(
  reading: Promise<T>,
  deadlines: Deadlines,
  timeoutMs: number,
): Promise<T> {
  let timer!: Deadline;
  const late = new Promise<never>((_, reject) => {
    timer = deadlines.add(timeoutMs, () => reject(bodyTimedOut(timeoutMs)));
  });
  try {
    return await Promise.race([reading, late]);
  } catch (error) {
    // After a timeout the read stays pending until the connection closes;
    // how it ends is of no interest any more.
    reading.catch(() => {});
    throw error;
  } finally {
    deadlines.clear(timer);
  }
}

async function readChunks(
  reader: ReadableStreamDefaultReader<Uint8Array<ArrayBuffer>>,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(maxBytes);
    }
    parts.push(value);
  }
  return concatBytes(parts);
}

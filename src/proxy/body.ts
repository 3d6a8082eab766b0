import { ProxyError } from "../core/errors.ts";
import { concatBytes } from "../core/bytes.ts";
import type { HeaderReader } from "../core/headers.ts";

/** The 413 raised when a request body passes the configured cap. */
export function bodyTooLarge(maxBytes: number): ProxyError {
  return new ProxyError(
    "payload_too_large",
    `Request body too large: the limit is ${maxBytes} bytes ([server].max_request_body_bytes)`,
    { status: 413 },
  );
}

/**
 * Reads a request body up to `maxBytes`. A declared `content-length` over the
 * cap is refused before reading; a body that grows past it is cancelled at
 * the first chunk that crosses the cap, so the excess is never buffered.
 */
export async function readBoundedBody(
  req: Request,
  maxBytes: number,
  headers: HeaderReader = req.headers,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw bodyTooLarge(maxBytes);
  if (req.body === null) return new Uint8Array(0);
  // A declared length within the cap: the server's framing stops the body at
  // that length, so one read of the whole body is safe (and cheaper than a
  // chunk loop).
  if (Number.isFinite(declared)) return await req.bytes();
  const reader = req.body.getReader();
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

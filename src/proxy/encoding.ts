/**
 * Response bodies in a content coding that Deno's fetch did not undo. Fetch
 * decodes `gzip` and `br` (the codings it asks for) but leaves the header in
 * place; a `deflate` body arrives still compressed (issue #12). The usage tap
 * and the client both need plain bytes, so `deflate` is inflated here; a
 * coding we cannot undo is passed through with its header.
 */

/** What to do about a response's `Content-Encoding`. */
export type EncodingPlan =
  /** The body is plain bytes (no coding, or one fetch already undid): drop the header. */
  | "plain"
  /** `deflate`: inflate the body here, then drop the header. */
  | "inflate"
  /** A coding nobody undid: keep the bytes and the header for the client. */
  | "opaque";

/** Classifies a `Content-Encoding` value (null when the header is absent). */
export function encodingPlan(value: string | null): EncodingPlan {
  if (value === null) return "plain";
  const v = value.trim().toLowerCase();
  if (v === "" || v === "identity" || v === "gzip" || v === "x-gzip" || v === "br") {
    return "plain";
  }
  return v === "deflate" ? "inflate" : "opaque";
}

/**
 * True when `bytes` starts with a zlib header (RFC 1950): compression method 8
 * and a check value that makes the first two bytes a multiple of 31. HTTP
 * `deflate` means zlib, but some servers send a raw deflate stream instead.
 */
function isZlib(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 2) return true;
  return (bytes[0] & 0x0f) === 8 && ((bytes[0] << 8) | bytes[1]) % 31 === 0;
}

/** Inflates an HTTP `deflate` body, zlib-wrapped or raw, as it streams. */
export function inflate(src: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = src.getReader();
  let out: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (out === undefined) {
        const first = await reader.read();
        if (first.done) return controller.close();
        const head = first.value;
        const rest = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(head);
          },
          async pull(c) {
            const r = await reader.read();
            if (r.done) c.close();
            else c.enqueue(r.value);
          },
          cancel(reason) {
            return reader.cancel(reason);
          },
        });
        const format = isZlib(head) ? "deflate" : "deflate-raw";
        // DecompressionStream is typed for any BufferSource; it is fed Uint8Arrays only.
        const inflater = new DecompressionStream(format) as unknown as TransformStream<
          Uint8Array,
          Uint8Array
        >;
        out = rest.pipeThrough(inflater).getReader();
      }
      const r = await out.read();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel(reason) {
      return (out ?? reader).cancel(reason);
    },
  });
}

/** `res` with its body inflated (status and headers kept), for a `deflate` response. */
export function inflated(res: Response): Response {
  if (res.body === null) return res;
  return new Response(inflate(res.body), { status: res.status, headers: res.headers });
}

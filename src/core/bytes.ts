/**
 * Joins byte chunks into one array, keeping at most `limit` bytes. A single
 * chunk within the limit is returned as it is, without a copy.
 */
export function concatBytes<B extends ArrayBufferLike>(
  parts: readonly Uint8Array<B>[],
  limit = Infinity,
): Uint8Array<B | ArrayBuffer> {
  let total = 0;
  for (const part of parts) total += part.byteLength;
  if (parts.length === 1 && total <= limit) return parts[0];
  const out = new Uint8Array(Math.min(total, limit));
  let at = 0;
  for (const part of parts) {
    if (at >= out.byteLength) break;
    const n = Math.min(part.byteLength, out.byteLength - at);
    out.set(n === part.byteLength ? part : part.subarray(0, n), at);
    at += n;
  }
  return out;
}

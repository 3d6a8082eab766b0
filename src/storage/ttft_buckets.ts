/**
 * The fixed TTFT histogram buckets of migration 0005 (`ttft_buckets`): lower
 * bounds in ms, 1 ms wide below 100 ms, then `floor(lo / 50)` ms wide (at
 * most 2 % of the lower bound) up to 10^9 ms. The migration builds the same
 * list with the same integer rule; a value goes to the bucket of the largest
 * bound at or below it (0 for a negative value).
 */

/** Every bucket's lower bound, ascending. */
export const TTFT_BOUNDS: Float64Array = (() => {
  const out: number[] = [0];
  while (out[out.length - 1] < 1_000_000_000) {
    const lo = out[out.length - 1];
    out.push(lo + Math.max(1, Math.floor(lo / 50)));
  }
  return Float64Array.from(out);
})();

/** The index in {@linkcode TTFT_BOUNDS} of the bucket that holds `ms`. */
export function ttftBucketIndex(ms: number): number {
  if (!(ms > 0)) return 0;
  // Below 100 ms every bound is its own index (1 ms wide buckets).
  if (ms < 100) return Math.floor(ms);
  let lo = 100;
  let hi = TTFT_BOUNDS.length - 1;
  // Largest index whose bound is <= ms.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (TTFT_BOUNDS[mid] <= ms) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The lower bound of the bucket that holds `ms`. */
export function ttftBucket(ms: number): number {
  return TTFT_BOUNDS[ttftBucketIndex(ms)];
}
